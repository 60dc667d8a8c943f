"""Seeded augmentation of written pairs: swap facts, add casual noise to drafts, join pairs.

Every function takes an explicit :class:`random.Random`, iterates only over ordered containers
and never over sets of strings, so the same seed gives byte-identical output in every process.
Each operation returns a new pair or ``None`` when it does not apply; the caller verifies the
result (checker, keep spans, facts, leak guard) before keeping it.
"""
from __future__ import annotations

import random
import re
from typing import Any

from rewrite.protect import PLACEHOLDER_RE, find_facts, protect_for_model, restore
from rewrite.data.pools import GIVEN_NAMES, LEXICON, PLACES, PRODUCTS, SURNAMES, TITLES

Pair = dict[str, Any]

# Integer and decimal parts are separate tokens, so ``3862块4`` and ``3862.4元`` vary together.
_NUM = r"\d+"
_NUM_RE = re.compile(_NUM)
_NAME_RE = re.compile(f"([{''.join(SURNAMES)}])({'|'.join(sorted(TITLES, key=len, reverse=True))})")
_AGENT_RE = re.compile(f"^小([{''.join(SURNAMES)}])$")
_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAYS_LONG = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
# Relative times swap only inside their group (the tense of the sentence stays right).
_REL_GROUPS: tuple[tuple[str, ...], ...] = (
    ("明天", "后天"), ("昨天", "前天"), ("月底", "月初", "月中"), ("上午", "下午"), ("明早", "明晚"),
    ("今年", "明年"),
)
_CN_DIGITS = ("一", "两", "三", "四", "五", "六", "七", "八", "九", "十")
_CN_QTY_RE = re.compile(r"^(前|提前)?([一二两三四五六七八九十半]{1,2})(个)?(年|个月|月|周|天|日|小时|分钟|秒|个工作日|工作日|次|件|季度|晚)(内|左右|以内)?$")
_FULLNAME_RE = re.compile(f"^([{''.join(SURNAMES)}])({'|'.join(sorted(GIVEN_NAMES, key=len, reverse=True))})$")
_COMPOUND_RE = re.compile(r"^[\u4e00-\u9fff]{2,4}(小区|花园|家园|新村|公寓|苑)$")
_BLOCK_RE = re.compile(r"^[A-H]座$")
# Hotline and short service numbers are part of the domain, not facts to vary.
_SERVICE_NUMBERS = frozenset({
    "10000", "10086", "10010", "10060", "95598", "12315", "12345", "12306", "12358", "110", "119",
    "120", "122", "95588", "95533", "95555", "95566", "95599", "95559", "95528", "95558", "95568",
    "95580", "95595", "95508", "95311", "95338", "95546", "95539", "95530", "95583", "96777",
})
_HOUR_BEFORE = ("凌晨", "早上", "上午", "中午", "下午", "晚上", "傍晚", "今晚", "昨晚")


# ---------------------------------------------------------------------------------------------
# Fact swaps


def _classes(text: str, start: int, end: int) -> str | None:
    """The value class of the number at ``text[start:end]`` from its context; ``None`` = keep."""
    tok = text[start:end]
    prev = text[start - 1] if start > 0 else ""
    prev2 = text[max(0, start - 2) : start]
    nxt = text[end : end + 1]
    nxt3 = text[end : end + 4]
    if tok in ("110", "119", "120", "122") and nxt and nxt not in "元块平GMg兆个天分秒米斤度吨次件":
        return None  # an emergency number, not an amount
    if (tok in _SERVICE_NUMBERS and len(tok) > 3) or (len(tok) == 5 and tok.startswith("95")) or prev == "双" or tok == "618":
        return None
    if prev == "." and text[max(0, start - 2) : start - 1].isdigit():
        return "decimal"
    if nxt3.startswith("天无理由") or (nxt in "Gg" and tok in {"2", "3", "4", "5"} and not text[end + 1 : end + 2].isalnum()):
        return None  # 7天无理由 is the law, 5G a network generation
    if nxt in "Kk" and tok in {"2", "4", "8"}:
        return None  # 4K video
    if re.fullmatch(r"1[3-9]\d{9}", tok):
        return "mobile"
    if re.fullmatch(r"(19|20)\d\d", tok) and (nxt in "年-./" or prev in "-./"):
        return "year"
    small = int(tok) if tok.isdigit() and len(tok) <= 2 else None
    if small is not None and 1 <= small <= 12 and nxt == "月" and not prev2.endswith("个"):
        return "month"
    if small is not None and 1 <= small <= 31 and nxt in "日号" and text[end + 1 : end + 2] not in ("楼", "线", "床"):
        return "day"
    if small is not None and prev in ":：" and len(tok) == 2 and small <= 59:
        return "minute"
    if small is not None and small <= 24 and (nxt in ":：" or (nxt == "点" and text[end + 1 : end + 2] != "数")):
        return "hour"
    if nxt in "%％":
        return "percent"
    if nxt == "折":
        return "discount"
    if tok.startswith("400") and (nxt == "-" or len(tok) == 10):
        return "hotline400"
    return "generic"


