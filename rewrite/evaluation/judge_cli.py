"""``rewrite judge``: blind judging from the command line (interactive in a terminal, or export
tasks / import answers for judges elsewhere). The judging logic is :mod:`rewrite.evaluation.judging`;
this module runs the systems (through the harness) and talks to the judge."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, Sequence

from rewrite.evaluation.judging import JUDGE_ID_RE, REASONS, Candidate, Task, build_tasks, load_judgments, record


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
