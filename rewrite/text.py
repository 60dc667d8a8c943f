"""Text plumbing shared by every backend: normalising, validating, splitting and diffing."""
from __future__ import annotations

import difflib
import re
import unicodedata

from rewrite.errors import DraftTooLongError, EmptyDraftError, InvalidDraftError
from rewrite.types import Edit

#: Longest draft the pipeline accepts, in characters. Longer drafts are refused with this number
#: in the message rather than truncated silently.
MAX_DRAFT_CHARS = 5000

#: Longest piece handed to a backend at once. Longer sentences are cut at commas, then at spaces,
#: then hard (never dropped): the seq2seq model has 256 positions, and no engine is trained on more.
MAX_SEGMENT_CHARS = 120

#: Largest ``len(a) * len(b)`` that :func:`diff_edits` compares character by character. difflib
#: goes roughly cubic on many small edits (``'你a' * 2500`` took minutes); 40,000 cells stay under
#: about 30 ms even then. Larger pairs are diffed sentence by sentence, then by a linear fallback.
DIFF_MAX_CELLS = 40_000

# Control characters, zero-width and bidirectional/format characters (U+061C, U+200B-U+200F,
# U+202A-U+202E, U+2060-U+2064, U+2066-U+206F, U+FEFF, U+FFF9-U+FFFB) and lone surrogates (which
# cannot be encoded as UTF-8) are dropped.
_CTRL = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
# A sentence ends after these marks (and any closing quotes/brackets that follow).
_SENT_END = re.compile(r"([。！？!?；;…]+[”’」』）)]*|\n+)")
_SOFT_BREAK = re.compile(r"([，,、]+)")
_SPACE_BREAK = re.compile(r"( +)")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def normalise(text: str) -> str:
    """Drop control, zero-width and bidi/format characters and lone surrogates, collapse runs of
    spaces, strip the ends.

    Full-width punctuation is kept as typed (NFKC would turn ``，`` into ``,``); only
    compatibility forms that are never intended (e.g. full-width digits and Latin letters) are
    folded so facts compare equal.
    """
    if not isinstance(text, str):
        raise InvalidDraftError(f"草稿必须是文本，收到的是 {type(text).__name__}。")
    text = _CTRL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(_fold_char(c) for c in text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def _fold_char(c: str) -> str:
    o = ord(c)
    if 0xFF10 <= o <= 0xFF19 or 0xFF21 <= o <= 0xFF3A or 0xFF41 <= o <= 0xFF5A:
        return unicodedata.normalize("NFKC", c)
    return c


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def validate_draft(text: str, max_chars: int = MAX_DRAFT_CHARS) -> str:
    """Normalise ``text`` and raise a typed error naming the problem if it can't be rewritten.

    Refused: empty or whitespace-only drafts, drafts of only control/invisible characters, drafts
    longer than ``max_chars``, and drafts with no Chinese at all (English, emoji, symbols: the
    product rewrites Chinese replies). HTML or script in a draft is ordinary text: it is carried
    through as typed and never interpreted.
    """
    clean = normalise(text)
    if not clean:
        if text and not text.isspace():
            raise EmptyDraftError("草稿只包含控制字符或不可见字符：请输入需要改写的中文回复。")
        raise EmptyDraftError("草稿为空：请输入需要改写的回复内容。")
    if len(clean) > max_chars:
        raise DraftTooLongError(
            f"草稿过长（{len(clean)} 字），单次最多改写 {max_chars} 字，请分段提交。"
        )
    if not _CJK.search(clean):
        kind = "英文" if re.search(r"[A-Za-z]", clean) else "表情或符号"
        raise InvalidDraftError(f"草稿中没有中文（只有{kind}）：rewrite 只改写中文客服回复，请输入中文草稿。")
    return clean


def split_sentences(text: str, max_len: int = MAX_SEGMENT_CHARS) -> list[str]:
    """Split into sentences that keep their closing punctuation; ``"".join`` gives ``text`` back.

    Every piece is at most ``max_len`` characters: a longer sentence is cut at commas, a piece
    still too long at spaces (agents often separate clauses with spaces only), and the rest hard at
    ``max_len``, where possible not inside a run of letters and digits. Nothing is ever dropped.
    """
    out: list[str] = []
    for p in _split_keep(text, _SENT_END):
        if len(p) <= max_len:
            out.append(p)
            continue
        buf = ""
        for piece in (q for part in _split_keep(p, _SOFT_BREAK) for q in _cut_long(part, max_len)):
            if buf and len(buf) + len(piece) > max_len:
                out.append(buf)
                buf = ""
            buf += piece
        if buf:
            out.append(buf)
    return [p for p in out if p]


def _cut_long(piece: str, max_len: int) -> list[str]:
    """``piece`` in parts of at most ``max_len`` characters: at spaces first, else hard."""
    if len(piece) <= max_len:
        return [piece]
    parts: list[str] = []
    buf = ""
    for word in _split_keep(piece, _SPACE_BREAK):
        while len(word) > max_len:
            cut = _hard_cut(word, max_len)
            if buf:
                parts.append(buf)
                buf = ""
            parts.append(word[:cut])
            word = word[cut:]
        if buf and len(buf) + len(word) > max_len:
            parts.append(buf)
            buf = ""
        buf += word
    if buf:
        parts.append(buf)
    return parts


def _hard_cut(word: str, max_len: int) -> int:
    """Where to cut ``word`` (longer than ``max_len``): at ``max_len``, or earlier at the start of a
    run of letters/digits that would be split (an order number stays whole when it can)."""
    cut = max_len
    while cut > max_len // 2 and word[cut - 1] in _ALNUM and word[cut] in _ALNUM:
        cut -= 1
    return cut if cut > max_len // 2 else max_len


def chunk_text(text: str, max_len: int = MAX_SEGMENT_CHARS) -> list[str]:
    """Group whole sentences into chunks of at most ``max_len`` characters (a longer sentence is
    cut by :func:`split_sentences`, so no chunk is ever longer). ``"".join`` gives ``text`` back.

    Backends are trained on whole short replies of one to three sentences, so a typical draft is
    one chunk and keeps its context; only long drafts are cut.
    """
    chunks: list[str] = []
    for sent in split_sentences(text, max_len):
        if chunks and len(chunks[-1]) + len(sent) <= max_len and not chunks[-1].endswith("\n"):
            chunks[-1] += sent
        else:
            chunks.append(sent)
    return chunks


#: A gap between two words of a speech-to-text transcript: a space with a Chinese character on one
#: side and a Chinese character or a digit on the other (never between two digits or Latin words).
_WORD_GAP = re.compile(r"(?<=[\u4e00-\u9fff])[ \u3000]+(?=[\u4e00-\u9fff\d])|(?<=\d)[ \u3000]+(?=[\u4e00-\u9fff])")
#: The pause mark of such transcripts (" _ "), read as a clause break.
_PAUSE = re.compile(r"\s+_\s+")


#: Spaces around a full-width mark in such transcripts ("超重 3公斤 ， 每 公斤"): the mark is no word.
_MARK_GAP = re.compile(r"[ \u3000]*([，。！？、；：])[ \u3000]*")


def is_word_segmented(text: str) -> bool:
    """Whether ``text`` reads like a word-segmented transcript ("嗯 改签 要 收 手续费 的"): at least
    five space-separated words, averaging at most three characters, most gaps between Chinese.
    A full-width mark set off by spaces ("退订 ， 下 月") counts as neither a word nor a gap; at
    least a fifth of the words are one Chinese character long."""
    text = _MARK_GAP.sub(r"\1", text)
    words = [w for w in re.split(r"[\s，。！？、；：]+", text) if w and w != "_"]
    if len(words) < 5 or sum(len(w) for w in words) / len(words) > 3.0:
        return False
    # A segmenter splits off 的/了/是/你…; clauses typed with a space for each pause seldom leave a
    # character alone ("收到 已处理 明天上门 谢谢 再见" is no transcript and stays as it is).
    if sum(bool(re.fullmatch(r"[\u4e00-\u9fff]", w)) for w in words) < 0.2 * len(words):
        return False
    gaps = len(re.findall(r"[ \u3000]+", _PAUSE.sub("", text.strip())))
    return gaps > 0 and len(_WORD_GAP.findall(_PAUSE.sub("", text))) >= 0.6 * gaps


_OPENING_INTERJECTION = re.compile(r"^((?:嗯+|恩+|喂+|哦+|噢+|啊+|呃+|额+|唉+|哎+|那个(?=\s+[你您我]))(?:\s+(?:嗯+|恩+|喂+|哦+))*)\s+(?=[\u4e00-\u9fff])")


def unsegment(text: str) -> str:
    """A segmented transcript as one would type it: word gaps closed ("嗯 改签 要 收" → "嗯改签要收"),
    the pause mark ``_`` made a comma; spaces around Latin words and between numbers stay."""
    lead = re.match(r"^\s*", text).group(0)
    trail = re.search(r"\s*$", text).group(0)
    body = _MARK_GAP.sub(r"\1", _PAUSE.sub("，", text.strip()))
    # An interjection that opens the turn is a pause of its own: 嗯 改签 → 嗯，改签 (never 嗯改签,
    # which the particle rules no longer see as a word of its own).
    body = _OPENING_INTERJECTION.sub(r"\1，", body)
    return lead + _WORD_GAP.sub("", body) + trail


#: A greeting after a name token ([姓名x]您好): a pattern for the regexes that find a reply's opening.
NAMED_GREETING = r"\[[^\]，,\s]{1,12}\](?:您好|你好)"

#: A Weibo mention that opens a draft or a reply (@name, 回复@name：).
MENTION = re.compile(r"^(?:回复@[^\s，,。！!@：:]{1,20}[：:]|@[^\s，,。！!@]{1,20})")


#: A Weibo helpdesk signature closing a reply (…感谢您的理解。小编).
_SIGNATURE = re.compile(r"[，,。\s]*((?:——|—|--)?\s*(?:小编|小沃|小U)|[\[【](?:小编|小沃|小U)[\]】])$")


def split_signature(text: str) -> tuple[str, str]:
    """``(body, signature)``: a closing Weibo signature split off, so that a close added to the
    reply goes before it; ``(text, "")`` when there is none, or nothing but the signature."""
    m = _SIGNATURE.search(text)
    return (text[: m.start()], m.group(1)) if m and m.start() > 0 else (text, "")


def _split_keep(text: str, pattern: re.Pattern[str]) -> list[str]:
    pieces: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        pieces.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def diff_edits(source: str, target: str) -> list[Edit]:
    """Character-level edits turning ``source`` into ``target`` (difflib opcodes, equal dropped).

    Bounded work: after trimming the common prefix and suffix, a pair of at most
    :data:`DIFF_MAX_CELLS` cells is diffed by character; a larger one sentence by sentence (each
    changed sentence pair by character when small enough); what is still too large becomes
    per-position replacements (same length) or one replacement. Always a valid edit script.
    """
    return _diff(source, target, 0, 0, coarse=True)


def diff_pieces(pairs: list[tuple[str, str]]) -> list[Edit]:
    """Edits of ``"".join(sources)`` → ``"".join(targets)`` from aligned (source, target) pieces,
    e.g. the pipeline's chunks: each pair is diffed alone (cheap and bounded), offsets shifted."""
    edits: list[Edit] = []
    i = j = 0
    for src, tgt in pairs:
        edits += _diff(src, tgt, i, j, coarse=True)
        i += len(src)
        j += len(tgt)
    return edits


def _diff(a: str, b: str, ai: int, bj: int, *, coarse: bool) -> list[Edit]:
    """Edits of ``a`` → ``b`` with offsets shifted by ``ai``/``bj`` (see :func:`diff_edits`)."""
    pre = 0
    limit = min(len(a), len(b))
    while pre < limit and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < limit - pre and a[len(a) - 1 - suf] == b[len(b) - 1 - suf]:
        suf += 1
    a_mid, b_mid = a[pre : len(a) - suf], b[pre : len(b) - suf]
    ai, bj = ai + pre, bj + pre
    if not a_mid and not b_mid:
        return []
    if not a_mid or not b_mid or len(a_mid) * len(b_mid) <= DIFF_MAX_CELLS:
        sm = difflib.SequenceMatcher(a=a_mid, b=b_mid, autojunk=False)
        return [
            Edit(op, ai + i1, ai + i2, bj + j1, bj + j2, a_mid[i1:i2], b_mid[j1:j2])
            for op, i1, i2, j1, j2 in sm.get_opcodes()
            if op != "equal"
        ]
    if coarse:
        sa, sb = _split_keep(a_mid, _SENT_END), _split_keep(b_mid, _SENT_END)
        if 1 < len(sa) * len(sb) <= DIFF_MAX_CELLS:
            return _diff_sentences(sa, sb, ai, bj)
    return _diff_linear(a_mid, b_mid, ai, bj)


def _diff_sentences(sa: list[str], sb: list[str], ai: int, bj: int) -> list[Edit]:
    """Diff two texts as lists of sentences; each changed block is refined without recursion."""
    offs_a = [0]
    for x in sa:
        offs_a.append(offs_a[-1] + len(x))
    offs_b = [0]
    for x in sb:
        offs_b.append(offs_b[-1] + len(x))
    edits: list[Edit] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=sa, b=sb, autojunk=False).get_opcodes():
        if op != "equal":
            edits += _diff("".join(sa[i1:i2]), "".join(sb[j1:j2]), ai + offs_a[i1], bj + offs_b[j1], coarse=False)
    return edits