_CLASS_RANK = {"decimal": -1, "year": 0, "month": 1, "day": 2, "minute": 3, "hour": 4, "percent": 5, "discount": 6, "mobile": 7, "hotline400": 8, "generic": 9}


def _new_number(tok: str, cls: str, rng: random.Random, prefix_hint: str = "") -> str:
    """A value of class ``cls`` in the written format of ``tok`` (digit count, decimals, zeros)."""
    if cls == "year":
        return str(rng.randint(2019, 2027))
    if cls == "decimal":
        return "".join(rng.choice("0123456789") for _ in range(len(tok)))
    if cls == "month":
        return _pad(rng.randint(1, 12), tok)
    if cls == "day":
        return _pad(rng.randint(1, 28), tok)
    if cls == "minute":
        return f"{rng.randint(0, 59):02d}"
    if cls == "hour":
        v = int(tok)
        if prefix_hint in ("下午", "晚上", "傍晚", "今晚", "昨晚") and v <= 12:
            return _pad(rng.randint(1, 11), tok)
        return _pad(rng.randint(1, 12) if v <= 12 else rng.randint(13, 23), tok)
    if cls == "percent":
        return str(rng.randint(1, 99))
    if cls == "discount":
        return str(rng.randint(5, 9)) if len(tok) == 1 else str(rng.randint(50, 98))
    if cls == "mobile":
        return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    if cls == "hotline400":
        return "400" + "".join(rng.choice("0123456789") for _ in range(len(tok) - 3))
    # generic: same shape. Leading zeros stay, the first significant digit stays non-zero.
    intpart, _, dec = tok.partition(".")
    out = []
    lead = len(intpart) - len(intpart.lstrip("0"))
    out.append("0" * lead)
    rest = len(intpart) - lead
    if rest > 0:
        out.append(rng.choice("123456789"))
        out.extend(rng.choice("0123456789") for _ in range(rest - 1))
    s = "".join(out) or "0"
    if dec:
        s += "." + "".join(rng.choice("0123456789") for _ in range(len(dec)))
    return s


def _pad(v: int, like: str) -> str:
    return f"{v:0{len(like)}d}" if like.startswith("0") and len(like) > 1 else str(v)


def _number_tokens(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _NUM_RE.finditer(text)]


