"""HTTP API under load, side by side per backend: ``python -m rewrite.evaluation.bench_api``.

Starts the real app (``app.py``) on a free loopback port, sends ``--requests`` POST /api/rewrite
calls from ``--concurrency`` threads for each backend named, and prints per backend: successes,
p50 / p95 / max latency in ms, and requests per second, with the ratio of each backend's p95 to the
first one's. The request loop is bounded in count and time and only ever talks to 127.0.0.1.
Importing this module does nothing.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Sequence

from rewrite.evaluation.metrics import percentile, throughput

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, payload: dict[str, Any], timeout: float) -> tuple[int, float]:
    data = json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError:
        status = 0
    return status, (time.perf_counter() - t0) * 1000.0


def load(url: str, drafts: Sequence[str], backend: str, *, requests: int, concurrency: int, timeout: float = 120.0) -> dict[str, Any]:
    """Send ``requests`` rewrites (drafts cycled) with ``concurrency`` threads; latency stats."""
    payloads = [{"draft": drafts[i % len(drafts)], "backend": backend} for i in range(requests)]
    _post(url, payloads[0], timeout)  # warm-up: loading the model is not what we measure
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda p: _post(url, p, timeout), payloads))
    wall = time.perf_counter() - t0
    ms = [m for s, m in results if s == 200]
    return {
        "backend": backend,
        "requests": requests,
        "concurrency": concurrency,
        "ok": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": max(ms) if ms else None,
        "req_per_s": throughput(len(ms), wall),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rewrite.evaluation.bench_api", description="HTTP API 压测（仅 127.0.0.1）：各引擎并列比较延迟与吞吐。")
    p.add_argument("--backend", action="append", help="引擎，可重复（默认 seq2seq 与 rules）")
    p.add_argument("--drafts", default=str(ROOT / "eval" / "bench" / "heldout.jsonl"), help="草稿来源（JSONL，取 draft 字段）")
    p.add_argument("--requests", type=int, default=200, help="每个引擎的请求数（默认 200）")
    p.add_argument("--concurrency", type=int, default=50, help="并发线程数（默认 50）")
    args = p.parse_args(argv)
    backends = args.backend or ["seq2seq", "rules"]
    from rewrite.data.jsonl import read_jsonl

    records, problems = read_jsonl(args.drafts)
    drafts = [r["draft"] for r in records if isinstance(r, dict) and isinstance(r.get("draft"), str)]
    if not drafts:
        print(f"错误：{args.drafts} 中没有可用的 draft。", file=sys.stderr)
        return 2
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--backend", "rules"],
                            cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            print("错误：app.py 在 90 秒内没有响应。", file=sys.stderr)
            return 2
        rows = [load(base + "/api/rewrite", drafts, b, requests=args.requests, concurrency=args.concurrency) for b in backends]
    finally:
        proc.terminate()
        proc.wait(10)
    first = rows[0]["p95_ms"] or float("nan")
    print(f"{'backend':10} {'ok':>9} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'req/s':>8} {'p95 ratio':>10}")
    for r in rows:
        ratio = (r["p95_ms"] / first) if r["p95_ms"] and first == first else float("nan")
        print(f"{r['backend']:10} {r['ok']:>4}/{r['requests']:<4} {r['p50_ms'] or 0:9.1f} {r['p95_ms'] or 0:9.1f} {r['max_ms'] or 0:9.1f} {r['req_per_s'] or 0:8.1f} {ratio:10.2f}")
    print(json.dumps(rows, ensure_ascii=False))
    return 0 if all(r["ok"] == r["requests"] for r in rows) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
