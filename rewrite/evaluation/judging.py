"""Blind judging: a person (or several) marks each output 可用 / 不可用, with reasons, without
seeing which system wrote it; the judgments feed ``rewrite eval``.

* A judgment is keyed by :func:`judgment_key` (a hash of draft + output), so it stays valid for
  every system that produces the same output, and an output shown once is judged once.
* References and untouched drafts are mixed in as hidden controls. :func:`calibration` checks
  each judge against them: references should be accepted (≥ 95 %), untouched drafts that carry
  must-fix spans rejected (acceptance ≤ 5 %). A judge outside those bounds is flagged.
* Judgments are appended to ``eval/judgments/<judge>.jsonl`` (one JSON object a line; a broken
  line is reported and skipped, never fatal).

The flow, for the CLI (``rewrite judge``) and the 评测 tab alike: :func:`build_tasks` (outputs
of the systems plus the controls, shuffled, names hidden) → the judge answers →
:func:`record` → :func:`load_judgments` / :func:`verdicts` when scoring.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

#: Reasons a judge can give for 不可用 (id -> label shown to the judge).
REASONS: dict[str, str] = {
    "rude_left": "仍有不礼貌内容（指责、命令、推诿、反问、不耐烦、敷衍）",
    "fact_changed": "事实丢失或被改动",
    "invented": "编造了草稿没有的内容",
    "ungrammatical": "不通顺或有乱码",
    "bad_frame": "开头/结尾套话不合适",
    "over_edited": "改过头（原本没问题的话被改坏）",
    "too_curt": "仍然过于生硬",
}
VERDICTS = ("ok", "bad")

#: Calibration bounds on the hidden controls.
MIN_REFERENCE_ACCEPT = 0.95
MAX_OFFENDING_DRAFT_ACCEPT = 0.05

JUDGE_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


def default_store() -> Path:
    """``$REWRITE_JUDGMENTS_DIR`` or the repository's ``eval/judgments``."""
    env = os.environ.get("REWRITE_JUDGMENTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "eval" / "judgments"


def judgment_key(draft: str, output: str) -> str:
    """16 hex digits of sha256 over draft and output: the same pair, the same key."""
    return hashlib.sha256(f"{draft}\n\x00\n{output}".encode("utf-8")).hexdigest()[:16]


@dataclass
class Candidate:
    """One output shown to the judge; ``sources`` (systems or controls) are never shown."""

    key: str
    output: str
    sources: list[str] = field(default_factory=list)


@dataclass
class Task:
    """One draft with its candidates in random order."""

    bench: str
    item_id: str
    draft: str
    candidates: list[Candidate]

    def public(self) -> dict[str, Any]:
        """What a judge may see (no system names)."""
        return {"bench": self.bench, "item": self.item_id, "draft": self.draft,
                "candidates": [{"key": c.key, "output": c.output} for c in self.candidates]}


def build_tasks(items: Sequence[dict[str, Any]], outputs: dict[str, Sequence[str]], *, bench: str,
                seed: int = 0, controls: bool = True, skip_keys: Iterable[str] = ()) -> list[Task]:
    """Tasks for ``items`` (dicts with ``id``, ``draft``, ``reference``) given each system's
    outputs (``{system: [output per item]}``). Identical outputs collapse into one candidate;
    with ``controls`` the reference and the untouched draft join as hidden candidates.
    Candidates whose key is in ``skip_keys`` (already judged) are left out; tasks with nothing
    left are dropped. Order of tasks and of candidates is shuffled with ``seed``."""
    rng = random.Random(seed)
    skip = set(skip_keys)
    tasks: list[Task] = []
    for i, it in enumerate(items):
        by_key: dict[str, Candidate] = {}
        pool: list[tuple[str, str]] = [(name, outs[i]) for name, outs in outputs.items() if outs[i]]
        if controls:
            pool += [("@reference", it["reference"]), ("@draft", it["draft"])]
        for source, out in pool:
            key = judgment_key(it["draft"], out)
            if key in skip:
                continue
            by_key.setdefault(key, Candidate(key, out)).sources.append(source)
        cands = list(by_key.values())
        if not cands:
            continue
        rng.shuffle(cands)
        tasks.append(Task(bench, it["id"], it["draft"], cands))
    rng.shuffle(tasks)
    return tasks


def validate_answer(verdict: str, reasons: Sequence[str]) -> None:
    """Raise ``ValueError`` (Chinese message) for a verdict or reason outside the closed sets."""
    if verdict not in VERDICTS:
        raise ValueError(f"判定必须是 ok（可用）或 bad（不可用），收到 {verdict!r}")
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise ValueError(f"未知理由 {unknown}，可选：{', '.join(REASONS)}")


def record(judge: str, task: Task, answers: dict[str, tuple[str, Sequence[str]]], *,
           store: Path | None = None, now: datetime | None = None) -> int:
    """Append the judge's answers for ``task`` (``{key: (verdict, reasons)}``) to
    ``<store>/<judge>.jsonl``; returns how many lines were written. Unknown keys are refused."""
    if not JUDGE_ID_RE.match(judge or ""):
        raise ValueError("评审人 id 只能含字母、数字、点、下划线、连字符（1-40 个字符）")
    by_key = {c.key: c for c in task.candidates}
    lines = []
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    for key, (verdict, reasons) in answers.items():
        if key not in by_key:
            raise ValueError(f"候选 {key} 不属于这条任务")
        validate_answer(verdict, reasons)
        lines.append({"key": key, "verdict": verdict, "reasons": list(reasons), "judge": judge, "time": stamp,
                      "bench": task.bench, "item": task.item_id, "draft": task.draft, "output": by_key[key].output})
    if not lines:
        return 0
    folder = store or default_store()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{judge}.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    return len(lines)


def load_judgments(store: Path | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every judgment line under ``store`` and the ``file:line: why`` of lines skipped.
    A line whose key does not match its draft and output is skipped (it was edited by hand)."""
    folder = store or default_store()
    rows: list[dict[str, Any]] = []
    bad: list[str] = []
    if not folder.is_dir():
        return rows, bad
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("不是 JSON 对象")
                    validate_answer(row.get("verdict"), row.get("reasons") or [])
                    if judgment_key(row["draft"], row["output"]) != row["key"]:
                        raise ValueError("key 与 draft/output 不符")
                    if not isinstance(row.get("judge"), str):
                        raise ValueError("缺少 judge")
                except (ValueError, KeyError, TypeError) as e:
                    bad.append(f"{path}:{n}: {e}")
                    continue
                rows.append(row)
    return rows, bad


def verdicts(rows: Iterable[dict[str, Any]]) -> dict[str, bool]:
    """``{key: acceptable}``: each judge's latest word on a key, then the majority of judges
    (a tie counts as not acceptable: a reply two readers disagree on is not one to send)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        k = (r["key"], r["judge"])
        if k not in latest or r.get("time", "") >= latest[k].get("time", ""):
            latest[k] = r
    votes: dict[str, list[bool]] = {}
    for (key, _), r in latest.items():
        votes.setdefault(key, []).append(r["verdict"] == "ok")
    return {k: sum(v) * 2 > len(v) for k, v in votes.items()}


def calibration(rows: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per judge, on the hidden controls of ``items`` (dicts with ``draft``, ``reference``,
    ``must_fix``): acceptance of references (where reference ≠ draft), acceptance of untouched
    drafts that carry must-fix spans, their counts, and ``flagged`` with the reason."""
    ref_keys = {judgment_key(it["draft"], it["reference"]) for it in items if it["reference"] != it["draft"]}
    bad_draft_keys = {judgment_key(it["draft"], it["draft"]) for it in items if it.get("must_fix")}
    out: dict[str, dict[str, Any]] = {}
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        k = (r["key"], r["judge"])
        if k not in latest or r.get("time", "") >= latest[k].get("time", ""):
            latest[k] = r
    for (key, judge), r in latest.items():
        c = out.setdefault(judge, {"reference_n": 0, "reference_ok": 0, "draft_n": 0, "draft_ok": 0})
        if key in ref_keys:
            c["reference_n"] += 1
            c["reference_ok"] += r["verdict"] == "ok"
        if key in bad_draft_keys:
            c["draft_n"] += 1
            c["draft_ok"] += r["verdict"] == "ok"
    for judge, c in out.items():
        c["reference_accept"] = c["reference_ok"] / c["reference_n"] if c["reference_n"] else None
        c["draft_accept"] = c["draft_ok"] / c["draft_n"] if c["draft_n"] else None
        why = []
        if c["reference_accept"] is not None and c["reference_accept"] < MIN_REFERENCE_ACCEPT:
            why.append(f"参考答案接受率 {c['reference_accept']:.0%} < {MIN_REFERENCE_ACCEPT:.0%}")
        if c["draft_accept"] is not None and c["draft_accept"] > MAX_OFFENDING_DRAFT_ACCEPT:
            why.append(f"含必改片段的原稿接受率 {c['draft_accept']:.0%} > {MAX_OFFENDING_DRAFT_ACCEPT:.0%}")
        c["flagged"] = bool(why)
        c["why"] = "；".join(why)
    return out


def judged_scores(items: Sequence[dict[str, Any]], outputs: Sequence[str], table: dict[str, bool]) -> dict[str, Any]:
    """One system's judged measures on one bench, from ``table`` (:func:`verdicts`):

    * ``accept_flags``: per judged output, whether it is acceptable; ``unjudged``: outputs with
      no judgment (never silently dropped: the report shows the count);
    * ``worse_flags``: per item whose draft was fine as it stood (``must_fix == []``), whether
      the system made it worse: it changed the draft, the change is not the reference itself,
      and the output was judged 不可用. An unchanged output (or the reference) is never worse;
      a changed, unjudged output counts in ``worse_unjudged`` and stays out of the flags.
    """
    accept: list[bool] = []
    unjudged = 0
    worse: list[bool] = []
    worse_unjudged = 0
    for it, out in zip(items, outputs):
        key = judgment_key(it["draft"], out)
        verdict = table.get(key)
        if verdict is None:
            unjudged += 1
        else:
            accept.append(verdict)
        if it.get("must_fix"):
            continue
        if out in (it["draft"], it["reference"]):
            worse.append(False)
        elif verdict is None:
            worse_unjudged += 1
        else:
            worse.append(not verdict)
    return {"accept_flags": accept, "unjudged": unjudged, "worse_flags": worse, "worse_unjudged": worse_unjudged}


# ----------------------------------------------------------------------------- rewrite judge


def _parser():
    import argparse

    p = argparse.ArgumentParser(
        prog="rewrite judge",
        description="盲评：逐条看草稿与各系统输出（顺序随机、系统名隐藏，参考答案与原稿作为对照混入），"
                    "标记 可用/不可用 及理由；结果追加到 eval/judgments/<评审人>.jsonl，rewrite eval 会合并。",
    )
    p.add_argument("--bench", action="append", required=True, metavar="FILE", help="评测集 JSONL，可重复")
    p.add_argument("--system", action="append", required=True, metavar="NAME", help="参评系统（引擎名），可重复")
    p.add_argument("--judge", required=True, help="评审人 id（字母、数字、._-）")
    p.add_argument("--limit", type=int, metavar="N", help="每个评测集只取前 N 条")
    p.add_argument("--seed", type=int, default=0, help="打乱顺序的随机种子，默认 0")
    p.add_argument("--no-controls", action="store_true", help="不混入对照（参考答案、原稿）")
    p.add_argument("--unjudged-only", action="store_true", help="只出任何评审人都还没评过的输出（默认：只跳过本人评过的）")
    p.add_argument("--judgments", metavar="DIR", help="结果目录（默认 eval/judgments/ 或 $REWRITE_JUDGMENTS_DIR）")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--export", metavar="FILE", help="不在终端评，把待评任务（不含系统名）写到 FILE")
    g.add_argument("--answers", metavar="FILE", help="导入答案 JSONL（key, verdict=ok|bad, reasons），需配合 --tasks")
    p.add_argument("--tasks", metavar="FILE", help="与 --answers 配合：之前 --export 写出的任务文件")
    return p


def _outputs_for(bench_path: str, systems: Sequence[str], limit: int | None) -> tuple[Any, dict[str, list[str]]]:
    from rewrite.evaluation.harness import load_bench, load_system, predict

    bench = load_bench(bench_path, limit=limit)
    outputs: dict[str, list[str]] = {}
    for name in systems:
        system = load_system(name)
        if not system.available:
            raise ValueError(f"系统 {name} 不可用：{system.reason}")
        outputs[name] = [p.output for p in predict(system, bench, progress=False)]
    return bench, outputs


def _interactive(tasks: Sequence[Task], judge: str, store: Path | None) -> int:
    keys = list(REASONS)
    print("理由编号：" + "；".join(f"{i + 1}={REASONS[k]}" for i, k in enumerate(keys)))
    done = 0
    for t_no, task in enumerate(tasks, 1):
        print(f"\n[{t_no}/{len(tasks)}] 草稿：{task.draft}")
        answers: dict[str, tuple[str, list[str]]] = {}
        for c_no, cand in enumerate(task.candidates, 1):
            print(f"  候选 {c_no}：{cand.output}")
            while True:
                raw = input("    可用吗？y=可用  n[理由编号,…]=不可用  q=退出：").strip().lower()
                if raw == "q":
                    record(judge, task, answers, store=store)
                    return done + len(answers)
                if raw == "y":
                    answers[cand.key] = ("ok", [])
                    break
                if raw.startswith("n"):
                    try:
                        picked = [keys[int(x) - 1] for x in re.split(r"[,\s，]+", raw[1:]) if x]
                    except (ValueError, IndexError):
                        print("    理由编号无效。")
                        continue
                    answers[cand.key] = ("bad", picked)
                    break
                print("    请输入 y、n 或 q。")
        done += record(judge, task, answers, store=store)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """``rewrite judge``. Exit codes: 0 ok, 2 usage or input error."""
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if not JUDGE_ID_RE.match(args.judge):
        print("错误：评审人 id 只能含字母、数字、点、下划线、连字符（1-40 个字符）。", file=sys.stderr)
        return 2
    if args.answers and not args.tasks:
        print("错误：--answers 需要 --tasks（之前 --export 写出的任务文件）。", file=sys.stderr)
        return 2
    store = Path(args.judgments) if args.judgments else None
    if args.answers:
        return _import_answers(Path(args.tasks), Path(args.answers), args.judge, store)
    rows, _ = load_judgments(store)
    mine = {r["key"] for r in rows if args.unjudged_only or r["judge"] == args.judge}
    tasks: list[Task] = []
    try:
        for path in args.bench:
            bench, outputs = _outputs_for(path, args.system, args.limit)
            tasks += build_tasks([it.as_dict() for it in bench.items], outputs, bench=bench.name,
                                 seed=args.seed, controls=not args.no_controls, skip_keys=mine)
    except (ValueError, OSError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    random.Random(args.seed).shuffle(tasks)
    if args.export:
        with open(args.export, "w", encoding="utf-8") as fh:
            for t in tasks:
                fh.write(json.dumps(t.public(), ensure_ascii=False) + "\n")
        n = sum(len(t.candidates) for t in tasks)
        print(f"已写出 {len(tasks)} 条任务、{n} 个待评输出到 {args.export}（不含系统名）。")
        return 0
    if not tasks:
        print("没有待评的输出：这些输出都已评过。")
        return 0
    n = _interactive(tasks, args.judge, store)
    print(f"\n已记录 {n} 条评判。")
    return 0


def _import_answers(tasks_path: Path, answers_path: Path, judge: str, store: Path | None) -> int:
    """Record an answers file against the exported tasks; bad lines are reported, never fatal."""
    import sys

    by_key: dict[str, Task] = {}
    try:
        with tasks_path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    t = json.loads(line)
                    task = Task(t["bench"], t["item"], t["draft"], [Candidate(c["key"], c["output"]) for c in t["candidates"]])
                    for c in task.candidates:
                        by_key[c.key] = task
        answers = answers_path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"错误：无法读取任务或答案文件：{e}", file=sys.stderr)
        return 2
    written, bad = 0, 0
    for n, line in enumerate(answers, 1):
        if not line.strip():
            continue
        try:
            a = json.loads(line)
            task = by_key[a["key"]]
            written += record(judge, task, {a["key"]: (a["verdict"], list(a.get("reasons") or []))}, store=store)
        except (ValueError, KeyError, TypeError) as e:
            bad += 1
            print(f"{answers_path}:{n}: 跳过（{e}）", file=sys.stderr)
    print(f"已记录 {written} 条评判，跳过 {bad} 行。")
    return 1 if bad else 0
