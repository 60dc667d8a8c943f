"""Fact protection: replace what a reply must carry over unchanged with typed placeholders.

A backend then rewrites only the frame (``您的订单<ID1>已于<DATE1>发出``) and copies nothing it can
get wrong; ``restore`` puts the originals back. A candidate that drops, duplicates or invents a
placeholder is rejected by :func:`placeholder_problems`.

Placeholders look like ``<AMT1>``: a type tag and a 1-based index. Types:
URL, EMAIL, PHONE, ID (order/ticket/tracking/flight numbers), DATE, TIME, AMT (money), NUM (other
numbers with their unit), EN (English / Latin terms), ENT (content words: products, places, names,
found by the segmenter and the domain lexicon).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

PLACEHOLDER_RE = re.compile(r"<(URL|EMAIL|PHONE|ID|DATE|TIME|AMT|NUM|EN|ENT)(\d+)>")
_LITERAL_RE = re.compile(r"<[A-Z]{2,6}\d{1,3}>")
TYPES = ("URL", "EMAIL", "PHONE", "ID", "DATE", "TIME", "AMT", "NUM", "EN", "ENT")

_CN_NUM = "零一二两三四五六七八九十百千万"
#: Longest text :func:`find_facts` accepts, in characters. The pipeline never passes more than a
#: draft (5,000); the cap keeps a hostile caller (a 100 MB bench line) from holding the GIL.
MAX_FACT_TEXT_CHARS = 100_000
# Order matters: earlier patterns win where spans overlap. A pattern that starts with an unbounded
# run (\d+, [A-Za-z0-9…]+) has a lookbehind so it is tried only at the start of a run: without
# it a long run with no match costs quadratic time.
_FACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("URL", re.compile(r"(?:https?://|www\.)[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]*[A-Za-z0-9/#=_~&%-]")),
    ("EMAIL", re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")),
    ("PHONE", re.compile(r"(?<![0-9A-Za-z])(?:1[3-9]\d(?:[ -]\d{4}){2}|1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|400-?\d{3}-?\d{4}|(?:95\d{3}|100\d{2}|12315|12345))(?![0-9A-Za-z])")),
    ("DATE", re.compile(r"(?:\d{4}[年./-]\d{1,2}[月./-]\d{1,2}[日号]?|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}[日号]|\d{1,2}月份?|\d{1,2}[日号](?=前|后|之前|之后|到|至|左右|[，。,. ]|$))")),
    ("TIME", re.compile(r"(?:(?:凌晨|早上|上午|中午|下午|晚上|傍晚)?\d{1,2}[:：]\d{2}(?:\s*[-~至到]\s*\d{1,2}[:：]\d{2})?|(?:凌晨|早上|上午|中午|下午|晚上|傍晚)?\d{1,2}点(?:\d{1,2}分|半)?)")),
    ("ID", re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,4}\d{4,}[A-Za-z0-9]*|\d{6,}[A-Za-z]*|[A-Z]{2}\d{3,4})(?![A-Za-z0-9])")),
    ("AMT", re.compile(r"(?:[¥￥$]\s?\d+(?:,\d{3})*(?:\.\d+)?(?:元|块)?|(?<!\d)\d+(?:,\d{3})*(?:\.\d+)?\s?(?:万元|元|块钱|块\d{1,2}(?![0-9.:：%])毛?|块|角|毛)(?:/(?:月|年|天|度|吨|方|件|GB|G|分钟))?)")),
    ("NUM", re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?(?:\s?(?:%|％|折|天|小时|分钟|秒|个工作日|工作日|周|个月|年|GB|G|M|MB|兆|度|吨|方|件|台|张|次|位|人|号(?!码)|栋|单元|层|室|楼|公斤|kg|斤|米|寸))?")),
    ("EN", re.compile(r"[A-Za-z][A-Za-z0-9+_-]*(?:\.[A-Za-z0-9+_-]+)*(?:\s+[A-Za-z][A-Za-z0-9+_-]*(?:\.[A-Za-z0-9+_-]+)*)*")),
]


@dataclass
class Protected:
    """A masked text and the originals its placeholders stand for (``<AMT1>`` → ``58元``)."""

    source: str
    masked: str
    slots: dict[str, str] = field(default_factory=dict)


def find_facts(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, type)`` spans of facts in ``text``, left to right.

    Linear in ``len(text)``; a text longer than :data:`MAX_FACT_TEXT_CHARS` is refused with
    :class:`~rewrite.errors.InvalidDraftError` rather than scanned.
    """
    if len(text) > MAX_FACT_TEXT_CHARS:
        from rewrite.errors import InvalidDraftError

        raise InvalidDraftError(f"文本过长（{len(text)} 字），事实识别最多处理 {MAX_FACT_TEXT_CHARS} 字。")
    taken: list[tuple[int, int, str]] = []
    used = bytearray(len(text))  # 1 where a span is taken or blocked: overlap checks stay linear
    # Text that already looks like a placeholder is never split by the patterns: a real
    # placeholder type is masked whole (so restore cannot confuse it with a slot), others
    # (a backend's <OOV1>) are left as they are.
    for m in _LITERAL_RE.finditer(text):
        if PLACEHOLDER_RE.fullmatch(m.group(0)):
            taken.append((m.start(), m.end(), "ENT"))
        used[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    for kind, pat in _FACT_PATTERNS:
        for m in pat.finditer(text):
            s, e = m.span()
            if s == e or any(used[s:e]):
                continue
            taken.append((s, e, kind))
            used[s:e] = b"\x01" * (e - s)
    return sorted(taken)


def protect(text: str, extra_spans: list[tuple[int, int, str]] | None = None) -> Protected:
    """Mask facts (and any ``extra_spans``, e.g. content words) with numbered placeholders.

    The same original string always gets the same placeholder within one text.
    """
    facts = find_facts(text)
    extra = [x for x in extra_spans or () if not any(x[0] < e and s < x[1] for s, e, _ in facts)]
    return _mask(text, facts + extra)


def restore(masked: str, slots: dict[str, str]) -> str:
    """Put the originals back; an unknown placeholder is left as it is (and caught elsewhere)."""
    return PLACEHOLDER_RE.sub(lambda m: slots.get(m.group(0), m.group(0)), masked)


def placeholder_problems(candidate: str, slots: dict[str, str]) -> list[str]:
    """Why ``candidate`` (still masked) does not carry the slots exactly once each; [] if fine."""
    found = [m.group(0) for m in PLACEHOLDER_RE.finditer(candidate)]
    problems = []
    for ph in slots:
        n = found.count(ph)
        if n == 0:
            problems.append(f"丢失了 {slots[ph]}")
        elif n > 1 and not ph.startswith("<ENT"):  # a name may be said twice; a fact may not
            problems.append(f"重复了 {slots[ph]}")
    for ph in set(found) - set(slots):
        problems.append(f"凭空多出 {ph}")
    return problems


def protect_for_model(
    text: str, keep: list[str] | tuple[str, ...] = (), *, content: bool = True
) -> Protected:
    """What the pipeline calls: every ``keep`` span, facts, and content words are masked.

    Content words (``content=True``) are the names a reply must carry over verbatim: people,
    places, organisations, lexicon entries (``prompts/lexicon.txt``), quoted text and nouns the
    service vocabulary (``prompts/service_words.txt``) does not know; see :func:`find_content`.
    """
    extra: list[tuple[int, int, str]] = []
    # Longest first; among equally long spans, one that would cut a number (「5元」 inside 「65元」)
    # after one that would not, then by text: a fixed order, so masking never depends on Python's
    # per-process string hashing (it did, and `rewrite data build` gave different splits per run).
    for span in sorted({s for s in keep if s}, key=lambda sp: (-len(sp), _cuts_number(text, sp), sp)):
        start = text.find(span)
        while start != -1:
            if not any(start < e and s < start + len(span) for s, e, _ in extra):
                extra.append((start, start + len(span), _keep_kind(span)))
            start = text.find(span, start + len(span))
    # Keep spans win over automatic fact spans: mask them first, then the rest.
    facts = [f for f in find_facts(text) if not any(f[0] < e and s < f[1] for s, e, _ in extra)]
    spans = facts + extra
    if content:
        # A "content word" that breaks a norm (jieba reads 这款木有货 as 这/款木/有货) is what the
        # reply must rewrite, not carry over: never mask a word that overlaps a checker finding.
        from rewrite.norms.checker import check

        flagged = [(f.start, f.end) for f in check(text).findings]
        spans += [
            c
            for c in find_content(text)
            if not any(c[0] < e and s < c[1] for s, e, _ in spans)
            and not any(c[0] < fe and fs < c[1] for fs, fe in flagged)
        ]
    return _mask(text, spans)


def _cuts_number(text: str, span: str) -> bool:
    """Whether some occurrence of ``span`` in ``text`` starts or ends inside a run of digits."""
    start = text.find(span)
    while start != -1:
        end = start + len(span)
        if (start and span[0].isdigit() and text[start - 1].isdigit()) or (
            end < len(text) and span[-1].isdigit() and text[end].isdigit()
        ):
            return True
        start = text.find(span, start + 1)
    return False


def _keep_kind(span: str) -> str:
    """The placeholder type of a ``keep`` span: the fact type when one fact covers it all (so
    ``58元`` is ``<AMT…>`` whether the user listed it or not), else ``ENT``."""
    facts = find_facts(span)
    if len(facts) == 1 and facts[0][0] == 0 and facts[0][1] == len(span):
        return facts[0][2]
    return "ENT"


# ---------------------------------------------------------------------------------------------
# Content words: a segmenter with part-of-speech tags (jieba posseg, which ships its dictionary)
# plus editable word lists in prompts/. jieba's person/place tags are noisy on service talk
# ("谢谢" and "建议您" come out as person names, "上门" as a place), so each tag is accepted only
# with a shape that confirms it: a common surname, a place or organisation suffix.

#: Common surnames that are rarely the first character of an ordinary word.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁宋唐许韩冯邓曹彭曾肖董袁潘蒋蔡杜叶魏苏吕丁沈姚"
    "卢姜崔钟谭陆汪范廖贾韦邹熊孟秦邱尹薛闫雷侯陶贺顾毛郝龚邵钱覃戴莫孔汤"
)
_TITLES = "先生|女士|小姐|老师|师傅|经理|主任|主管|组长|工程师|阿姨|大爷|同学"
_NAME_RE = re.compile(rf"(?:[{''.join(sorted(_SURNAMES))}](?:{_TITLES}|工(?![作单资厂程具])|总(?![共是部额计]))|[小老][{''.join(sorted(_SURNAMES))}](?=[^\u4e00-\u9fff]|$|[的了吗呢吧啊呀在是要去来说和跟给把被也都就还又再您你我他她]))")
_PLACE_SUFFIX = ("省", "市", "区", "县", "镇", "乡", "村", "路", "街", "大道", "巷", "弄", "苑", "园", "小区", "花园", "公寓", "大厦", "广场", "机场", "站", "湾", "新城", "家园")
_ORG_SUFFIX = ("公司", "集团", "银行", "局", "分行", "支行", "电信", "移动", "联通", "航空", "医院", "学校", "大学")
_PROVINCES = set(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 "
    "广州 深圳 杭州 南京 武汉 成都 西安 苏州 郑州 长沙 沈阳 青岛 宁波 厦门 大连 济南 哈尔滨 长春 福州 合肥 昆明 南宁 贵阳 兰州 太原 石家庄 南昌 无锡 佛山 东莞 珠海 温州 金华 海口 三亚 拉萨 乌鲁木齐 呼和浩特 银川 西宁".split()
)
_QUOTED_RE = re.compile(r"“[^“”\n]{1,30}”|「[^「」\n]{1,30}」|『[^『』\n]{1,30}』|《[^《》\n]{1,30}》|\"[^\"\n]{1,30}\"")
#: jieba tags of nouns that are masked when the service vocabulary does not know them.
_NOUN_TAGS = ("n", "nz", "nl", "ng", "nrt", "nrfg", "lex")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class _Segmenter:
    pos: object
    lexicon: frozenset[str]
    service: frozenset[str]


