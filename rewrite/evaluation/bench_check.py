"""``python -m rewrite.evaluation.bench_check``: the checker's speed, rules only and rules + the
clause critic, side by side on the same replies (one thread, after a warm-up).

Prints p50 and p95 ms per reply for each and their ratio. A benchmark, not a test: the numbers
depend on the machine; the ratio is what to compare across machines.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[2]


def _texts(paths: Sequence[str], limit: int) -> list[str]:
    out: list[str] = []
    for p in paths:
        for line in Path(p).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                out += [rec["draft"], rec.get("reference") or rec["draft"]]
    return out[:limit]


def bench(texts: Sequence[str], repeat: int = 3) -> dict[str, dict[str, float]]:
    """p50/p95 ms per reply of ``check`` with and without the critic, interleaved per reply."""
    from rewrite.evaluation.metrics import percentile
    from rewrite.norms.checker import check
    from rewrite.norms.critic import critic_status

    for t in texts[:20]:  # warm-up: compile the rules, load the critic
        check(t, critic=True)
    times: dict[str, list[float]] = {"rules": [], "rules+critic": []}
    for t in texts:
        for name, critic in (("rules", False), ("rules+critic", True)):
            best = min(_time(check, t, critic) for _ in range(repeat))
            times[name].append(best)
    res = {k: {"p50_ms": round(percentile(v, 50), 3), "p95_ms": round(percentile(v, 95), 3), "n": len(v)} for k, v in times.items()}
    res["ratio_p50"] = {"rules+critic / rules": round(res["rules+critic"]["p50_ms"] / max(res["rules"]["p50_ms"], 1e-9), 1)}
    res["critic"] = critic_status()
    return res


def _time(fn, text: str, critic: bool) -> float:
    t0 = time.perf_counter()
    fn(text, critic=critic)
    return (time.perf_counter() - t0) * 1000.0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rewrite.evaluation.bench_check", description="检查器速度：仅规则 与 规则+语气评审模型 并列比较（单线程）。")
    p.add_argument("--drafts", action="append", help="JSONL（draft / reference），可重复；默认 held-out 与 realstyle")
    p.add_argument("--limit", type=int, default=400, help="最多多少条回复")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    paths = args.drafts or [str(ROOT / "eval" / "bench" / "heldout.jsonl"), str(ROOT / "eval" / "bench" / "realstyle.jsonl")]
    print(json.dumps(bench(_texts(paths, args.limit)), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
