"""``rewrite eval``: run systems over benchmark files and write reports evaluators can reproduce.

    rewrite eval --bench eval/bench/seed.jsonl --bench eval/bench/heldout.jsonl \\
                 --system rules --system identity --system reference [--out DIR] [--seed N]

For every (bench, system): outputs through the shared pipeline (``Rewriter.rewrite``, one draft
at a time, timed), then the metrics of :mod:`rewrite.evaluation.metrics`, a signature that says how the
numbers were made, and (unless ``--no-speed``) a batch-32 throughput pass. Writes ``report.json``,
``report.md``, ``report.html``, ``predictions.jsonl`` and PNG plots to ``eval/results/<run-id>/``
(or ``--out``), and prints the table.

Systems are backends by name (``rewrite.load_rewriter``) plus ``reference``, which outputs the
references (the ceiling); ``identity`` returns the draft (the floor). A system that cannot load or
answer is reported as unavailable with the reason and the run goes on with the others.

Drafts, references and keep spans are normalised on reading (:func:`rewrite.text.normalise`, as
the pipeline does), so whitespace trivia never count as edits and identity returns the draft
exactly.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from rewrite.evaluation import metrics as M
from rewrite.evaluation.records import Bench, BenchItem, Prediction, System
from rewrite.errors import RewriteError, UnknownBackendError

#: The built-in system that outputs the references.
REFERENCE = "reference"
DEFAULT_OUT = Path("eval/results")
BATCH_SIZE = 32
#: Longest benchmark line read, in bytes (a draft is at most 5,000 characters); longer lines are
#: skipped unread and named, so one hostile line cannot stall the run.
BENCH_MAX_LINE_BYTES = 64 * 1024
#: Most lines read from one benchmark file.
BENCH_MAX_LINES = 100_000


@dataclass
class EvalConfig:
    """What ``rewrite eval`` runs. Flags map one to one (see ``rewrite eval --help``)."""

    benches: list[str]
    systems: list[str]
    out: str | None = None
    seed: int = 0
    limit: int | None = None
    speed: bool = True
    n_bootstrap: int = M.N_BOOTSTRAP
    batch_size: int = BATCH_SIZE
    progress: bool | None = None  # None: a bar only on a terminal
    judgments: Path | None = None  # None: eval/judgments (or $REWRITE_JUDGMENTS_DIR)


# ----------------------------------------------------------------------------- benches


def file_hash(path: str | Path) -> str:
    """sha256 of the file's bytes, first 12 hex digits."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _item_problems(rec: dict[str, Any]) -> list[str]:
    """Why a record is not a usable benchmark example (Chinese); [] when it is.

    Any JSONL in the batch format works: ``id``, ``draft`` and ``reference`` are required;
    ``keep`` (list of spans found in the draft) and ``channel`` (phone/chat) are optional.
    """
    from rewrite.pipeline import CHANNELS
    from rewrite.text import normalise

    whys = []
    if not isinstance(rec.get("id"), str) or not rec["id"].strip():
        whys.append("缺少 id 或 id 为空")
    for key in ("draft", "reference"):
        v = rec.get(key)
        if not isinstance(v, str) or not normalise(v):
            whys.append(f"缺少 {key} 或 {key} 为空")
    for key in ("keep", "must_fix"):
        spans = rec.get(key, [])
        if not isinstance(spans, list) or not all(isinstance(k, str) and k.strip() for k in spans):
            whys.append(f"{key} 必须是非空字符串的列表")
        elif isinstance(rec.get("draft"), str):
            missing = [k for k in spans if normalise(k) not in normalise(rec["draft"])]
            if missing:
                whys.append(f"{key} 片段「{'」「'.join(missing)}」不在 draft 中")
    if rec.get("channel", "phone") not in CHANNELS:
        whys.append(f"未知渠道 channel={rec.get('channel')!r}（可选：{', '.join(CHANNELS)}）")
    return whys


