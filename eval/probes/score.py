"""Judged acceptability of the default engine on a probe set of fresh drafts, per set and version.

    python eval/probes/score.py eval/probes/fresh3-2026-12-01

A probe folder holds drafts*.jsonl (``id``, ``draft``, ``kind``), outputs.jsonl (the engine's reply
per draft and ``version``, with an optional ``set``) and judgments.jsonl (one blind verdict per
distinct draft/reply pair). Prints how many replies a judge would send, overall and by kind.
"""
from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

from rewrite.evaluation.judging import judgment_key

KINDS = ("offending", "terse", "fine")


def table(folder: Path) -> list[str]:
    kind = {r["id"]: r["kind"] for f in sorted(folder.glob("drafts*.jsonl"))
            for r in map(json.loads, open(f, encoding="utf-8"))}
    verdict = {r["key"]: r["verdict"] for r in map(json.loads, open(folder / "judgments.jsonl", encoding="utf-8"))}
    counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for r in map(json.loads, open(folder / "outputs.jsonl", encoding="utf-8")):
        # A reply no judge has seen yet (a version run for reading, not measured) is counted apart.
        v = verdict.get(judgment_key(r["draft"], r["output"]), "unjudged")
        counts[(r.get("set", "test"), r["version"])][(kind[r["id"]], v)] += 1
    lines = ["| set | version | judged acceptable | offending | terse | fine | unjudged |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for (s, ver), c in counts.items():
        ok = sum(c[(k, "ok")] for k in KINDS)
        n = sum(c[(k, v)] for k in KINDS for v in ("ok", "bad"))
        un = sum(c[(k, "unjudged")] for k in KINDS)
        cells = " | ".join(f"{c[(k, 'ok')]}/{c[(k, 'ok')] + c[(k, 'bad')]}" for k in KINDS)
        share = f"{100 * ok / n:.1f} %" if n else "–"
        lines.append(f"| {s} | {ver} | {ok}/{n} ({share}) | {cells} | {un} |")
    return lines


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "outputs.jsonl").is_file():
        sys.exit("用法：python eval/probes/score.py <探针目录>（目录里要有 drafts*.jsonl、outputs.jsonl、judgments.jsonl）")
    print("\n".join(table(Path(sys.argv[1]))))
