"""Training pairs of the clause generator (issue 14): one offending draft clause and its
professional rewrite, with the clause's content kept.

There are two sources:

* **written**: ``rewrite/data/written/clauses/*.jsonl``. Trainers rewrote the offending clauses of
  training drafts one at a time, each read in its draft. The fields are ``id``, ``pair`` (the
  written pair the draft comes from), ``domain``, ``channel``, ``category``, ``context`` (the draft),
  ``clause`` and ``rewrite``; ``""`` means the clause is pure blame or impatience and goes;
* **aligned**: the build's clause split (``rewrite data build`` writes ``clauses_train.jsonl``):
  the offending clauses (a ``category``) whose alignment maps them to a reference clause (fate
  ``rewritten``).

Each pair's draft passes the build's leak guard against the benches, the critic's clause set and
the probes, as every training draft does. Drops (``""``) are counted but not trained on: the
planner drops a clause itself.

    python -m rewrite.data.clause_pairs --out runs/clause-data/pairs.jsonl
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from rewrite.data.build import DEFAULT_OUT, WRITTEN_DIR, LeakGuard, bench_files, load_bench_drafts
from rewrite.data.jsonl import read_jsonl

CLAUSE_DIR = WRITTEN_DIR / "clauses"
ALIGNED = DEFAULT_OUT / "clauses_train.jsonl"
CHANNELS = ("phone", "chat")
#: Fields a written clause line must carry.
WRITTEN_FIELDS = ("id", "channel", "context", "clause", "rewrite")


@dataclass
class ClauseStats:
    written: int = 0
    written_drops: int = 0
    aligned: int = 0
    leaks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def written_problems(row: dict) -> list[str]:
    """Why a written clause line cannot be used (``[]`` when it can)."""
    out = [f"缺少 {k}" for k in WRITTEN_FIELDS if not isinstance(row.get(k), str)]
    if out:
        return out
    if row["channel"] not in CHANNELS:
        out.append(f"未知渠道 {row['channel']!r}")
    if not row["clause"].strip():
        out.append("clause 为空")
    elif row["clause"] not in row["context"]:
        out.append("clause 不在 context 中")
    return out


def load_written(folder: Path = CLAUSE_DIR) -> tuple[list[dict], list[str]]:
    """Every valid written clause line under ``folder`` and the ``file:line: why`` of the others."""
    rows: list[dict] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in sorted(Path(folder).glob("*.jsonl")) if Path(folder).is_dir() else []:
        recs, bad = read_jsonl(path)
        problems += [str(b) for b in bad]
        for n, r in enumerate(recs, 1):
            why = written_problems(r)
            if not why and r["id"] in seen:
                why = [f"重复的 id {r['id']}"]
            if why:
                problems.append(f"{path}:{r.get('_line', n)}: {'；'.join(why)}")
                continue
            seen.add(r["id"])
            rows.append(r)
    return rows, problems


def clause_pairs(written_dir: Path = CLAUSE_DIR, aligned: Path | None = ALIGNED, *, written_weight: int = 2,
                 bench: Sequence[Path] | None = None, seed: int = 13) -> tuple[list[dict], ClauseStats]:
    """The training pairs (``draft`` = clause, ``reference`` = its rewrite, ``channel``, ``source``),
    shuffled, written pairs repeated ``written_weight`` times, and what was counted on the way."""
    stats = ClauseStats()
    guard = LeakGuard(load_bench_drafts(bench_files() if bench is None else bench))
    pairs: list[dict] = []
    written, stats.problems = load_written(written_dir)
    for r in written:
        hit = guard.match(r["context"])
        if hit:
            stats.leaks.append(f"{r['id']} ≈ {hit[0]}")
            continue
        rewrite = r["rewrite"].strip().rstrip("。.")
        if not rewrite:
            stats.written_drops += 1
            continue
        stats.written += 1
        pairs += [{"draft": r["clause"], "reference": rewrite, "channel": r["channel"], "source": "written"}] * written_weight
    if aligned is not None and Path(aligned).is_file():
        recs, bad = read_jsonl(Path(aligned))
        stats.problems += [str(b) for b in bad]
        for r in recs:
            if not r.get("category") or r.get("fate") != "rewritten" or r.get("split") != "train" or not r.get("target"):
                continue
            if guard.match(r.get("context") or r["clause"]):
                stats.leaks.append(f"{r.get('pair')} ≈ bench")
                continue
            stats.aligned += 1
            pairs.append({"draft": r["clause"], "reference": r["target"], "channel": r.get("channel") or "phone",
                          "source": "aligned"})
    random.Random(seed).shuffle(pairs)
    return pairs, stats


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rewrite.data.clause_pairs", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="JSONL file to write (draft, reference, channel, source)")
    ap.add_argument("--written", default=str(CLAUSE_DIR), help="folder of written clause files")
    ap.add_argument("--aligned", default=str(ALIGNED), help="the build's clauses_train.jsonl ('' for none)")
    ap.add_argument("--written-weight", type=int, default=2, help="times each written pair is repeated")
    args = ap.parse_args(argv)
    pairs, st = clause_pairs(Path(args.written), Path(args.aligned) if args.aligned else None,
                             written_weight=max(1, args.written_weight))
    if st.problems:  # nothing trains on half the data: every broken line is named, nothing is written
        print(f"句子级数据有 {len(st.problems)} 处错误，未写出 {args.out}（请逐条修正）：", file=sys.stderr)
        for p in st.problems[:20]:
            print("  " + p, file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    print(f"written {st.written} (drops {st.written_drops}), aligned {st.aligned}, leaks {len(st.leaks)}: "
          f"{len(pairs)} pairs -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
