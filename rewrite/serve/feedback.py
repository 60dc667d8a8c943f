"""The feedback store: pairs trainers save from the app, for the next ``rewrite data build``.

One JSON object per line (the pair format of ``docs/DATA_SPEC.md``) in a file at
``$REWRITE_FEEDBACK_PATH`` or ``~/.local/share/rewrite/feedback.jsonl``. Each save is a single
``os.write`` of the whole line on an ``O_APPEND`` descriptor under an exclusive ``fcntl`` lock, so
concurrent saves from threads and processes neither lose nor interleave lines. Phone numbers and
ID-card numbers are masked before anything touches the disk (``138****5678``,
``110105********1234``).

    from rewrite.serve.feedback import append_pair, read_pairs
    append_pair({"draft": "...", "reference": "...", "domain": "telecom",
                 "scenario": "bill_query", "channel": "phone"})
    pairs, problems = read_pairs()

``rewrite data build --include-feedback PATH`` trains on them with their provenance
(``source = "feedback:<date>"``).
"""
from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rewrite.errors import DataError

FEEDBACK_ENV = "REWRITE_FEEDBACK_PATH"

_MOBILE_RE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")
_LANDLINE_RE = re.compile(r"(?<![0-9A-Za-z])(0\d{2,3}-)(\d{3,4})(\d{4})(?![0-9A-Za-z])")
# 18-digit ID (last may be X) or the old 15-digit one, with a plausible birth date inside.
_ID18_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})((?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})([\dXx])(?![0-9A-Za-z])")
_ID15_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})(?![0-9A-Za-z])")


def default_path() -> Path:
    """``$REWRITE_FEEDBACK_PATH`` if set, else ``~/.local/share/rewrite/feedback.jsonl``."""
    env = os.environ.get(FEEDBACK_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "rewrite" / "feedback.jsonl"


def mask_private(text: str) -> str:
    """``text`` with ID-card numbers (``110105********1234``), mobile numbers (``138****5678``) and
    landlines with an area code (``0571-****1234``) masked; service numbers stay as they are."""
    text = _ID18_RE.sub(lambda m: m.group(1) + "*" * 8 + m.group(2)[-3:] + m.group(3), text)
    text = _ID15_RE.sub(lambda m: m.group(1) + "*" * 6 + m.group(3), text)
    text = _MOBILE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    text = _LANDLINE_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    return text


def _mask_value(v: Any) -> Any:
    if isinstance(v, str):
        return mask_private(v)
    if isinstance(v, list):
        return [_mask_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _mask_value(x) for k, x in v.items()}
    return v


def make_record(record: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The masked, validated record :func:`append_pair` writes (``id`` and ``source`` filled in).

    Raises :class:`DataError` (Chinese message naming every problem) if the pair is not valid.
    """
    from rewrite.data.spec import pair_problems

    if not isinstance(record, dict):
        raise DataError("反馈记录必须是一个字典（包含 draft、reference、domain、scenario、channel）。")
    now = now or datetime.now(timezone.utc)
    rec = _mask_value({k: v for k, v in record.items() if not str(k).startswith("_")})
    rec.setdefault("keep", [])
    rec.setdefault("id", f"feedback-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
    rec["source"] = f"feedback:{now.date().isoformat()}"
    problems = pair_problems(rec, training=True)
    if problems:
        raise DataError("反馈句对无效：" + "；".join(problems) + "。")
    order = ["id", "draft", "reference", "keep", "domain", "scenario", "channel", "source"]
    return {**{k: rec[k] for k in order}, **{k: v for k, v in rec.items() if k not in order}}


def append_pair(record: dict[str, Any], path: str | Path | None = None) -> dict[str, Any]:
    """Mask, validate and append one pair to the store; returns the record as written.

    The whole line goes out in one ``os.write`` on an ``O_APPEND`` descriptor while an exclusive
    ``fcntl.flock`` is held, so concurrent writers (threads or processes) never interleave.
    """
    rec = make_record(record)
    line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
    p = Path(path).expanduser() if path is not None else default_path()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as e:
        raise DataError(f"无法写入反馈库 {p}：{e.strerror or e}。可用环境变量 {FEEDBACK_ENV} 指定其他位置。") from None
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: O_APPEND alone
            fcntl = None  # type: ignore[assignment]
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            written = os.write(fd, line)
            if written != len(line):  # pragma: no cover - a full disk
                raise DataError(f"写入反馈库 {p} 不完整（磁盘已满？）。")
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError as e:
        raise DataError(f"写入反馈库 {p} 失败：{e.strerror or e}。") from None
    finally:
        os.close(fd)
    return rec


def read_pairs(path: str | Path | None = None) -> tuple[list[dict[str, Any]], list[Any]]:
    """The valid pairs of the store and a problem (``file:line: why``) per broken line.

    A store that does not exist yet is empty: ``([], [])``.
    """
    from rewrite.data.jsonl import read_pairs as _read, strip_private

    p = Path(path).expanduser() if path is not None else default_path()
    if not p.exists():
        return [], []
    pairs, problems = _read([p], training=True)
    return [strip_private(r) for r in pairs], problems
