"""``python -m rewrite.evaluation.attribution``: who wrote the rewrite of each offending draft.

For every bench item with ``must_fix`` spans, the engine's result is attributed by its
``fallback`` flag and its ``notes``: the engine itself (its own candidate passed), the edit
fallback, the rules, the planner (with its clause actions: generator rewrites, drops, rules
repairs), a least-bad candidate whose note names a clause left unrewritten, or the draft unchanged.
The engine issue asks the generator to write most rewritten offending clauses; this says how many
it does.

    python -m rewrite.evaluation.attribution --bench eval/bench/heldout.jsonl [--system seq2seq]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any, Sequence


def attribute(system: str, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    from rewrite import load_rewriter

    rw = load_rewriter(system)
    who: Counter[str] = Counter()
    clauses: Counter[str] = Counter()
    for it in items:
        if not it.get("must_fix"):
            continue
        res = rw.rewrite(it["draft"], channel=it.get("channel", "phone"), keep=it.get("keep", []))
        note = " ".join(res.notes)
        if res.target == it["draft"]:
            who["unchanged"] += 1
        elif not res.fallback:
            who[f"{system} (its own candidate)"] += 1
        elif "未能改写不得体的分句" in note:
            who["least bad, a clause named in notes"] += 1
        elif "经 plan" in note:
            who["planner"] += 1
            for plans in getattr(rw.planner, "last_plans", None) or []:
                for p in plans:
                    if p.action != "keep":
                        clauses["generator" if any("生成模型" in w for w in p.why) else p.action] += 1
        elif "经 edit" in note:
            who["edit fallback"] += 1
        else:
            who["rules"] += 1
    return {"system": system, "offending_drafts": sum(who.values()), "written_by": dict(who),
            "planner_clause_actions": dict(clauses)}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rewrite.evaluation.attribution", description=__doc__.splitlines()[0])
    ap.add_argument("--bench", required=True)
    ap.add_argument("--system", default="seq2seq")
    args = ap.parse_args(argv)
    from rewrite.data.jsonl import loads_strict

    items = []
    with open(args.bench, encoding="utf-8") as fh:
        for line in fh:
            try:
                items.append(loads_strict(line))
            except ValueError:
                continue
    print(json.dumps(attribute(args.system, items), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