def _diff_linear(a: str, b: str, ai: int, bj: int) -> list[Edit]:
    """The linear-time fallback: runs of differing positions when the lengths match, else one
    replacement of the whole (already trimmed) block."""
    if len(a) != len(b):
        return [Edit("replace", ai, ai + len(a), bj, bj + len(b), a, b)]
    edits: list[Edit] = []
    k = 0
    while k < len(a):
        if a[k] == b[k]:
            k += 1
            continue
        start = k
        while k < len(a) and a[k] != b[k]:
            k += 1
        edits.append(Edit("replace", ai + start, ai + k, bj + start, bj + k, a[start:k], b[start:k]))
    return edits


def char_edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters (insert, delete, substitute all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


#: A stretch this long (characters) said twice is a loop of an engine (:func:`repeats`).
REPEAT_SPAN = 8


def _repeated_spans(text: str, span: int = REPEAT_SPAN) -> set[str]:
    """Stretches of ``span`` characters that ``text`` says twice without overlap."""
    first: dict[str, int] = {}
    out: set[str] = set()
    for i in range(len(text) - span + 1):
        w = text[i : i + span]
        if w in first and i - first[w] >= span:
            out.add(w)
        first.setdefault(w, i)
    return out


def repeats(source: str, candidate: str) -> bool:
    """Whether ``candidate`` says a stretch twice that ``source`` says once at most (a model loop:
    非常抱歉让您久等了，…请问有什么可以帮您？非常抱歉让您久等了，…请问有什么可以帮您？)."""
    def norm(t: str) -> str:  # the rewrite says 您 for 你 and puts commas where the draft had spaces
        return re.sub(r"[\W_]", "", t).replace("你", "您")

    return bool(_repeated_spans(norm(candidate)) - _repeated_spans(norm(source)))