def plan_swaps(pair: Pair, rng: random.Random) -> dict[str, str]:
    """A consistent mapping ``old → new`` for the facts of ``pair`` that can be varied.

    Numbers are varied only where they appear on both sides (a number on one side only is left
    alone); products, places, people, weekdays and relative days only where they sit in a
    ``keep`` span (elsewhere 今天 may be idiom, not a fact). Numbers inside a
    pooled product name (``iPhone 15``) belong to the name and are not varied on their own.
    """
    draft, ref, keep = pair["draft"], pair["reference"], list(pair.get("keep") or [])
    mapping: dict[str, str] = {}
    # Entities from keep spans.
    entity_values: list[str] = []
    for span in keep:
        for m in _lexicon_re().finditer(span):
            entity_values.append(m.group(0))
        for m in _NAME_RE.finditer(span):
            entity_values.append(m.group(0))
        if _AGENT_RE.match(span) or _FULLNAME_RE.match(span) or _COMPOUND_RE.match(span) or _BLOCK_RE.match(span):
            entity_values.append(span)
        if _CN_QTY_RE.match(span):
            entity_values.append(span)
        for group in (_WEEKDAYS, _WEEKDAYS_LONG, *_REL_GROUPS):
            entity_values.extend(w for w in group if w in span)
    used: set[str] = set()
    for value in entity_values:
        if value in mapping:
            continue
        new = _new_entity(value, rng, used)
        # Latin product names (IPTV, iPhone 14 Pro) are never swapped: the fact finder counts each
        # Latin word as a fact, so a swap would change how many facts the pair has.
        if new and new != value and not re.search("[A-Za-z]", value + new):
            mapping[value] = new
            used.add(new)
    # Numbers on both sides, outside entity strings.
    masked_d, masked_r = _blank(draft, mapping), _blank(ref, mapping)
    occ: dict[str, list[tuple[str, str]]] = {}
    for text in (masked_d, masked_r):
        for s, e in _number_tokens(text):
            cls = _classes(text, s, e)
            hint = next((h for h in _HOUR_BEFORE if text[:s].endswith(h)), "")
            occ.setdefault(text[s:e], []).append((cls or "skip", hint))
    d_tokens = {masked_d[s:e] for s, e in _number_tokens(masked_d)}
    r_tokens = {masked_r[s:e] for s, e in _number_tokens(masked_r)}
    for tok in sorted(d_tokens & r_tokens, key=lambda t: (len(t), t)):
        classes = occ[tok]
        if any(c == "skip" for c, _ in classes):
            continue
        cls, hint = min(classes, key=lambda ch: _CLASS_RANK[ch[0]])
        for _ in range(20):
            new = _new_number(tok, cls, rng, hint)
            if new != tok and new not in used and new not in d_tokens | r_tokens:
                mapping[tok] = new
                used.add(new)
                break
    return mapping


def _new_entity(value: str, rng: random.Random, used: set[str]) -> str | None:
    if value in LEXICON:
        kind, cat = LEXICON[value]
        pool = (PRODUCTS if kind == "product" else PLACES)[cat]
        choices = [v for v in pool if v != value and v not in used]
        return rng.choice(choices) if choices else None
    for group in (_WEEKDAYS, _WEEKDAYS_LONG):
        if value in group:
            choices = [v for v in group if v != value and v not in used]
            return rng.choice(choices) if choices else None
    m = _NAME_RE.fullmatch(value)
    if m:
        return rng.choice([s for s in SURNAMES if s != m.group(1)]) + m.group(2)
    m = _AGENT_RE.match(value)
    if m:
        return "小" + rng.choice([s for s in SURNAMES if s != m.group(1)])
    m = _FULLNAME_RE.match(value)
    if m:
        return rng.choice([s for s in SURNAMES if s != m.group(1)]) + rng.choice(GIVEN_NAMES)
    m = _CN_QTY_RE.match(value)
    if m:
        pre, num, ge, unit, post = (g or "" for g in m.groups())
        choices = [d for d in _CN_DIGITS if d != num]
        if unit in ("年", "小时", "季度", "次", "件", "晚", "周") or ge:
            choices = [d for d in choices if d != "一"] + ["一"]
        return pre + rng.choice(choices) + ge + unit + post
    if _COMPOUND_RE.match(value):
        return rng.choice([v for v in PLACES["compound"] if v not in used and v != value])
    if _BLOCK_RE.match(value):
        return rng.choice([c for c in "ABCDEFGH" if c != value[0]]) + "座"
    for group in _REL_GROUPS:
        if value in group:
            choices = [v for v in group if v != value and v not in used]
            return rng.choice(choices) if choices else None
    return None


_LEX_RE: re.Pattern[str] | None = None


def _lexicon_re() -> re.Pattern[str]:
    global _LEX_RE
    if _LEX_RE is None:
        _LEX_RE = re.compile("|".join(re.escape(v) for v in sorted(LEXICON, key=lambda v: (-len(v), v))))
    return _LEX_RE


def _blank(text: str, mapping: dict[str, str]) -> str:
    """``text`` with every mapped entity string replaced by spaces of the same length."""
    ents = [k for k in mapping if not _NUM_RE.fullmatch(k)]
    if not ents:
        return text
    pat = re.compile("|".join(re.escape(k) for k in sorted(ents, key=lambda v: (-len(v), v))))
    return pat.sub(lambda m: " " * len(m.group(0)), text)


def _entity_spans(text: str, mapping: dict[str, str]) -> list[tuple[int, int]]:
    ents = [k for k in mapping if not _NUM_RE.fullmatch(k)]
    if not ents:
        return []
    pat = re.compile("|".join(re.escape(k) for k in sorted(ents, key=lambda v: (-len(v), v))))
    return [m.span() for m in pat.finditer(text)]