_SEGMENTER: _Segmenter | None = None
_SEGMENTER_KEY: tuple = ()


def _word_list(name: str) -> list[str]:
    from rewrite.norms.load import prompts_dir

    path = prompts_dir() / name
    if not path.is_file():
        return []
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line)
    return words


def _segmenter() -> _Segmenter:
    """jieba, initialised once (quietly) with the lexicon as user words tagged ``lex``."""
    global _SEGMENTER, _SEGMENTER_KEY
    from rewrite.norms.load import prompts_dir

    key = tuple(
        (n, (prompts_dir() / n).stat().st_mtime if (prompts_dir() / n).is_file() else 0.0)
        for n in ("lexicon.txt", "service_words.txt")
    )
    if _SEGMENTER is not None and key == _SEGMENTER_KEY:
        return _SEGMENTER
    import contextlib
    import io
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    with contextlib.redirect_stderr(io.StringIO()):
        tok.initialize()
    lexicon = frozenset(_word_list("lexicon.txt"))
    for w in sorted(lexicon):
        tok.add_word(w, freq=max(tok.suggest_freq(w, tune=False), 10000), tag="lex")
    service = frozenset(_word_list("service_words.txt"))
    for w in sorted(service - lexicon):
        if len(w) > 1 and w not in tok.FREQ:  # keep service phrases whole, never as names
            tok.add_word(w, freq=tok.suggest_freq(w, tune=False), tag="svc")
    pos = jieba.posseg.POSTokenizer(tok)
    _SEGMENTER = _Segmenter(pos, lexicon, service)
    _SEGMENTER_KEY = key
    return _SEGMENTER


