"""Judged acceptability of the default engine on the fresh probe drafts, per set and version.

    python eval/probes/fresh-2026-12-01/score.py

Reads outputs.jsonl (the default engine's replies at each version) and judgments.jsonl (one blind
verdict per distinct draft/reply pair) next to this file and prints, per set and version, how many
replies a judge would send, overall and by kind of draft.
"""
from __future__ import annotations

import collections
import json
from pathlib import Path

from rewrite.evaluation.judging import judgment_key

HERE = Path(__file__).parent
KINDS = ("offending", "terse", "fine")


def main() -> None:
    kind = {}
    for name in ("drafts-dev.jsonl", "drafts-test.jsonl"):
        for line in open(HERE / name, encoding="utf-8"):
            r = json.loads(line)
            kind[r["id"]] = r["kind"]
    verdict = {r["key"]: r["verdict"] for r in map(json.loads, open(HERE / "judgments.jsonl", encoding="utf-8"))}
    table: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for r in map(json.loads, open(HERE / "outputs.jsonl", encoding="utf-8")):
        v = verdict[judgment_key(r["draft"], r["output"])]
        table[(r["set"], r["version"])][(kind[r["id"]], v)] += 1
    print("| set | version | judged acceptable | offending | terse | fine |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (s, ver), c in table.items():
        ok = sum(c[(k, "ok")] for k in KINDS)
        n = sum(c.values())
        cells = " | ".join(f"{c[(k, 'ok')]}/{c[(k, 'ok')] + c[(k, 'bad')]}" for k in KINDS)
        print(f"| {s} | {ver} | {ok}/{n} ({100 * ok / n:.1f} %) | {cells} |")


if __name__ == "__main__":
    main()