def load_bench(path: str | Path, *, limit: int | None = None, name: str | None = None) -> Bench:
    """Read a benchmark JSONL. Broken lines (bad JSON, missing fields, duplicate id, longer than
    :data:`BENCH_MAX_LINE_BYTES`) are skipped and listed as ``file:line: why``; at most
    :data:`BENCH_MAX_LINES` lines are read; a missing file raises :class:`DataError`."""
    from rewrite.data.jsonl import read_jsonl
    from rewrite.text import normalise

    p = Path(path)
    records, problems = read_jsonl(p, max_line_bytes=BENCH_MAX_LINE_BYTES, max_lines=BENCH_MAX_LINES)
    skipped = [(pr.line, str(pr)) for pr in problems]
    items: list[BenchItem] = []
    seen: dict[str, int] = {}
    for rec in records:
        whys = _item_problems(rec)
        rid = rec.get("id")
        if isinstance(rid, str) and rid in seen:
            whys.append(f"id {rid} 重复（首次出现在第 {seen[rid]} 行）")
        if whys:
            skipped.append((rec["_line"], f"{p}:{rec['_line']}: {'；'.join(whys)}"))
            continue
        seen[rid] = rec["_line"]
        items.append(
            BenchItem(
                id=rid,
                draft=normalise(rec["draft"]),
                reference=normalise(rec["reference"]),
                keep=tuple(dict.fromkeys(normalise(k) for k in rec.get("keep", []))),
                channel=rec.get("channel", "phone"),
                line=rec["_line"],
                must_fix=tuple(normalise(x) for x in rec.get("must_fix") or []),
                style=str(rec.get("style") or "plain"),
                has_must_fix="must_fix" in rec,
            )
        )
    total = len(items)
    if limit is not None:
        items = items[: max(0, limit)]
    return Bench(name or p.stem, str(p), file_hash(p), items, [msg for _, msg in sorted(skipped)], total)


# ----------------------------------------------------------------------------- systems


#: Ablation variants: ``NAME:VARIANT`` loads backend NAME with these pipeline options.
VARIANTS: dict[str, dict[str, Any]] = {
    "noplan": {"plan": False},  # no planner for chunks whose every candidate keeps an offence
    "noguard": {"guard_fine": False},  # fine chunks go to the engine too (no do-no-harm gate)
    "bare": {"plan": False, "guard_fine": False},  # the engine and its fallbacks alone
}


def system_names() -> list[str]:
    """Every name ``--system`` accepts: the registered backends, ``reference``, and each model
    backend with an ablation variant (``seq2seq:noplan``, ``seq2seq:noguard``, ``seq2seq:bare``)."""
    from rewrite.engines import backend_names

    names = backend_names()
    return names + [REFERENCE] + [f"{n}:{v}" for n in ("seq2seq", "edit") if n in names for v in VARIANTS]


def load_system(name: str) -> System:
    """Load one system; any failure becomes ``available=False`` with the reason."""
    if name == REFERENCE:
        return System(name)
    from rewrite import load_rewriter

    try:
        base, _, variant = name.partition(":")
        rw = load_rewriter(base, **VARIANTS.get(variant, {}))
        # A property on some backends (seq2seq hashes its weights file, and says so if missing).
        model_hash = str(getattr(rw.backend, "model_hash", None) or "-")
    except Exception as e:  # a system that cannot load must not stop the others
        return System(name, available=False, reason=_reason(e))
    from rewrite.engines.plan import clause_signature

    planner = getattr(rw, "planner", None) or (rw.backend if getattr(rw.backend, "name", "") == "plan" else None)
    return System(name, rw, model_hash=model_hash, clauses=clause_signature(planner, rw.backend))


def _reason(e: BaseException) -> str:
    return str(e) if isinstance(e, RewriteError) else f"{type(e).__name__}: {e}"


def _seed_everything(seed: int) -> None:
    """Seed the RNGs that are already loaded (never import torch just to seed it)."""
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


# ----------------------------------------------------------------------------- running


def _finding_dict(f: Any) -> dict[str, Any]:
    return {"rule_id": f.rule_id, "category": f.category, "severity": f.severity,
            "start": f.start, "end": f.end, "text": f.text, "explanation": f.explanation}