def _is_content(word: str, flag: str, seg: _Segmenter) -> bool:
    """Names, places and organisations by tag + shape; other nouns unless the service vocabulary
    knows them (the service vocabulary never exempts a name or a place)."""
    if word in seg.lexicon or flag == "lex":
        return True
    if len(word) < 2 or not _CJK_RE.search(word):
        return False
    if flag in ("nr", "nrfg", "nrt"):
        head = word[1] if word[0] in "小老" and len(word) == 2 else word[0]
        if head in _SURNAMES and len(word) <= 4 and word not in seg.service:
            return True
    if word in _PROVINCES:
        return True
    if flag == "ns" and len(word) >= 3 and word.endswith(_PLACE_SUFFIX):
        return True
    if flag == "nt" and word.endswith(_ORG_SUFFIX):
        return True
    if word in seg.service or flag == "svc":
        return False
    return flag in _NOUN_TAGS and flag not in ("nrt", "nrfg")


def find_content(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, "ENT")`` spans of content words, left to right.

    Adjacent content words merge into one span ("上海市浦东新区" + "张江路"). Facts are not
    included (see :func:`find_facts`); callers drop content spans that overlap a fact.
    """
    if not _CJK_RE.search(text):
        return []
    seg = _segmenter()
    spans: list[tuple[int, int, str]] = []
    for m in _QUOTED_RE.finditer(text):
        spans.append((m.start(), m.end(), "ENT"))
    for m in _NAME_RE.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e, _ in spans):
            spans.append((m.start(), m.end(), "ENT"))
    pos = 0
    for w in seg.pos.cut(text):
        s, e = pos, pos + len(w.word)
        pos = e
        if any(s < te and ts < e for ts, te, _ in spans):
            continue
        if _is_content(w.word, w.flag, seg):
            spans.append((s, e, "ENT"))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for s, e, k in spans:
        if merged and s == merged[-1][1] and not _QUOTED_RE.fullmatch(text[s:e]) and not _QUOTED_RE.fullmatch(text[merged[-1][0]:merged[-1][1]]):
            merged[-1] = (merged[-1][0], e, k)
        else:
            merged.append((s, e, k))
    return merged


def frequent_words(texts: list[str], min_count: int = 3) -> list[str]:
    """Words (jieba) that occur in at least ``min_count`` of ``texts``: the service vocabulary
    candidates written to ``prompts/service_words.txt`` (see ``python -m rewrite.protect``)."""
    import collections

    seg = _segmenter()
    counts: collections.Counter[str] = collections.Counter()
    for t in texts:
        counts.update({w.word for w in seg.pos.cut(t) if _CJK_RE.search(w.word) and len(w.word) >= 2})
    return sorted(w for w, c in counts.items() if c >= min_count and w not in seg.lexicon)


def _mask(text: str, spans: list[tuple[int, int, str]]) -> Protected:
    spans = sorted(spans)
    kept: list[tuple[int, int, str]] = []
    for s, e, k in spans:
        if kept and s < kept[-1][1]:
            continue
        kept.append((s, e, k))
    slots: dict[str, str] = {}
    by_value: dict[tuple[str, str], str] = {}
    counters: dict[str, int] = {}
    out: list[str] = []
    pos = 0
    for s, e, kind in kept:
        key = (kind, text[s:e])
        if key not in by_value:
            counters[kind] = counters.get(kind, 0) + 1
            by_value[key] = f"<{kind}{counters[kind]}>"
            slots[by_value[key]] = text[s:e]
        out += [text[pos:s], by_value[key]]
        pos = e
    out.append(text[pos:])
    return Protected(source=text, masked="".join(out), slots=slots)


def main(argv: list[str] | None = None) -> int:
    """``python -m rewrite.protect FILE.jsonl…``: print the service vocabulary of a corpus (the
    words of drafts and references that occur in at least 3 pairs), for ``prompts/service_words.txt``."""
    import json
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    texts = []
    for path in args:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    texts.append(d["draft"] + "\n" + d.get("reference", ""))
    for w in frequent_words(texts):
        print(w)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
