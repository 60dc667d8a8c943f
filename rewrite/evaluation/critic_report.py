"""``python -m rewrite.evaluation.critic_report``: the checker with its two sources, measured on
sets it never trained on (docs/checker.md quotes this output).

* the labelled clause set (``tests/cases/critic_clauses.jsonl``): precision, recall overall and
  per category, false alarms on acceptable clauses (all, and real-style), recall on offences that
  carry no rule keyword — for the critic alone, the rules alone, and both;
* the 261-case rule table (``tests/cases/checker_cases.yaml``) with rules alone and with both
  (here every finding counts, particle ones too: the table labels them);
* held-out drafts that carry ``must_fix`` spans: the share the checker flags; and the share of
  held-out references it flags.

On the clause set and the held-out bench a clause (reply) counts as flagged when a finding asks for
a rewrite; particle findings (哦/恩/啦 …) ask only for the tidy-up the seeds spell out (issue 13,
item 4) and are reported apart (``tidy_up_only_acceptable``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[2]


def is_tidy_up(finding: Any) -> bool:
    """A low-severity particle-rule finding (哦/恩/啦 …) or a common typo (配和): the seeds ask for a
    tidy-up, not a rewrite (issue 13, item 4), so it is not counted as flagging the clause; the
    report gives its rate apart. 呵呵 (medium: a sneer in text) still counts."""
    return finding.rule_id.startswith(("particle.", "typo.")) and finding.severity == "low"


def _share(xs: Sequence[bool]) -> float | None:
    return round(sum(xs) / len(xs), 3) if xs else None


def clause_set(path: Path) -> dict[str, Any]:
    from rewrite.norms.checker import check, find

    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    out: dict[str, Any] = {"clauses": len(recs)}
    for name in ("critic", "rules", "both"):
        flags, tidy = [], []
        for r in recs:
            s = r["context"].find(r["clause"])
            e = s + len(r["clause"])
            if name == "rules":
                fs = [f for f in find(r["context"]) if f.start < e and s < f.end]
            else:
                rep = check(r["context"], critic=True)
                fs = [f for f in rep.findings if f.start < e and s < f.end and (name == "both" or f.source == "model")]
            # a particle finding (哦/恩 …) asks for the tidy-up the seeds spell out, not a rewrite
            flags.append(any(not is_tidy_up(f) for f in fs))
            tidy.append(bool(fs) and all(is_tidy_up(f) for f in fs))
        off = [r["label"] != "ok" for r in recs]
        tp = sum(f and o for f, o in zip(flags, off))
        fp = sum(f and not o for f, o in zip(flags, off))
        no_kw = [i for i, r in enumerate(recs) if r["label"] != "ok" and not find(r["clause"])]
        real_ok = [i for i, r in enumerate(recs) if r["label"] == "ok" and r.get("style", "plain") != "plain"]
        out[name] = {
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": _share([flags[i] for i, o in enumerate(off) if o]),
            "false_alarms": _share([flags[i] for i, o in enumerate(off) if not o]),
            "false_alarms_real_style": _share([flags[i] for i in real_ok]),
            "tidy_up_only_acceptable": _share([tidy[i] for i, o in enumerate(off) if not o]),
            "no_keyword_recall": _share([flags[i] for i in no_kw]),
            "per_category_recall": {c: _share([flags[i] for i, r in enumerate(recs) if r["label"] == c])
                                    for c in sorted({r["label"] for r in recs} - {"ok"})},
        }
    out["offending"] = sum(r["label"] != "ok" for r in recs)
    out["no_keyword_offending"] = sum(1 for r in recs if r["label"] != "ok" and not find(r["clause"]))
    out["real_style_acceptable"] = sum(1 for r in recs if r["label"] == "ok" and r.get("style", "plain") != "plain")
    return out


def case_table() -> dict[str, Any]:
    import yaml

    from rewrite.norms.checker import check

    cases = yaml.safe_load((ROOT / "tests" / "cases" / "checker_cases.yaml").read_text(encoding="utf-8"))
    cases = cases["cases"] if isinstance(cases, dict) else cases
    res = {}
    for name, critic in (("rules", False), ("both", True)):
        tp = fp = fn = 0
        for c in cases:
            flagged = bool(check(c["text"], channel=c.get("channel"), critic=critic).findings)
            if c["label"] == "breach":
                tp += flagged
                fn += not flagged
            else:
                fp += flagged
        res[name] = {"precision": round(tp / (tp + fp), 3), "recall": round(tp / (tp + fn), 3), "n": len(cases)}
    return res


def _flags(report: Any) -> bool:
    return any(not is_tidy_up(f) for f in report.findings)


def heldout() -> dict[str, Any]:
    from rewrite.norms.checker import check

    items = [json.loads(x) for x in (ROOT / "eval" / "bench" / "heldout.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    offending = [it for it in items if it.get("must_fix")]
    return {
        "drafts_with_must_fix": len(offending),
        "flagged_rules": _share([_flags(check(it["draft"], channel=it.get("channel"))) for it in offending]),
        "flagged_both": _share([_flags(check(it["draft"], channel=it.get("channel"), critic=True)) for it in offending]),
        "references": len(items),
        "references_flagged_both": _share([_flags(check(it["reference"], channel=it.get("channel"), critic=True)) for it in items]),
    }


def cascade(path: Path) -> dict[str, Any] | None:
    """How the critic's cascade (the encoder skipped where the n-gram model is sure a clause is
    acceptable) compares with always running both, on the clause set: clauses whose flag differs,
    and the share of clauses that still reach the encoder."""
    from rewrite.norms.critic import load_critic

    model = load_critic()
    bound = ((model.config.get("ngram") or {}).get("skip_encoder_above")) if model is not None else None
    if bound is None:
        return None
    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    pairs = [(r["clause"], r["context"]) for r in recs]
    fast, full = model.probs(pairs), model.probs(pairs, cascade=False)
    ng = model.ngram_probs(pairs)
    changed = int(sum((a[0] < model.threshold) != (b[0] < model.threshold) for a, b in zip(fast, full)))
    return {"skip_encoder_above": bound, "clauses": len(recs), "flags_changed": changed,
            "encoder_share": round(float((ng[:, 0] < bound).mean()), 3)}


#: The frames the engines put around a reply (opening, close): the checker must hear an offence
#: inside them as it hears it bare.
ENGINE_FRAMES = (("您好，", "。请问还有什么可以帮您？"), ("非常抱歉，", "。感谢您的理解。"),
                 ("好的，", "。请问还有什么可以帮您？"), ("对不起，", "。"))


def framed(path: Path) -> dict[str, Any] | None:
    """The critic on the clause set with each reply inside the engines' frames (:data:`ENGINE_FRAMES`):
    recall on the offending clauses and false alarms on the acceptable ones, per frame. A checker
    that a polite close talks out of an offence calls every framed rewrite compliant."""
    from rewrite.norms.critic import judge, load_critic

    model = load_critic()
    if model is None:
        return None
    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    out = {}
    for head, tail in ENGINE_FRAMES:
        flags = []
        for r in recs:
            text = head + r["context"].rstrip("。！？!?~～ ") + tail
            flags.append(any(v.label != "ok" and v.text == r["clause"] for v in judge(model, text)))
        out[f"{head}…{tail}"] = {"recall": _share([f for f, r in zip(flags, recs) if r["label"] != "ok"]),
                                "false_alarms": _share([f for f, r in zip(flags, recs) if r["label"] == "ok"])}
    return out


def judged_outputs() -> dict[str, Any] | None:
    """Does the checker agree with the blind judges on what the engines wrote? Over every judged
    output that differs from its draft (``eval/judgments``, the majority verdict per output): the
    share the checker (both sources) flags among the outputs judged to keep rude wording
    (``rude_left``), and among those judged acceptable. Never used to tune anything."""
    from collections import defaultdict

    from rewrite.evaluation.judging import load_judgments
    from rewrite.norms.checker import check

    rows, _ = load_judgments()
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if r.get("output") and r["output"] != r.get("draft"):
            by[(r["draft"], r["output"])].append(r)
    rude, ok = [], []
    for (_, out), js in by.items():
        flagged = _flags(check(out, critic=True))
        if 2 * sum("rude_left" in (j.get("reasons") or []) for j in js) >= len(js):
            rude.append(flagged)
        elif 2 * sum(j["verdict"] == "ok" for j in js) > len(js):
            ok.append(flagged)
    if not rude and not ok:
        return None
    return {"outputs_judged_rude_left": len(rude), "flagged_rude_left": _share(rude),
            "outputs_judged_ok": len(ok), "flagged_ok": _share(ok)}


#: The false-alarm rates at which :func:`at_false_alarms` reads the critic's recall.
FALSE_ALARM_RATES = (0.015, 0.02, 0.025, 0.03)


def at_false_alarms(path: Path) -> dict[str, Any] | None:
    """A diagnostic for comparing two critics, never used to tune one: the critic alone (both
    models, no cascade) with its threshold set, on the clause set's acceptable clauses, to each
    of :data:`FALSE_ALARM_RATES`, and the recall on the offending clauses at that threshold."""
    import numpy as np

    from rewrite.norms.critic import load_critic

    model = load_critic()
    if model is None:
        return None
    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    p = model.probs([(r["clause"], r["context"]) for r in recs], cascade=False)[:, 0]
    off = np.array([r["label"] != "ok" for r in recs])
    out = {}
    for rate in FALSE_ALARM_RATES:
        t = float(np.quantile(p[~off], rate))  # a clause is flagged when p(ok) < t
        out[f"{rate:.3f}"] = round(float((p[off] < t).mean()), 3)
    return {"recall_at_false_alarms": out,
            "at_threshold": {"recall": round(float((p[off] < model.threshold).mean()), 3),
                             "false_alarms": round(float((p[~off] < model.threshold).mean()), 3)}}


def main(argv: Sequence[str] | None = None) -> int:
    from rewrite.norms.critic import critic_status

    path = ROOT / "tests" / "cases" / "critic_clauses.jsonl"
    report = {"critic": critic_status(), "clause_set": clause_set(path), "cascade": cascade(path),
              "no_cascade": at_false_alarms(path), "framed": framed(path), "case_table": case_table(),
              "heldout": heldout(), "judged_outputs": judged_outputs()}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
