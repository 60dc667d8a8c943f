"""HTTP API under load, side by side per backend: ``python -m rewrite.evaluation.bench_api``.

Starts the real app (``app.py``) on a free loopback port, sends ``--requests`` POST /api/rewrite
calls from ``--concurrency`` threads for each backend named, and prints per backend: successes,
p50 / p95 / max latency in ms, and requests per second, with the ratio of each backend's p95 to the
first one's. Then it runs ``--evals`` evaluations through the app's evaluator tab (Gradio's queue,
as the browser does) and prints the server's resident memory before and after them, so growth per
evaluation shows. The request loop is bounded in count and time and only ever talks to 127.0.0.1.
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
import uuid
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


def rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` in MB (Linux ``/proc``), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def gradio_call(base: str, elem_id: str, data: list[Any], *, timeout: float = 300.0,
                headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the UI event triggered by the component ``elem_id`` through Gradio's queue, exactly as
    the browser does (``/gradio_api/queue/join`` then the event stream); returns the final message
    (``success``, ``output``). ``headers`` go with every request (e.g. the access token)."""
    hdrs = dict(headers or {})
    with urllib.request.urlopen(urllib.request.Request(base + "/config", headers=hdrs), timeout=30) as r:
        cfg = json.loads(r.read())
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in cfg["components"]}
    dep = next(d for d in cfg["dependencies"] if any(ids.get(t[0]) == elem_id for t in d["targets"]))
    session = uuid.uuid4().hex[:12]
    body = json.dumps({"data": data, "fn_index": dep["id"], "trigger_id": dep["targets"][0][0],
                       "session_hash": session, "event_data": None}).encode()
    req = urllib.request.Request(base + "/gradio_api/queue/join", data=body, method="POST",
                                 headers={"Content-Type": "application/json", **hdrs})
    urllib.request.urlopen(req, timeout=30).read()
    req = urllib.request.Request(f"{base}/gradio_api/queue/data?session_hash={session}", headers=hdrs)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        for raw in r:
            line = raw.decode("utf-8").strip()
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg
    raise RuntimeError("the event stream ended without process_completed")


def eval_memory(base: str, pid: int, evals: int, *, bench: str = "eval/bench/seed.jsonl",
                systems: Sequence[str] = ("rules", "identity"), limit: int | None = None) -> dict[str, Any]:
    """Server RSS (MB) before and after ``evals`` evaluations through the evaluator tab, after one
    warm-up evaluation (the UI's first one imports what showing a result needs)."""
    def one() -> bool:
        msg = gradio_call(base, "eval-btn", [[bench], None, list(systems), limit])
        return bool(msg.get("success")) and str(msg["output"]["data"][0]).startswith("✅")

    one()
    before = rss_mb(pid)
    ok = sum(one() for _ in range(evals))
    after = rss_mb(pid)
    return {"evals": evals, "ok": ok, "rss_before_mb": before, "rss_after_mb": after,
            "growth_per_eval_mb": (after - before) / evals if evals and before and after else None}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rewrite.evaluation.bench_api", description="HTTP API 压测（仅 127.0.0.1）：各引擎并列比较延迟与吞吐。")
    p.add_argument("--backend", action="append", help="引擎，可重复（默认 seq2seq 与 rules）")
    p.add_argument("--drafts", default=str(ROOT / "eval" / "bench" / "heldout.jsonl"), help="草稿来源（JSONL，取 draft 字段）")
    p.add_argument("--requests", type=int, default=200, help="每个引擎的请求数（默认 200）")
    p.add_argument("--concurrency", type=int, default=50, help="并发线程数（默认 50）")
    p.add_argument("--evals", type=int, default=5, help="压测后经评测页运行的评测次数，报告其前后服务内存（默认 5，0 为不测）")
    p.add_argument("--eval-system", action="append", metavar="NAME",
                   help="内存测试中参评的系统，可重复（默认 rules 与 identity；加 seq2seq 更接近界面默认，但每次约 30 秒）")
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
        memory = eval_memory(base, proc.pid, args.evals, systems=args.eval_system or ("rules", "identity")) if args.evals > 0 else None
    finally:
        proc.terminate()
        proc.wait(10)
    first = rows[0]["p95_ms"] or float("nan")
    print(f"{'backend':10} {'ok':>9} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'req/s':>8} {'p95 ratio':>10}")
    for r in rows:
        ratio = (r["p95_ms"] / first) if r["p95_ms"] and first == first else float("nan")
        print(f"{r['backend']:10} {r['ok']:>4}/{r['requests']:<4} {r['p50_ms'] or 0:9.1f} {r['p95_ms'] or 0:9.1f} {r['max_ms'] or 0:9.1f} {r['req_per_s'] or 0:8.1f} {ratio:10.2f}")
    if memory:
        print(f"memory: {memory['rss_before_mb']:.0f} MB before, {memory['rss_after_mb']:.0f} MB after "
              f"{memory['evals']} evaluations ({memory['ok']} ok; {memory['growth_per_eval_mb']:+.1f} MB per evaluation)")
    print(json.dumps({"load": rows, "memory": memory}, ensure_ascii=False))
    return 0 if all(r["ok"] == r["requests"] for r in rows) and (not memory or memory["ok"] == memory["evals"]) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