def predict(system: System, bench: Bench, *, progress: bool | None = None) -> list[Prediction]:
    """Outputs of ``system`` on every item, one ``rewrite`` call per draft, each timed (ms), and
    the output's findings by ``rewrite.check(output, channel=item channel)``.

    An item the system fails on gets output ``""`` and the error; it counts against every metric.
    """
    from tqdm import tqdm

    from rewrite.norms.checker import check

    preds: list[Prediction] = []
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(bench.items, desc=f"{system.name} @ {bench.name}", unit="条", disable=not show, leave=False, file=sys.stderr)
    for it in bar:
        if system.name == REFERENCE:
            fs = check(it.reference, channel=it.channel).findings
            preds.append(Prediction(it.id, bench.name, system.name, it.draft, it.reference, it.reference,
                                    [_finding_dict(f) for f in fs], False, None))
            continue
        t0 = time.perf_counter()
        try:
            res = system.rewriter.rewrite(it.draft, channel=it.channel, keep=list(it.keep))
        except Exception as e:  # recorded per item; the run goes on
            ms = (time.perf_counter() - t0) * 1000.0
            preds.append(Prediction(it.id, bench.name, system.name, it.draft, it.reference, "", [], False, ms, _reason(e)))
            continue
        ms = (time.perf_counter() - t0) * 1000.0
        # Checked here, like the drafts and the references, with the item's channel: every system
        # is measured by the same call whatever the pipeline checks internally.
        fs = check(res.target, channel=it.channel).findings
        preds.append(Prediction(it.id, bench.name, system.name, it.draft, it.reference, res.target,
                                [_finding_dict(f) for f in fs], bool(res.fallback), ms))
    bar.close()
    for p in preds:
        p.chrf = round(M.sentence_chrf(p.output, p.reference), 4)
    return preds


def probe(system: System, bench: Bench) -> None:
    """One untimed warm-up call (lazy loads happen here, not in the timings). A system whose
    first answer is "model missing" or "backend unavailable" is marked unavailable."""
    from rewrite.errors import BackendUnavailableError, ModelNotFoundError

    if system.name == REFERENCE or not system.available or not bench.items:
        return
    it = bench.items[0]
    try:
        system.rewriter.rewrite(it.draft, channel=it.channel, keep=list(it.keep))
    except (BackendUnavailableError, ModelNotFoundError, ImportError) as e:
        system.available, system.reason = False, _reason(e)
    except Exception:
        pass  # an error on one draft is scored with that draft
    engine = getattr(system.rewriter.backend, "engine", None)  # known once loaded (seq2seq: ct2/hf)
    system.engine = str(engine) if engine is not None else None


def measure_batch(system: System, bench: Bench, preds: Sequence[Prediction], batch_size: int) -> dict[str, Any]:
    """Drafts per second at ``batch_size``: ``rewrite_batch`` over the items the system answered,
    grouped by channel (one call has one channel); seconds are the summed wall clock of the calls."""
    answered = {p.id for p in preds if p.error is None}
    items = [it for it in bench.items if it.id in answered]
    done, seconds, errors = 0, 0.0, 0
    for channel in sorted({it.channel for it in items}):
        group = [it for it in items if it.channel == channel]
        for i in range(0, len(group), batch_size):
            chunk = group[i : i + batch_size]
            t0 = time.perf_counter()
            try:
                system.rewriter.rewrite_batch([it.draft for it in chunk], channel=channel, keep=[list(it.keep) for it in chunk])
            except Exception:
                errors += 1
                continue
            seconds += time.perf_counter() - t0
            done += len(chunk)
    return {"batch_size": batch_size, "drafts": done, "seconds": round(seconds, 4),
            "drafts_per_s": _r(M.throughput(done, seconds), 2), "failed_batches": errors}


def _speed_helper(system: System, bench: Bench) -> Any:
    """The seq2seq engine comparison (ct2 vs generate, each in its own subprocess), when the
    system runs the seq2seq model. The bench calls the backend; the backend never imports the bench."""
    from rewrite.engines.seq2seq.backend import Seq2SeqBackend
    from rewrite.evaluation.bench_speed import bench_speed

    backend = getattr(system.rewriter, "backend", None)
    if not isinstance(backend, Seq2SeqBackend):
        return None
    try:
        return bench_speed([it.draft for it in bench.items[:BATCH_SIZE]], backend.model_dir, beams=backend.beams)
    except Exception as e:
        return {"error": _reason(e)}


# ----------------------------------------------------------------------------- scoring


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def _share_ci(flags: Sequence[bool], *, seed: int, n_bootstrap: int) -> dict[str, Any]:
    """A share, its bootstrap interval and its denominator."""
    ci = M.bootstrap_share(flags, n=n_bootstrap, seed=seed)
    return {"value": _r(M.share(flags)), "ci": None if ci is None else [_r(ci[0]), _r(ci[1])], "n": len(flags)}