def apply_swaps(text: str, mapping: dict[str, str]) -> str:
    """Replace every mapped string in one left-to-right pass (entities first, then whole numbers)."""
    if not mapping:
        return text
    ents = sorted((k for k in mapping if not _NUM_RE.fullmatch(k)), key=lambda v: (-len(v), v))
    alts = [re.escape(k) for k in ents] + [_NUM]
    pat = re.compile("|".join(alts))
    return pat.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def swap_facts(pair: Pair, rng: random.Random) -> Pair | None:
    """``pair`` with its facts replaced consistently on both sides and in ``keep``; ``None`` if
    nothing could be varied or the facts did not survive (a fact's boundaries moved)."""
    mapping = plan_swaps(pair, rng)
    if not mapping:
        return None
    new = dict(pair)
    new["draft"] = apply_swaps(pair["draft"], mapping)
    new["reference"] = apply_swaps(pair["reference"], mapping)
    new["keep"] = [apply_swaps(k, mapping) for k in pair.get("keep") or []]
    # Every fact of the original (widened to whole numbers), varied the same way, must be in the
    # new text. Facts inside a swapped entity are covered by the keep check below.
    for side in ("draft", "reference"):
        text = pair[side]
        ent = _entity_spans(text, mapping)
        for s, e, _ in find_facts(text):
            while s > 0 and text[s - 1].isdigit():
                s -= 1
            while e < len(text) and text[e].isdigit():
                e += 1
            if any(s < ee and ss < e for ss, ee in ent):
                continue
            if apply_swaps(text[s:e], mapping) not in new[side]:
                return None
    if any(k not in new["draft"] or k not in new["reference"] for k in new["keep"]):
        return None
    return new


# ---------------------------------------------------------------------------------------------
# Casual noise on the draft side

_PUNCT = "，。！？、；：,.!?;:"
_END_PUNCT = "。！？!?"
_PARTICLES = ("啊", "呀", "嘛", "哦", "哈", "呢", "啦")
_FINALS = ("吗", "吧", "了", "么")  # a particle after these reads wrong (是外放吗呀)


def _op_nin(t: str, rng: random.Random) -> str:
    if "您" not in t:
        return t
    return t.replace("您们", "你们").replace("您", "你") if rng.random() < 0.8 else t.replace("您", "你", 1)


def _op_qing(t: str, rng: random.Random) -> str:
    # Drop a polite 请 at the start of a clause, never inside a word (申请, 邀请).
    return re.sub(r"(^|[，。！？,!?\s])请(?:问)?(?=[\u4e00-\u9fff])", r"\1", t)


def _op_particle(t: str, rng: random.Random) -> str:
    p = rng.choice(_PARTICLES)
    ends = [m.start() for m in re.finditer(f"[{_END_PUNCT}]", t)]
    if ends and rng.random() < 0.6:
        i = rng.choice(ends)
        if t[i - 1 : i] in _PARTICLES + _FINALS or t[i - 1 : i] == ">":
            return t
        return t[:i] + p + t[i:]
    stripped = t.rstrip(_END_PUNCT + "，,")
    if stripped.endswith(">") or stripped[-1:] in _PARTICLES + _FINALS:
        return t
    return stripped + p + t[len(stripped):]


def _op_punct_drop(t: str, rng: random.Random) -> str:
    sep = rng.choice((" ", "", " "))
    if rng.random() < 0.5:
        return re.sub(f"[{_PUNCT}]+", sep, t).strip()
    # Drop only the final mark and the commas.
    return re.sub(r"[，,]", sep, t).rstrip(_END_PUNCT).strip()


def _op_punct_double(t: str, rng: random.Random) -> str:
    marks = [m.start() for m in re.finditer(f"[{_END_PUNCT}]", t)]
    if not marks:
        return t + rng.choice(("。。", "！！", "？？", "..."))
    i = rng.choice(marks)
    if rng.random() < 0.2:
        return t[:i] + "~" + t[i + 1 :]
    return t[: i + 1] + rng.choice((t[i], t[i] * 2)) + t[i + 1 :]


def _op_qin(t: str, rng: random.Random) -> str:
    if t.startswith("亲"):
        return t
    return rng.choice(("亲，", "亲 ", "亲亲，", "亲爱的，", "亲～")) + t


