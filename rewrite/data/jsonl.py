"""Reading JSONL files line by line, reporting every broken line as ``file:line: why``.

The data build, the batch CLI, the eval harness and the app's feedback reader all go through
:func:`read_jsonl` (syntax) and :func:`read_pairs` (syntax + the pair format of
``docs/DATA_SPEC.md``), so a broken line reads the same everywhere.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from rewrite.errors import DataError
from rewrite.data.spec import pair_problems


@dataclass(frozen=True)
class Problem:
    """One broken line: where it is and why (Chinese)."""

    path: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.why}"


def read_jsonl(path: str | Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Every JSON object of ``path`` (blank lines skipped) and a :class:`Problem` per broken line.

    Each record gets ``_line`` (1-based line number) and ``_file`` so later checks can point back at
    the source. A missing or unreadable file is a :class:`DataError`.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DataError(f"无法读取 {p}：{e.strerror or e}。请检查路径。") from None
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(str(p), lineno, "不是 UTF-8 编码"))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(Problem(str(p), lineno, f"JSON 格式错误：{e.msg}（第 {e.colno} 列）"))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(str(p), lineno, f"应为 JSON 对象，实为 {type(obj).__name__}"))
            continue
        obj["_file"] = str(p)
        obj["_line"] = lineno
        records.append(obj)
    return records, problems


def read_pairs(
    paths: Iterable[str | Path],
    *,
    training: bool = True,
    require_reference: bool = True,
    seen_ids: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Read pair files, checking each record against the pair format and ids across all files.

    Returns the valid pairs (with ``_file``/``_line``) and every problem found; a record with any
    problem is not returned. ``seen_ids`` (id → ``file:line``) carries duplicate detection across
    calls.
    """
    seen = {} if seen_ids is None else seen_ids
    good: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for path in paths:
        records, probs = read_jsonl(path)
        problems += probs
        for rec in records:
            whys = pair_problems(rec, training=training, require_reference=require_reference)
            rid = rec.get("id")
            if isinstance(rid, str) and rid:
                where = f"{rec['_file']}:{rec['_line']}"
                if rid in seen:
                    whys.append(f"id {rid} 重复（首次出现在 {seen[rid]}）")
                else:
                    seen[rid] = where
            if whys:
                problems += [Problem(rec["_file"], rec["_line"], w) for w in whys]
            else:
                good.append(rec)
    return good, problems


def strip_private(rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` without the ``_file``/``_line`` bookkeeping keys."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}
