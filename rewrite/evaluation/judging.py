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
    * ``worse_flags``: per item whose draft was fine as it stood, whether the system made it
      worse: it changed the draft, the change is not the reference itself, and the output was
      judged 不可用. A draft is fine as it stood when it has no ``must_fix`` span and the judges
      did not reject the draft itself (a terse draft such as "好了 查到了 在杭州中转 明天到",
      judged too curt as typed, cannot be made worse by a binary verdict: it was 不可用 already).
      An unchanged output (or the reference) is never worse; a changed, unjudged output counts
      in ``worse_unjudged`` and stays out of the flags.
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
        if it.get("must_fix") or table.get(judgment_key(it["draft"], it["draft"])) is False:
            continue
        if out in (it["draft"], it["reference"]):
            worse.append(False)
        elif verdict is None:
            worse_unjudged += 1
        else:
            worse.append(not verdict)
    return {"accept_flags": accept, "unjudged": unjudged, "worse_flags": worse, "worse_unjudged": worse_unjudged}