def reader_scores(bench: Bench, preds: Sequence[Prediction], *, seed: int, n_bootstrap: int,
                  table: dict[str, bool] | None = None) -> dict[str, Any]:
    """What a reader sees, each with its bootstrap interval: judged acceptability and made-worse
    rate (from blind judgments, with the unjudged counts), offence survival (``must_fix``),
    token integrity, and the changed rate."""
    from rewrite.evaluation.judging import judged_scores

    outs = [p.output for p in preds]
    drafts = [it.draft for it in bench.items]
    out: dict[str, Any] = {}
    if any(it.has_must_fix for it in bench.items):
        out["offence_survival"] = _share_ci(M.offence_survival([it.must_fix for it in bench.items], outs),
                                            seed=seed, n_bootstrap=n_bootstrap)
    else:
        out["offence_survival"] = None
    flags, _ = M.token_integrity(drafts, outs)
    out["token_integrity"] = _share_ci(flags, seed=seed, n_bootstrap=n_bootstrap)
    out["changed"] = _share_ci(M.changed(drafts, outs), seed=seed, n_bootstrap=n_bootstrap)
    out["checker_compliance"] = _share_ci([p.error is None and not p.findings_after for p in preds], seed=seed, n_bootstrap=n_bootstrap)
    js = judged_scores([it.as_dict() for it in bench.items], outs, table or {})
    out["judged_acceptable"] = _share_ci(js["accept_flags"], seed=seed, n_bootstrap=n_bootstrap)
    out["judged_acceptable"]["unjudged"] = js["unjudged"]
    out["made_worse"] = _share_ci(js["worse_flags"], seed=seed, n_bootstrap=n_bootstrap)
    out["made_worse"]["unjudged"] = js["worse_unjudged"]
    return out


def score(bench: Bench, preds: Sequence[Prediction], draft_findings: Sequence[int], *, seed: int, n_bootstrap: int,
          table: dict[str, bool] | None = None) -> dict[str, Any]:
    """Every metric of one system on one bench (see docs/eval.md for their meaning)."""
    from rewrite.protect import find_facts

    outs = [p.output for p in preds]
    refs = [it.reference for it in bench.items]
    drafts = [it.draft for it in bench.items]
    ok = [p.error is None for p in preds]
    ci = M.chrf_bootstrap(outs, refs, n=n_bootstrap, seed=seed)
    keep_k, keep_n = M.spans_preserved([it.keep for it in bench.items], outs)
    facts = [[d[s:e] for s, e, _ in find_facts(d)] for d in drafts]
    fact_k, fact_n = M.spans_preserved(facts, outs)
    over = M.over_editing(drafts, refs, outs)
    answered = [p for p in preds if p.error is None]
    return {
        "n": len(preds),
        "errors": len(preds) - len(answered),
        "chrf": _r(M.chrf(outs, refs)),
        "chrf_ci": None if ci is None else [_r(ci[0]), _r(ci[1])],
        "bleu": _r(M.bleu(outs, refs)),
        "compliance_before": _r(M.compliance(list(draft_findings))),
        "compliance_after": _r(M.compliance([len(p.findings_after) if p.error is None else None for p in preds])),
        "findings_per_100_before": _r(M.findings_per_100_chars(list(draft_findings), drafts)),
        "findings_per_100_after": _r(M.findings_per_100_chars([len(p.findings_after) for p in answered], [p.output for p in answered])),
        "keep_preserved": keep_k,
        "keep_total": keep_n,
        "keep_share": _r(M.ratio(keep_k, keep_n)),
        "facts_preserved": fact_k,
        "facts_total": fact_n,
        "facts_share": _r(M.ratio(fact_k, fact_n)),
        "over_editing_n": over["n"],
        "unchanged_share": _r(over["unchanged"]),
        "mean_edit_distance": _r(over["mean_edit_distance"]),
        "length_ratio_draft": _r(M.length_ratio(outs, drafts)),
        "length_ratio_reference": _r(M.length_ratio(outs, refs)),
        "fallback_rate": _r(M.share([p.fallback for p in preds])),
        "answered_share": _r(M.share(ok)),
        **reader_scores(bench, preds, seed=seed, n_bootstrap=n_bootstrap, table=table),
    }


def speed_stats(preds: Sequence[Prediction]) -> dict[str, Any]:
    """Median and p95 ms per draft at batch 1 (successful calls only)."""
    ms = [p.ms for p in preds if p.ms is not None and p.error is None]
    return {"ms_p50": _r(M.percentile(ms, 50), 2), "ms_p95": _r(M.percentile(ms, 95), 2), "timed": len(ms)}


