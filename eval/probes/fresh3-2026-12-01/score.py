"""Judged acceptability of the default engine on this probe's drafts, per version.

    python eval/probes/fresh3-2026-12-01/score.py

Reads drafts*.jsonl, outputs.jsonl (the default engine's replies, one line per draft and version)
and judgments.jsonl (one blind verdict per distinct draft/reply pair) next to this file.
"""
from __future__ import annotations

import collections
import json
from pathlib import Path

from rewrite.evaluation.judging import judgment_key

HERE = Path(__file__).parent
KINDS = ("offending", "terse", "fine")


def main() -> None:
    kind = {r["id"]: r["kind"] for f in sorted(HERE.glob("drafts*.jsonl"))
            for r in map(json.loads, open(f, encoding="utf-8"))}
    verdict = {r["key"]: r["verdict"] for r in map(json.loads, open(HERE / "judgments.jsonl", encoding="utf-8"))}
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in map(json.loads, open(HERE / "outputs.jsonl", encoding="utf-8")):
        table[r["version"]][(kind[r["id"]], verdict[judgment_key(r["draft"], r["output"])])] += 1
    print("| version | judged acceptable | offending | terse | fine |")
    print("| --- | --- | --- | --- | --- |")
    for ver, c in table.items():
        ok = sum(c[(k, "ok")] for k in KINDS)
        n = sum(c.values())
        cells = " | ".join(f"{c[(k, 'ok')]}/{c[(k, 'ok')] + c[(k, 'bad')]}" for k in KINDS)
        print(f"| {ver} | {ok}/{n} ({100 * ok / n:.1f} %) | {cells} |")


if __name__ == "__main__":
    main()
