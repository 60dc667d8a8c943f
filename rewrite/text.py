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

#: Longest piece handed to a backend at once; longer sentences are cut at commas.
MAX_SEGMENT_CHARS = 120

_CTRL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
# A sentence ends after these marks (and any closing quotes/brackets that follow).
_SENT_END = re.compile(r"([。！？!?；;…]+[”’」』）)]*|\n+)")
_SOFT_BREAK = re.compile(r"([，,、]+)")


def normalise(text: str) -> str:
    """Drop control and zero-width characters, collapse runs of spaces, strip the ends.

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

    Sentences longer than ``max_len`` are cut further at commas so no backend sees more than it
    was trained on; a piece with no comma stays whole (it is never truncated).
    """
    out: list[str] = []
    for p in _split_keep(text, _SENT_END):
        if len(p) <= max_len:
            out.append(p)
            continue
        buf = ""
        for piece in _split_keep(p, _SOFT_BREAK):
            if buf and len(buf) + len(piece) > max_len:
                out.append(buf)
                buf = ""
            buf += piece
        if buf:
            out.append(buf)
    return [p for p in out if p]


def chunk_text(text: str, max_len: int = MAX_SEGMENT_CHARS) -> list[str]:
    """Group whole sentences into chunks of at most ``max_len`` characters (a longer sentence is
    its own chunk, cut at commas by :func:`split_sentences`). ``"".join`` gives ``text`` back.

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
    """Character-level edits turning ``source`` into ``target`` (difflib opcodes, equal dropped)."""
    sm = difflib.SequenceMatcher(a=source, b=target, autojunk=False)
    return [
        Edit(op, i1, i2, j1, j2, source[i1:i2], target[j1:j2])
        for op, i1, i2, j1, j2 in sm.get_opcodes()
        if op != "equal"
    ]


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