def signature(system: System, bench: Bench, *, seed: int, norms: str, version: str, sacre: dict[str, str]) -> dict[str, Any]:
    """How a score was made. Same signature → same outputs and scores."""
    return {
        "system": system.name,
        "model": system.model_hash,
        "engine": system.engine or "-",
        "norms": norms,
        "clauses": system.clauses,
        "bench": bench.hash,
        "items": len(bench.items),
        "seed": seed,
        "version": version,
        "chrf": sacre["chrf"],
        "bleu": sacre["bleu"],
    }


def signature_str(sig: dict[str, Any]) -> str:
    """One line: ``system:rules|model:-|engine:-|norms:…|clauses:-|bench:…|items:50|seed:0|v:0.1.0|chrF2|…|BLEU|…``."""
    return (f"system:{sig['system']}|model:{sig['model']}|engine:{sig['engine']}|norms:{sig['norms']}"
            f"|clauses:{sig.get('clauses', '-')}|bench:{sig['bench']}"
            f"|items:{sig['items']}|seed:{sig['seed']}|v:{sig['version']}|{sig['chrf']}|{sig['bleu']}")


# ----------------------------------------------------------------------------- the run


def run(cfg: EvalConfig, argv: Sequence[str] | None = None) -> tuple[dict[str, Any], Path]:
    """Run ``cfg`` end to end; write the report files; return the report and its directory.

    Raises :class:`UnknownBackendError` for a system name that does not exist and
    :class:`DataError` for a bench file that cannot be read.
    """
    from rewrite import __version__
    from rewrite.norms.checker import check
    from rewrite.norms.load import norms_hash

    valid = system_names()
    for name in cfg.systems:
        if name not in valid:
            raise UnknownBackendError(f"未知的评测系统 {name!r}，可选：{', '.join(valid)}。")
    systems_order = list(dict.fromkeys(cfg.systems))
    benches: list[Bench] = []
    names: set[str] = set()
    for path in cfg.benches:
        b = load_bench(path, limit=cfg.limit)
        if b.name in names:
            b.name = str(path)
        names.add(b.name)
        benches.append(b)
        for s in b.skipped:
            print(f"跳过 {s}", file=sys.stderr)

    norms = norms_hash()
    sacre = M.sacrebleu_signatures()
    import sacrebleu

    systems = [load_system(n) for n in systems_order]
    for s in systems:
        if s.available and benches:
            probe(s, next((b for b in benches if b.items), benches[0]))
        if not s.available:
            print(f"系统 {s.name} 不可用：{s.reason}", file=sys.stderr)

    from rewrite.evaluation import judging

    judgment_rows, judgment_skipped = judging.load_judgments(cfg.judgments)
    for s in judgment_skipped:
        print(f"跳过评判 {s}", file=sys.stderr)
    table = judging.verdicts(judgment_rows)
    calib = judging.calibration(judgment_rows, [it.as_dict() for b in benches for it in b.items])

    results: list[dict[str, Any]] = []
    all_preds: list[Prediction] = []
    draft_checks: dict[str, list[list[dict[str, Any]]]] = {}
    for b in benches:
        draft_checks[b.name] = [[_finding_dict(f) for f in check(it.draft, channel=it.channel).findings] for it in b.items]
        counts = [len(fs) for fs in draft_checks[b.name]]
        for s in systems:
            sig = signature(s, b, seed=cfg.seed, norms=norms, version=__version__, sacre=sacre)
            row: dict[str, Any] = {"bench": b.name, "system": s.name, "available": s.available,
                                   "signature": sig, "signature_str": signature_str(sig)}
            if not s.available:
                row.update(metrics=None, speed=None, reason=s.reason)
                results.append(row)
                continue
            _seed_everything(cfg.seed)
            preds = predict(s, b, progress=cfg.progress)
            all_preds += preds
            row["metrics"] = score(b, preds, counts, seed=cfg.seed, n_bootstrap=cfg.n_bootstrap, table=table)
            row["speed"] = None
            if cfg.speed and s.name != REFERENCE:
                sp = speed_stats(preds)
                sp.update(measure_batch(s, b, preds, cfg.batch_size))
                sp["engine"] = s.engine
                extra = _speed_helper(s, b)
                if extra is not None:
                    sp["engine_comparison"] = extra
                row["speed"] = sp
            results.append(row)

    primary = next((s.name for s in systems if s.available and s.name not in (REFERENCE, "identity")),
                   next((s.name for s in systems if s.available), None))
    signatures = sorted(r["signature_str"] for r in results)
    stamp = datetime.now(timezone.utc)
    run_id = stamp.strftime("%Y%m%d-%H%M%S") + "-" + hashlib.sha256("\n".join(signatures).encode()).hexdigest()[:8]
    out = Path(cfg.out) if cfg.out else DEFAULT_OUT / run_id
    report = {
        "run_id": run_id,
        "created": stamp.isoformat(timespec="seconds"),
        "command": "rewrite eval " + " ".join(argv) if argv is not None else None,
        "config": {"seed": cfg.seed, "limit": cfg.limit, "n_bootstrap": cfg.n_bootstrap,
                   "batch_size": cfg.batch_size, "speed": cfg.speed},
        "version": __version__,
        "sacrebleu": sacrebleu.__version__,
        "norms": norms,
        "primary": primary,
        "benches": [{"name": b.name, "path": b.path, "hash": b.hash, "items": len(b.items),
                     "valid": b.total_valid, "skipped": len(b.skipped), "skipped_lines": b.skipped}
                    for b in benches],
        "systems": [{"name": s.name, "available": s.available, "reason": s.reason,
                     "model_hash": s.model_hash, "engine": s.engine} for s in systems],
        "results": results,
        "judgments": {"store": str(cfg.judgments or judging.default_store()), "lines": len(judgment_rows),
                      "outputs_judged": len(table), "skipped_lines": judgment_skipped, "calibration": calib},
    }
    from rewrite.evaluation.report import write_report

    write_report(report, all_preds, benches, draft_checks, out)
    return report, out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rewrite eval",
        description="在评测集上运行若干系统，写出带签名的可复现报告（report.json / report.md / report.html / predictions.jsonl）。",
    )
    p.add_argument("--bench", action="append", required=True, metavar="FILE",
                   help="评测集 JSONL（id, draft, reference[, keep, channel]），可重复")
    p.add_argument("--system", action="append", required=True, metavar="NAME",
                   help=f"参评系统：{'、'.join(system_names())}（reference 为参考答案，上限），可重复")
    p.add_argument("--out", metavar="DIR", help="输出目录（默认 eval/results/<run-id>/）")
    p.add_argument("--seed", type=int, default=0, help="随机种子（bootstrap 与生成），默认 0")
    p.add_argument("--limit", type=int, metavar="N", help="每个评测集只取前 N 条")
    p.add_argument("--no-speed", action="store_true", help="不测 batch=32 吞吐和耗时统计")
    p.add_argument("--judgments", metavar="DIR", help="盲评结果目录（默认 eval/judgments/，或 $REWRITE_JUDGMENTS_DIR）")
    p.add_argument("--n-bootstrap", type=int, default=M.N_BOOTSTRAP, metavar="N", help="chrF bootstrap 重采样次数，默认 1000")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``rewrite eval``. Exit codes: 0 ok, 1 some bench lines were skipped, 2 usage or input error."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if args.n_bootstrap < 1 or (args.limit is not None and args.limit < 1):
        print("错误：--n-bootstrap 与 --limit 必须是正整数。", file=sys.stderr)
        return 2
    cfg = EvalConfig(benches=args.bench, systems=args.system, out=args.out, seed=args.seed,
                     limit=args.limit, speed=not args.no_speed, n_bootstrap=args.n_bootstrap,
                     judgments=Path(args.judgments) if args.judgments else None)
    try:
        report, out = run(cfg, argv)
    except RewriteError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    from rewrite.evaluation.report import markdown_table

    print(markdown_table(report))
    print(f"\n报告已写入 {out}/（report.html、report.md、report.json、predictions.jsonl）")
    skipped = sum(b["skipped"] for b in report["benches"])
    if skipped:
        print(f"共跳过 {skipped} 行有问题的评测数据（见上方 stderr 与报告）。", file=sys.stderr)
    return 1 if skipped else 0


__all__ = ["EvalConfig", "Bench", "BenchItem", "System", "Prediction", "load_bench", "load_system",
           "score", "signature", "signature_str", "run", "main"]
