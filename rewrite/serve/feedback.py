"""The feedback store: pairs trainers save from the app, for the next ``rewrite data build``.

One JSON object per line (the pair format of ``docs/DATA_SPEC.md``) in a file at
``$REWRITE_FEEDBACK_PATH`` or ``~/.local/share/rewrite/feedback.jsonl``. Each save is a single
``os.write`` of the whole line on an ``O_APPEND`` descriptor under an exclusive ``fcntl`` lock, so
concurrent saves from threads and processes neither lose nor interleave lines; a line torn by a
killed writer is moved to ``<store>.torn`` before the next append. The store is created 0600 and
its missing folders 0700. Phone, ID-card, landline and bank card numbers are masked before
anything touches the disk (``138****5678``, ``110105********1234``; see :func:`mask_private`).

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

# A run of digits that may be a private number: an optional +86 / 0086 prefix, an optional
# bracketed area code, digit groups joined by single spaces or dashes, an optional final X (ID
# cards). Possessive quantifiers and the end check done in Python (not a lookahead) keep it linear
# on long runs. Each run is classified by its digits.
_NUMBER_RUN_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?)?(?:\(0\d{2,3}\)[ -]?)?\d(?:[ -]?\d)*+[Xx]?"
)
_ALNUM_RE = re.compile(r"[0-9A-Za-z]")
_BIRTH_DATE_8 = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_BIRTH_DATE_6 = re.compile(r"\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
#: Full-width digits, plus, minus, space and brackets, folded before masking (１３８ is 138).
_FOLD = {**{0xFF10 + i: str(i) for i in range(10)}, 0xFF0B: "+", 0xFF0D: "-", 0x3000: " ", 0xFF08: "(", 0xFF09: ")"}


def default_path() -> Path:
    """``$REWRITE_FEEDBACK_PATH`` if set, else ``~/.local/share/rewrite/feedback.jsonl``."""
    env = os.environ.get(FEEDBACK_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "rewrite" / "feedback.jsonl"


def mask_private(text: str) -> str:
    """``text`` with private numbers masked; service numbers (10086, 95588, 400-…) stay as they are.

    Full-width digits are folded first. Digits may be grouped by spaces or dashes, which are kept:

    - mobile numbers, with or without +86 / 0086: ``138****5678``, ``+86 138-****-5678``;
    - ID-card numbers (18 digits, last may be X, or the old 15): ``110105********1234``;
    - landlines with an area code, with a dash, brackets or none: ``0571-****9999``,
      ``(0571)****9999``, ``0571****9999``;
    - bank card numbers (16 to 19 digits passing the Luhn check): ``6222********1234``.
    """
    text = text.translate(_FOLD)

    def one(m: re.Match[str]) -> str:
        if _ALNUM_RE.match(text, m.end()):  # glued to a letter or digit: part of a longer code
            return m.group(0)
        return _mask_run(m.group(0))

    return _NUMBER_RUN_RE.sub(one, text)


def _mask_run(run: str) -> str:
    """``run`` with the private digits replaced by ``*`` (separators kept), or as it was."""
    where = [i for i, c in enumerate(run) if c.isdigit() or c in "Xx"]
    digits = "".join(run[i] for i in where)
    hide = _hidden_digits(digits, national_prefix=run.lstrip("(").startswith(("+", "0086", "86")))
    if hide is None:
        return run
    out = list(run)
    for k in range(*hide):
        out[where[k]] = "*"
    return "".join(out)


def _hidden_digits(d: str, *, national_prefix: bool) -> tuple[int, int] | None:
    """Which digit positions ``[start, end)`` of ``d`` to hide, or None when ``d`` is not private."""
    if d[-1] in "Xx":
        body = d[:-1]
        if len(d) == 18 and body.isdigit() and _BIRTH_DATE_8.fullmatch(d[6:14]):
            return 6, 14
        return None
    for prefix in ("0086", "86"):
        if national_prefix and d.startswith(prefix) and len(d) == len(prefix) + 11 and re.fullmatch(r"1[3-9]\d{9}", d[len(prefix):]):
            k = len(prefix)
            return k + 3, k + 7
    if len(d) == 11 and re.fullmatch(r"1[3-9]\d{9}", d):
        return 3, 7
    if len(d) == 18 and _BIRTH_DATE_8.fullmatch(d[6:14]):
        return 6, 14
    if len(d) == 15 and _BIRTH_DATE_6.fullmatch(d[6:12]):
        return 6, 12
    if d.startswith("0") and not d.startswith("00") and 10 <= len(d) <= 12:
        area = 3 if d[1] in "12" else 4  # 010, 021… else 0571, 0755…
        if 7 <= len(d) - area <= 8:
            return area, len(d) - 4
    if 16 <= len(d) <= 19 and _luhn_ok(d):
        return 4, len(d) - 4
    return None


def _luhn_ok(d: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


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
    from rewrite.data.audit import record_problems

    if not isinstance(record, dict):
        raise DataError("反馈记录必须是一个字典（包含 draft、reference、domain、scenario、channel）。")
    now = now or datetime.now(timezone.utc)
    rec = _mask_value({k: v for k, v in record.items() if not str(k).startswith("_")})
    rec.setdefault("keep", [])
    # 64 random bits after the second: no two saves collide, however fast they come.
    rec.setdefault("id", f"feedback-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:16]}")
    rec["source"] = f"feedback:{now.date().isoformat()}"
    problems = record_problems(rec, training=True)
    if problems:
        raise DataError("反馈句对无效：" + "；".join(problems) + "。")
    order = ["id", "draft", "reference", "keep", "domain", "scenario", "channel", "source"]
    return {**{k: rec[k] for k in order}, **{k: v for k, v in rec.items() if k not in order}}


def append_pair(record: dict[str, Any], path: str | Path | None = None) -> dict[str, Any]:
    """Mask, validate and append one pair to the store; returns the record as written.

    The whole line goes out in one ``os.write`` on an ``O_APPEND`` descriptor while an exclusive
    ``fcntl.flock`` is held, so concurrent writers (threads or processes) never interleave. A torn
    last line (a writer killed mid-write) is moved to ``<store>.torn`` first, so it cannot swallow
    the new record. The store is created ``0600`` and missing folders ``0700``.
    """
    rec = make_record(record)
    line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
    p = Path(path).expanduser() if path is not None else default_path()
    try:
        _make_private_dirs(p.parent)
        fd = os.open(p, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
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
            _quarantine_torn_tail(fd, p)
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


def _make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700 (existing ones are left alone)."""
    missing = []
    d = folder
    while not d.exists():
        missing.append(d)
        if d.parent == d:
            break
        d = d.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            pass


def _quarantine_torn_tail(fd: int, path: Path) -> None:
    """If the store does not end with a newline, move its last (torn) line to ``<path>.torn`` and
    cut it off. Called with the lock held."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = size
    while start > 0:  # back to the byte after the last newline
        block = max(0, start - 65536)
        chunk = os.pread(fd, start - block, block)
        k = chunk.rfind(b"\n")
        if k != -1:
            start = block + k + 1
            break
        start = block
    torn = os.pread(fd, size - start, start)
    qfd = os.open(str(path) + ".torn", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(qfd, torn + b"\n")
    finally:
        os.close(qfd)
    os.ftruncate(fd, start)


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
