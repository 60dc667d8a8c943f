"""Audit pairs against the corpus-v2 rules of ``docs/DATA_SPEC.md``: spans, faithfulness, counts.

Standard library only, so it also runs as a plain script while the package is being changed::

    python rewrite/data/audit.py FILE.jsonl [FILE.jsonl ...] [--bench] [--v2]

It prints one ``file:line: problem`` row per broken pair, then counts (domains, categories,
styles, acceptable share, multi-clause share) and exits 1 when any pair is broken.

The faithfulness rule: a reference may add courtesy, empathy, ownership and offers of help, never
facts. :func:`added_facts` lists what a reference states that its draft does not: digit runs,
Chinese-numeral quantities with a unit, and the fact-bearing words of :data:`FACT_WORDS`. A pair
may carry ``allow_added`` (a list of those items with a reason in ``allow_note``) when the
addition is a fair reading of the draft.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from rewrite.data.spec import pair_problems

#: Critic categories (docs/DATA_SPEC.md): id -> Chinese name.
CATEGORIES: dict[str, str] = {
    "blame": "指责/推卸",
    "deflect": "推诿",
    "command": "命令",
    "rhetorical": "反问/质问",
    "impatience": "不耐烦",
    "refuse": "生硬拒绝",
    "curt": "冷漠/敷衍",
    "slang": "口语/粗俗",
    "overpromise": "过度承诺",
    "contradict": "否定客户",
}

#: Styles a pair is written in; every value but ``plain`` counts as real-style.
STYLES: tuple[str, ...] = ("plain", "shopchat", "transcript", "weibo", "faq", "masked", "latin", "typo")

#: Words that carry a fact (a document, a fee, a deadline, a promised outcome): a reference may
#: use one only when its draft does (or the pair's ``allow_added`` names it).
FACT_WORDS: tuple[str, ...] = (
    "身份证", "户口本", "护照", "营业执照", "原件", "复印件", "证明", "凭证", "发票", "截图",
    "手续费", "违约金", "滞纳金", "押金", "运费", "包邮", "免费", "收费", "费用",
    "工作日", "小时内", "天内", "当天", "今天", "明天", "后天", "本周", "下周", "月底",
    "退款", "退货", "换货", "赔偿", "补偿", "赔付", "理赔", "返现", "红包", "优惠券", "代金券", "积分",
    "上门", "加急", "优先", "保修", "免单",
)

_DIGITS = re.compile(r"[0-9０-９]+(?:[.:：][0-9０-９]+)*")
_CN_QTY = re.compile(r"[一二两三四五六七八九十百千万半]+(?:个)?(?:工作日|小时|分钟|天|日|周|星期|个月|月|年|元|块|毛|角|折|倍|公里|公斤|斤|件|张)")
_PUNCT = re.compile(r"[\s，,。.！!？?；;：:、~～…—\-_()（）【】\[\]“”\"'‘’《》<>/]+")
_CLAUSE_SPLIT = re.compile(r"[，,。！!？?；;\s~～…]+")
_PARTICLES = re.compile(r"[哦噢恩嗯]")


def fold(text: str) -> str:
    """The form spans are matched in: 你 folded to 您, punctuation and spaces removed."""
    return _PUNCT.sub("", text.replace("你", "您"))


def content_key(text: str) -> str:
    """:func:`fold` keeping only Han characters, digits and Latin letters: the form in which two
    wordings are compared character by character."""
    return re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", fold(text))


def char_bigrams(key: str) -> list[str]:
    """The character bigrams of ``key`` in order (repeats kept)."""
    return [key[i: i + 2] for i in range(len(key) - 1)]


#: Words that make a clause look polite without changing what it says: a clause that keeps its
#: wording behind them is still the clause (请不要一直打电话占线 is 别一直打电话占线).
_VENEER = ((re.compile(r"请不要|请勿|不要"), "别"), (re.compile(r"您们"), "您"),
           (re.compile(r"请问(?:您)?是否"), "您是不是"), (re.compile(r"请您|麻烦您|请问|请"), ""))


def polite_fold(text: str) -> str:
    """:func:`fold` with the polite veneer (:data:`_VENEER`) taken off too."""
    t = fold(text)
    for pat, rep in _VENEER:
        t = pat.sub(rep, t)
    return t


def clause_core(text: str) -> str:
    """A clause as compared across a draft and a rewrite: :func:`polite_fold`, trailing particles off."""
    return re.sub(r"[啊呀吧呢哦噢嘛啦哈]+$", "", polite_fold(text))


def clauses(text: str) -> list[str]:
    """The clauses of ``text``: pieces between punctuation marks and spaces, empty ones dropped."""
    return [c for c in _CLAUSE_SPLIT.split(text) if c.strip()]


def fact_items(text: str) -> set[str]:
    """Digit runs and Chinese-numeral quantities in ``text`` (full-width digits folded)."""
    norm = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return set(_DIGITS.findall(norm)) | set(_CN_QTY.findall(norm))


def added_facts(draft: str, reference: str) -> list[str]:
    """What ``reference`` states that ``draft`` does not: numbers, quantities, fact words."""
    d_norm = draft.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    added = sorted(x for x in fact_items(reference) - fact_items(draft) if x not in d_norm)
    added += [w for w in FACT_WORDS if w in reference and w not in draft]
    return added


def is_acceptable_pair(draft: str, reference: str) -> bool:
    """True when the reference is the draft itself or the draft with only 哦/恩 tidied away."""
    if reference == draft:
        return True
    return _PUNCT.sub("", _PARTICLES.sub("", draft)) == _PUNCT.sub("", _PARTICLES.sub("", reference))


def pair_problems_v2(rec: dict[str, Any], *, bench: bool = False) -> list[str]:
    """Why ``rec`` breaks the corpus-v2 rules (one reason per item); ``[]`` when it does not."""
    problems: list[str] = []
    draft, ref = rec.get("draft"), rec.get("reference")
    if not isinstance(draft, str) or not draft.strip():
        return ["缺少 draft"]
    if not isinstance(ref, str) or not ref.strip():
        return ["缺少 reference"]
    must_fix = rec.get("must_fix")
    if not isinstance(must_fix, list) or not all(isinstance(s, str) and s.strip() for s in must_fix):
        problems.append("must_fix 必须是非空字符串的列表（可为 []）")
        must_fix = []
    cats = rec.get("categories", None)
    if cats is not None:
        if not isinstance(cats, list) or len(cats) != len(must_fix):
            problems.append("categories 必须与 must_fix 一一对应")
        else:
            problems += [f"未知类别 {c!r}" for c in cats if c not in CATEGORIES]
    ref_folded = fold(ref)
    for span in must_fix:
        if span not in draft:
            problems.append(f"must_fix「{span}」不在 draft 中")
        elif fold(span) and fold(span) in ref_folded:
            problems.append(f"must_fix「{span}」仍出现在 reference 中")
    for span in rec.get("keep", []) or []:
        if span not in draft or span not in ref:
            problems.append(f"keep「{span}」不同时出现在 draft 和 reference 中")
    style = rec.get("style")
    if style is not None and style not in STYLES:
        problems.append(f"未知风格 style={style!r}（可选：{', '.join(STYLES)}）")
    allowed = set(rec.get("allow_added", []) or [])
    if allowed and not rec.get("allow_note"):
        problems.append("allow_added 需要 allow_note 说明理由")
    extra = [x for x in added_facts(draft, ref) if x not in allowed]
    if extra:
        problems.append(f"reference 添加了 draft 没有的事实：{'、'.join(extra)}")
    return problems


def record_problems(rec: dict[str, Any], *, training: bool = True, require_reference: bool = True) -> list[str]:
    """Everything wrong with a pair as the build and the feedback store read it: the fields every
    pair needs (:func:`rewrite.data.spec.pair_problems`: domain, scenario, channel, keep …) and, for
    a corpus-v2 pair, the ``must_fix`` and faithfulness rules (:func:`pair_problems_v2`)."""
    problems = pair_problems(rec, training=training, require_reference=require_reference)
    draft, ref = rec.get("draft"), rec.get("reference")
    if "must_fix" in rec and isinstance(draft, str) and (not require_reference or isinstance(ref, str)):
        problems += [p for p in pair_problems_v2(rec) if not p.startswith("keep")]
    return problems


def read_jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record or None, error) for each non-blank line of ``path``."""
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield i, None, f"JSON 无法解析：{exc.msg}（第 {exc.colno} 列）"
                continue
            if not isinstance(rec, dict):
                yield i, None, "每行必须是一个 JSON 对象"
                continue
            yield i, rec, ""


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts the corpus-v2 targets are stated in."""
    n = len(records) or 1
    cats: Counter[str] = Counter()
    for r in records:
        cats.update(set(r.get("categories") or []))
    return {
        "pairs": len(records),
        "domains": dict(Counter(r.get("domain") for r in records).most_common()),
        "styles": dict(Counter(r.get("style", "plain") for r in records).most_common()),
        "categories (pairs)": dict(cats.most_common()),
        "with must_fix": round(sum(bool(r.get("must_fix")) for r in records) / n, 3),
        "acceptable (ref = draft or particle tidy)": round(
            sum(is_acceptable_pair(r["draft"], r["reference"]) for r in records) / n, 3),
        "multi-clause (>=3) with >=2 facts": round(sum(
            len(clauses(r["draft"])) >= 3 and len(r.get("keep") or []) + len(fact_items(r["draft"])) >= 2
            for r in records) / n, 3),
        "real-style": round(sum(r.get("style", "plain") != "plain" for r in records) / n, 3),
    }


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    bench = "--bench" in args
    files = [Path(a) for a in args if not a.startswith("--")]
    bad = 0
    records: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in files:
        for line_no, rec, err in read_jsonl(path):
            where = f"{path}:{line_no}"
            if rec is None:
                print(f"{where}: {err}")
                bad += 1
                continue
            probs = pair_problems_v2(rec, bench=bench)
            # and the fields every pair needs (domain, scenario, channel …), as the build reads them
            probs += [p for p in pair_problems(rec, training=not bench) if p not in probs]
            key = rec.get("draft", "")
            if key in seen:
                probs.append(f"draft 与 {seen[key]} 重复")
            seen[key] = where
            for p in probs:
                print(f"{where}: {p}")
            bad += bool(probs)
            records.append(rec)
    print(json.dumps(summarise(records), ensure_ascii=False, indent=1))
    print(f"{bad} broken pair(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
