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
TYPES = ("URL", "EMAIL", "PHONE", "ID", "DATE", "TIME", "AMT", "NUM", "EN", "ENT")

_CN_NUM = "零一二两三四五六七八九十百千万"
# Order matters: earlier patterns win where spans overlap.
_FACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("URL", re.compile(r"(?:https?://|www\.)[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")),
    ("EMAIL", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")),
    ("PHONE", re.compile(r"(?<![0-9A-Za-z])(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|400-?\d{3}-?\d{4}|(?:95\d{3}|100\d{2}|12315|12345))(?![0-9A-Za-z])")),
    ("DATE", re.compile(r"(?:\d{4}[年./-]\d{1,2}[月./-]\d{1,2}[日号]?|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}[日号]|\d{1,2}月份?|\d{1,2}[日号](?=前|后|之前|之后|到|至|左右|[，。,. ]|$))")),
    ("TIME", re.compile(r"(?:(?:凌晨|早上|上午|中午|下午|晚上|傍晚)?\d{1,2}[:：]\d{2}(?:\s*[-~至到]\s*\d{1,2}[:：]\d{2})?|(?:凌晨|早上|上午|中午|下午|晚上|傍晚)?\d{1,2}点(?:\d{1,2}分|半)?)")),
    ("ID", re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,4}\d{4,}[A-Za-z0-9]*|\d{6,}[A-Za-z]*|[A-Z]{2}\d{3,4})(?![A-Za-z0-9])")),
    ("AMT", re.compile(r"(?:[¥￥$]\s?\d+(?:,\d{3})*(?:\.\d+)?(?:元|块)?|\d+(?:,\d{3})*(?:\.\d+)?\s?(?:万元|元|块钱|块|角|毛)(?:/(?:月|年|天|度|吨|方|件|GB|G|分钟))?)")),
    ("NUM", re.compile(r"\d+(?:\.\d+)?\s?(?:%|％|折|天|小时|分钟|秒|个工作日|工作日|周|个月|年|GB|G|M|MB|兆|度|吨|方|件|台|张|次|位|人|号|栋|单元|层|室|楼|公斤|kg|斤|米|寸)?")),
    ("EN", re.compile(r"[A-Za-z][A-Za-z0-9+._-]*(?:\s+[A-Za-z][A-Za-z0-9+._-]*)*")),
]


@dataclass
class Protected:
    """A masked text and the originals its placeholders stand for (``<AMT1>`` → ``58元``)."""

    source: str
    masked: str
    slots: dict[str, str] = field(default_factory=dict)


def find_facts(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, type)`` spans of facts in ``text``, left to right."""
    taken: list[tuple[int, int, str]] = []
    for kind, pat in _FACT_PATTERNS:
        for m in pat.finditer(text):
            s, e = m.span()
            if s == e or any(s < te and ts < e for ts, te, _ in taken):
                continue
            taken.append((s, e, kind))
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
        elif n > 1:
            problems.append(f"重复了 {slots[ph]}")
    for ph in set(found) - set(slots):
        problems.append(f"凭空多出 {ph}")
    return problems


def protect_for_model(text: str, keep: list[str] | tuple[str, ...] = ()) -> Protected:
    """What the pipeline calls: facts, every ``keep`` span, and content words are masked."""
    extra: list[tuple[int, int, str]] = []
    for span in keep:
        if not span:
            continue
        start = text.find(span)
        while start != -1:
            extra.append((start, start + len(span), "ENT"))
            start = text.find(span, start + len(span))
    # Keep spans win over automatic fact spans: mask them first, then the rest.
    facts = [f for f in find_facts(text) if not any(f[0] < e and s < f[1] for s, e, _ in extra)]
    return _mask(text, facts + extra)


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
