"""Speed of the seq2seq backend: CTranslate2 int8 vs transformers ``generate``, side by side.

:func:`bench_speed` measures, on the same model and drafts, for each engine:

* ``median_ms`` / ``p95_ms``: one draft at a time (batch 1), one thread, through the whole
  pipeline (protection, beam candidates, checks, restore) — what an agent waits for;
* ``generate_median_ms``: the same drafts, the model's generation step alone;
* ``drafts_per_s``: drafts per second when 32 are rewritten as one batch;
* ``rss_mb``: resident memory of the process after loading (includes everything loaded before).

CTranslate2 is measured first: it slows down when torch has run in the same process first. For a
clean comparison run ``python -m rewrite.evaluation.bench_speed --drafts eval/bench/heldout.jsonl``; each
engine then runs in its own subprocess. Importing this module does nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return float("nan")


def _percentile(xs: Sequence[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))
    return xs[k]


def bench_engine(engine: str, drafts: Sequence[str], model_dir: str | Path | None = None, *, beams: int = 4, batch: int = 32, channel: str = "phone") -> dict[str, Any]:
    """Time one engine (``ct2`` or ``hf``) on ``drafts`` in this process (see module doc)."""
    from rewrite.engines.seq2seq.backend import Seq2SeqBackend
    from rewrite.pipeline import Rewriter
    from rewrite.protect import protect_for_model
    from rewrite.text import chunk_text, validate_draft

    if engine == "hf":
        import torch

        torch.set_num_threads(1)
    backend = Seq2SeqBackend(model_dir, engine=engine, beams=beams, threads=1).load()
    from rewrite.engines import get_backend

    try:
        fallback = get_backend("rules")
    except Exception:  # the rules backend is optional for a speed run
        fallback = None
    rw = Rewriter(backend, fallback)
    rw.rewrite(drafts[0], channel=channel)  # warm-up
    per_draft = []
    for d in drafts:
        t0 = time.perf_counter()
        rw.rewrite(d, channel=channel)
        per_draft.append((time.perf_counter() - t0) * 1000.0)
    gen = []
    for d in drafts:
        chunks = [protect_for_model(c).masked for c in chunk_text(validate_draft(d))]
        t0 = time.perf_counter()
        backend.generate(chunks, n=beams, channel=channel)
        gen.append((time.perf_counter() - t0) * 1000.0)
    t0 = time.perf_counter()
    done = 0
    for i in range(0, len(drafts), batch):
        rw.rewrite_batch(list(drafts[i : i + batch]), channel=channel)
        done += len(drafts[i : i + batch])
    total = time.perf_counter() - t0
    return {
        "engine": engine,
        "n": len(drafts),
        "median_ms": round(statistics.median(per_draft), 1),
        "p95_ms": round(_percentile(per_draft, 0.95), 1),
        "generate_median_ms": round(statistics.median(gen), 1),
        "generate_p95_ms": round(_percentile(gen, 0.95), 1),
        "drafts_per_s": round(done / total, 1),
        "rss_mb": _rss_mb(),
        "beams": beams,
        "model_hash": backend.model_hash,
    }


def bench_speed(drafts: Sequence[str], model_dir: str | Path | None = None, *, beams: int = 4, engines: Sequence[str] = ("ct2", "hf"), isolate: bool = True) -> dict[str, Any]:
    """Both engines on the same model and drafts: ``{"ct2": {...}, "hf": {...}, "speedup": x}``.

    ``isolate`` runs each engine in its own Python subprocess (fair timings, honest memory);
    otherwise in this process, CTranslate2 first. An engine that cannot run is reported with
    ``"error"``.
    """
    out: dict[str, Any] = {}
    for engine in engines:
        try:
            if isolate:
                cmd = [sys.executable, "-m", "rewrite.evaluation.bench_speed", "--engine", engine, "--beams", str(beams), "--json-drafts", "-"]
                if model_dir:
                    cmd += ["--model-dir", str(model_dir)]
                proc = subprocess.run(cmd, input=json.dumps(list(drafts), ensure_ascii=False), capture_output=True, text=True, timeout=1800)
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
                out[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
            else:
                out[engine] = bench_engine(engine, drafts, model_dir, beams=beams)
        except Exception as e:  # reported, not raised: one engine missing must not hide the other
            out[engine] = {"engine": engine, "error": f"{type(e).__name__}: {e}"}
    if "median_ms" in out.get("ct2", {}) and "median_ms" in out.get("hf", {}):
        out["speedup_median"] = round(out["hf"]["generate_median_ms"] / max(1e-9, out["ct2"]["generate_median_ms"]), 1)
    return out


#: The draft the cold-start bench rewrites (the README's first example).
COLD_DRAFT = "这个我不知道，你去营业厅问吧"


def bench_cold(backends: Sequence[str] = ("rules", "seq2seq"), runs: int = 3, draft: str = COLD_DRAFT) -> dict[str, Any]:
    """A new user's first CLI rewrite, side by side: for each backend, ``runs`` fresh processes of
    ``python -m rewrite.cli --backend NAME --json DRAFT``, interleaved so both see the same load.

    Per backend (medians): ``wall_ms`` (process start to exit, what the user waits for),
    ``load_ms`` (norms, segmenter, models: what the CLI reports apart) and ``rewrite_ms`` (the
    rewrite itself). ``ratio`` is the default engine's ``wall_ms`` over the first backend's."""
    walls: dict[str, list[float]] = {b: [] for b in backends}
    loads: dict[str, list[float]] = {b: [] for b in backends}
    rewrites: dict[str, list[float]] = {b: [] for b in backends}
    for _ in range(max(1, runs)):
        for b in backends:
            cmd = [sys.executable, "-m", "rewrite.cli", "--backend", b, "--json", draft]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            walls[b].append((time.perf_counter() - t0) * 1000.0)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd[:5])} … 失败：{proc.stderr.strip()[-300:]}")
            res = json.loads(proc.stdout)
            loads[b].append(float(res["load_ms"]))
            rewrites[b].append(float(res["ms"]))
    out: dict[str, Any] = {"draft": draft, "runs": runs}
    for b in backends:
        out[b] = {"wall_ms": round(statistics.median(walls[b]), 1), "load_ms": round(statistics.median(loads[b]), 1),
                  "rewrite_ms": round(statistics.median(rewrites[b]), 1)}
    if len(backends) > 1:
        out["ratio"] = round(out[backends[-1]]["wall_ms"] / max(1e-9, out[backends[0]]["wall_ms"]), 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rewrite.evaluation.bench_speed", description="比较 CTranslate2 int8 与 transformers generate 的改写速度；--cold 比较 CLI 冷启动。")
    parser.add_argument("--drafts", help="JSONL 文件（字段 draft）")
    parser.add_argument("--json-drafts", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--model-dir")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--engine", choices=("ct2", "hf"), help="只测一个引擎（在本进程内）")
    parser.add_argument("--cold", action="store_true",
                        help="冷启动：每个引擎在全新进程里跑一次 CLI 改写（rules 与默认引擎并排，各 --runs 次取中位数），分开报加载与改写用时")
    parser.add_argument("--runs", type=int, default=3, help="--cold 时每个引擎的进程数（默认 3）")
    args = parser.parse_args(argv)
    if args.cold:
        from rewrite.engines import DEFAULT_BACKEND

        res = bench_cold(("rules", DEFAULT_BACKEND), runs=args.runs)
        print(json.dumps(res, ensure_ascii=False, indent=1))
        rules, default = res["rules"], res[DEFAULT_BACKEND]
        print(f"冷启动（首个 CLI 改写，{args.runs} 个全新进程的中位数）：rules {rules['wall_ms']:.0f} ms，"
              f"{DEFAULT_BACKEND} {default['wall_ms']:.0f} ms，比值 {res['ratio']:.2f}×"
              f"（其中加载 {rules['load_ms']:.0f} / {default['load_ms']:.0f} ms，改写 {rules['rewrite_ms']:.0f} / {default['rewrite_ms']:.0f} ms）")
        return 0
    if args.json_drafts:
        drafts = json.loads(sys.stdin.read() if args.json_drafts == "-" else Path(args.json_drafts).read_text(encoding="utf-8"))
    elif args.drafts:
        lines = Path(args.drafts).read_text(encoding="utf-8").splitlines()
        drafts = [json.loads(x)["draft"] for x in lines if x.strip()][: args.limit]
    else:
        parser.error("需要 --drafts（或 --cold）")
    if args.engine:
        print(json.dumps(bench_engine(args.engine, drafts, args.model_dir, beams=args.beams), ensure_ascii=False))
    else:
        print(json.dumps(bench_speed(drafts, args.model_dir, beams=args.beams), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