def _op_filler(t: str, rng: random.Random) -> str:
    return rng.choice(("嗯，", "嗯 ", "那个，", "哦 ", "好的好的，", "是这样，", "额 ")) + t


_NOISE_OPS = {
    "nin": _op_nin,
    "qing": _op_qing,
    "particle": _op_particle,
    "punct_drop": _op_punct_drop,
    "punct_double": _op_punct_double,
    "qin": _op_qin,
    "filler": _op_filler,
}


def add_noise(pair: Pair, rng: random.Random, tries: int = 3) -> tuple[Pair, list[str]] | None:
    """``pair`` with a casual draft (1–3 noise operations, drawn again up to ``tries`` times when
    they change nothing); facts and keep spans are untouched because the operations run on the
    draft with facts masked. ``None`` if the draft could not be changed."""
    prot = protect_for_model(pair["draft"], list(pair.get("keep") or []), content=False)
    names = ["nin", "qing", "particle", "punct_drop", "punct_double", "filler"]
    if pair["channel"] == "chat":
        names.append("qin")
    before = [m.group(0) for m in PLACEHOLDER_RE.finditer(prot.masked)]
    for _ in range(tries):
        chosen = sorted(rng.sample(names, k=rng.choice((1, 1, 2, 2, 3))), key=names.index)
        t = prot.masked
        applied: list[str] = []
        for name in chosen:
            t2 = _NOISE_OPS[name](t, rng)
            if t2 != t:
                applied.append(name)
            t = t2
        t2 = re.sub(r"\s+", " ", t).strip()
        if t2 != t and not applied:
            applied.append("spaces")
        t = t2
        if [m.group(0) for m in PLACEHOLDER_RE.finditer(t)] != before:
            continue
        draft = restore(t, prot.slots)
        if not draft or draft == pair["draft"] or any(k not in draft for k in pair.get("keep") or []):
            continue
        new = dict(pair)
        new["draft"] = draft
        return new, applied
    return None


# ---------------------------------------------------------------------------------------------
# Joining pairs into multi-sentence replies

_FIRST = ("opening_greeting",)
_LAST = ("closing",)
_GREETING_PREFIX = re.compile(r"^(?:(?:亲亲|亲爱的|亲)[，,！!~～\s]*)?(?:您好|你好|哈喽|在的)?[，,！!。~～\s]*")


def join_pairs(pairs: list[Pair], rng: random.Random, max_draft: int = 120, max_ref: int = 200) -> Pair | None:
    """One pair whose draft and reference are the parts joined in a natural order (greeting
    first, closing last, one greeting only). ``None`` if the result would be too long."""
    order = sorted(range(len(pairs)), key=lambda i: (0 if pairs[i]["scenario"] in _FIRST else 2 if pairs[i]["scenario"] in _LAST else 1, i))
    parts = [pairs[i] for i in order]
    if sum(p["scenario"] in _FIRST for p in parts) > 1 or sum(p["scenario"] in _LAST for p in parts) > 1:
        return None
    drafts: list[str] = []
    refs: list[str] = []
    for k, p in enumerate(parts):
        d, r = p["draft"], p["reference"]
        if k > 0:
            d2, r2 = _GREETING_PREFIX.sub("", d), _GREETING_PREFIX.sub("", r)
            if d2 and r2 and all(s in d2 and s in r2 for s in p.get("keep") or []):
                d, r = d2, r2
        if r[-1] not in "。！？!?…）)":
            r += "。"
        drafts.append(d)
        refs.append(r)
    sep = rng.choice(("，", " ", "。", "", "  "))
    draft = drafts[0]
    for d in drafts[1:]:
        draft += (" " if draft[-1] in _PUNCT else sep) + d
    reference = "".join(refs)
    if len(draft) > max_draft or len(reference) > max_ref:
        return None
    keep: list[str] = []
    for p in parts:
        for s in p.get("keep") or []:
            if s not in keep:
                keep.append(s)
    main = next((p for p in parts if p["scenario"] not in _FIRST + _LAST), parts[0])
    return {
        "draft": draft,
        "reference": reference,
        "keep": keep,
        "domain": parts[0]["domain"],
        "scenario": main["scenario"],
        "channel": parts[0]["channel"],
    }
