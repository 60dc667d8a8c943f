"""Blind judging for a probe folder: export the draft/reply pairs that no judge has seen yet as
tasks (the format of ``rewrite judge --export``: system names hidden, order shuffled, the draft
itself mixed in as a hidden control for about a third of the items), then import the answers
into the folder's judgments.jsonl.

    python eval/probes/tasks.py export eval/probes/fresh3-2026-12-01 tasks.jsonl [--seed N]
    python eval/probes/tasks.py import eval/probes/fresh3-2026-12-01 tasks.jsonl answers.jsonl JUDGE
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from rewrite.evaluation.judging import REASONS, VERDICTS, judgment_key


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.is_file() else []


def export(folder: Path, out: Path, seed: int = 0) -> tuple[int, int]:
    seen = {r["key"] for r in _rows(folder / "judgments.jsonl")}
    by_item: dict[str, dict] = {}
    for r in _rows(folder / "outputs.jsonl"):
        key = judgment_key(r["draft"], r["output"])
        if key in seen:
            continue
        seen.add(key)
        t = by_item.setdefault(r["id"], {"bench": folder.name, "item": r["id"], "draft": r["draft"], "candidates": []})
        t["candidates"].append({"key": key, "output": r["output"]})
    rng = random.Random(seed)
    for t in by_item.values():
        control = judgment_key(t["draft"], t["draft"])
        if rng.random() < 1 / 3 and control not in seen:
            seen.add(control)
            t["candidates"].append({"key": control, "output": t["draft"]})
        rng.shuffle(t["candidates"])
    tasks = list(by_item.values())
    rng.shuffle(tasks)
    out.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks), encoding="utf-8")
    return len(tasks), sum(len(t["candidates"]) for t in tasks)


def import_answers(folder: Path, tasks: Path, answers: Path, judge: str) -> tuple[int, list[str]]:
    by_key = {c["key"]: (t, c) for t in _rows(tasks) for c in t["candidates"]}
    have = {r["key"] for r in _rows(folder / "judgments.jsonl")}
    lines, problems = [], []
    for n, a in enumerate(_rows(answers), 1):
        reasons = list(a.get("reasons") or [])
        if a.get("key") not in by_key or a.get("verdict") not in VERDICTS or any(x not in REASONS for x in reasons):
            problems.append(f"{answers}:{n}: 跳过 {a!r}")
            continue
        if a["key"] in have:
            continue
        have.add(a["key"])
        t, c = by_key[a["key"]]
        lines.append({"key": a["key"], "item": t["item"], "verdict": a["verdict"], "reasons": reasons,
                      "judge": f"judge-{judge}", "draft": t["draft"], "output": c["output"]})
    with (folder / "judgments.jsonl").open("a", encoding="utf-8") as fh:
        for r in lines:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(lines), problems


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "export":
        seed = int(a[a.index("--seed") + 1]) if "--seed" in a else 0
        n, c = export(Path(a[1]), Path(a[2]), seed)
        print(f"已写出 {n} 条任务、{c} 个待评输出到 {a[2]}。")
    elif len(a) == 5 and a[0] == "import":
        n, problems = import_answers(Path(a[1]), Path(a[2]), Path(a[3]), a[4])
        print("\n".join(problems + [f"已记录 {n} 条评判。"]))
    else:
        sys.exit(__doc__)
