"""Reading JSONL files line by line, reporting every broken line as ``file:line: why``.

The data build, the batch CLI, the eval harness and the app's feedback reader all go through
:func:`read_jsonl` (syntax) and :func:`read_pairs` (syntax + the pair format of
``docs/DATA_SPEC.md``), so a broken line reads the same everywhere.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from rewrite.errors import DataError
from rewrite.data.audit import record_problems


#: Longest line :func:`read_jsonl` parses, in bytes; a longer line is skipped (and named) unread.
MAX_LINE_BYTES = 1024 * 1024
#: Most digits of a JSON integer :func:`loads_strict` accepts (Python refuses 4,300 with a ValueError).
MAX_INT_DIGITS = 100


class JSONRefused(ValueError):
    """JSON that parses but would break later code: NaN/Infinity, numbers too large, nesting too
    deep, lone surrogates. The message (Chinese) says which."""


def _refuse_constant(name: str) -> Any:
    raise JSONRefused(f"不支持 {name}（JSON 数字必须是有限值）")


def _parse_int(s: str) -> int:
    if len(s.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONRefused(f"整数过长（{len(s)} 位，最多 {MAX_INT_DIGITS} 位）")
    return int(s)


def _parse_float(s: str) -> float:
    if len(s) > MAX_INT_DIGITS + 20:
        raise JSONRefused(f"数字过长（{len(s)} 个字符）")
    f = float(s)
    if not math.isfinite(f):
        raise JSONRefused(f"数字 {s[:20]} 超出范围")
    return f


def loads_strict(text: str) -> Any:
    """``json.loads`` that refuses, with :class:`JSONRefused` or ``json.JSONDecodeError`` (both
    ``ValueError``), what would otherwise crash code further on: ``NaN``/``Infinity``, numbers that
    overflow (``1e400``), integers of more than :data:`MAX_INT_DIGITS` digits, nesting deeper than
    the interpreter allows, and strings with a lone surrogate (``"\\ud800"``)."""
    try:
        obj = json.loads(text, parse_constant=_refuse_constant, parse_int=_parse_int, parse_float=_parse_float)
    except RecursionError:
        raise JSONRefused("嵌套层数过深") from None
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise JSONRefused("含有无法编码的字符（孤立的 \\ud800–\\udfff 代理码位）") from None
    except RecursionError:
        raise JSONRefused("嵌套层数过深") from None
    return obj


def json_problem(e: ValueError) -> str:
    """The Chinese reason for a :func:`loads_strict` failure."""
    if isinstance(e, json.JSONDecodeError):
        return f"JSON 格式错误：{e.msg}（第 {e.colno} 列）"
    return f"JSON 内容不被接受：{e}"


@dataclass(frozen=True)
class Problem:
    """One broken line: where it is and why (Chinese)."""

    path: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.why}"


def read_jsonl(
    path: str | Path, *, max_line_bytes: int = MAX_LINE_BYTES, max_lines: int | None = None
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Every JSON object of ``path`` (blank lines skipped) and a :class:`Problem` per broken line.

    Each record gets ``_line`` (1-based line number) and ``_file`` so later checks can point back at
    the source. The file is read line by line: a line longer than ``max_line_bytes`` is skipped
    without being held in memory, and reading stops after ``max_lines`` lines (both are named as
    problems). Lines are parsed by :func:`loads_strict`. A missing or unreadable file is a
    :class:`DataError`.
    """
    p = Path(path)
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    try:
        with open(p, "rb") as f:
            for lineno, line, too_long in _lines(f, max_line_bytes):
                if max_lines is not None and lineno > max_lines:
                    problems.append(Problem(str(p), lineno, f"超过 {max_lines} 行，其后的内容未读取"))
                    break
                if too_long:
                    problems.append(Problem(str(p), lineno, f"行过长（超过 {max_line_bytes} 字节），已跳过"))
                    continue
                _parse_line(p, lineno, line, records, problems)
    except OSError as e:
        raise DataError(f"无法读取 {p}：{e.strerror or e}。请检查路径。") from None
    return records, problems


def _lines(f: Any, max_line_bytes: int):
    """``(lineno, line, too_long)`` for each line of binary file ``f``; an over-long line is
    consumed in bounded pieces and yielded empty with ``too_long`` set."""
    lineno = 0
    while True:
        line = f.readline(max_line_bytes + 1)
        if not line:
            return
        lineno += 1
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = f.readline(65536)
            yield lineno, b"", True
            continue
        yield lineno, line.rstrip(b"\n"), False


def _parse_line(p: Path, lineno: int, line: bytes, records: list[dict[str, Any]], problems: list[Problem]) -> None:
    if not line.strip():
        return
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(str(p), lineno, "不是 UTF-8 编码"))
        return
    try:
        obj = loads_strict(text)
    except ValueError as e:
        problems.append(Problem(str(p), lineno, json_problem(e)))
        return
    if not isinstance(obj, dict):
        problems.append(Problem(str(p), lineno, f"应为 JSON 对象，实为 {type(obj).__name__}"))
        return
    obj["_file"] = str(p)
    obj["_line"] = lineno
    records.append(obj)


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
            whys = record_problems(rec, training=training, require_reference=require_reference)
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
