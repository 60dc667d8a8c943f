"""The local subcommands of the CLI: ``rewrite "草稿"``, ``rewrite check``, ``rewrite batch``.

Each ``cmd_*`` takes the arguments after the subcommand and returns an exit code: 0 ok, 1 some
input lines could not be rewritten (``rewrite batch``: reported on stderr with their line numbers and
written with an ``error`` field), 2 usage or input error.
Library errors (:class:`~rewrite.errors.RewriteError`) are left to :func:`rewrite.cli.main`, which
prints them as one line; usage errors are printed here. Nothing here prints a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence, TextIO

from rewrite.errors import DataError, InvalidDraftError, RewriteError
from rewrite.text import MAX_DRAFT_CHARS, validate_draft

CHANNELS = ("phone", "chat")
#: Drafts handed to ``rewrite_batch`` at once by ``rewrite batch``.
BATCH_SIZE = 32



class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main(argv)`` always returns a code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.format_usage().strip()}\n参数错误：{message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            print(message, file=sys.stderr, end="")
        raise SystemExit(status)


def _run(parser: argparse.ArgumentParser, argv: Sequence[str], body) -> int:
    try:
        args = parser.parse_args(list(argv))
    except _UsageError as e:
        print(e, file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)
    return body(args)


def _read_draft(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    return value


# ─────────────────────────────── rewrite "草稿" ───────────────────────────────


def _rewrite_parser() -> argparse.ArgumentParser:
    from rewrite.engines import DEFAULT_BACKEND, backend_names

    p = _Parser(prog="rewrite", description="把一条客服回复草稿改写成规范的专业表达，并说明改了什么。")
    p.add_argument("draft", help="草稿文本（用引号括起；写 - 则从标准输入读取）")
    p.add_argument("--backend", default=DEFAULT_BACKEND, help=f"改写引擎：{'、'.join(backend_names())}（默认 {DEFAULT_BACKEND}）")
    p.add_argument("--channel", default="phone", choices=CHANNELS, help="渠道：phone 电话 / chat 在线（默认 phone）")
    p.add_argument("-n", type=int, default=1, help="候选数，1-4（默认 1；大于 1 时另给备选）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出完整结果")
    return p


def _source_label(f: Any) -> str:
    """规则 for a rule finding, 模型 NN% for the clause critic's."""
    return "规则" if f.source == "rule" else f"模型 {f.confidence:.0%}"


def _fmt_finding(i: int, f: Any) -> str:
    sugg = f" 建议：{' / '.join(f.suggestions[:2])}" if f.suggestions else ""
    return f"  {i}. 「{f.text}」[{f.category}·{f.severity}·{_source_label(f)}] {f.explanation}{sugg}"


def cmd_rewrite(argv: Sequence[str]) -> int:
    """``rewrite "草稿" [--backend NAME] [--channel phone|chat] [-n N] [--json]``."""

    def body(args: argparse.Namespace) -> int:
        from rewrite import load_rewriter

        if not 1 <= args.n <= 4:
            print("参数错误：-n 应在 1 到 4 之间。", file=sys.stderr)
            return 2
        draft = validate_draft(_read_draft(args.draft))
        rewriter = load_rewriter(args.backend)
        res = rewriter.rewrite(draft, n=args.n, channel=args.channel)
        if args.json:
            # load_ms: loading the norms, the segmenter and the models, which `ms` leaves out
            print(json.dumps({**res.to_dict(), "load_ms": round(rewriter.load_ms, 1)}, ensure_ascii=False, indent=2))
            return 0
        lines = [res.target]
        for k, alt in enumerate(res.alternatives, 2):
            lines.append(f"  候选{k}：{alt}")
        if res.edits:
            lines.append("改动：")
            for e in res.edits[:12]:
                if e.op == "insert":
                    lines.append(f"  + 「{e.after}」")
                elif e.op == "delete":
                    lines.append(f"  - 「{e.before}」")
                else:
                    lines.append(f"  「{e.before}」→「{e.after}」")
            if len(res.edits) > 12:
                lines.append(f"  …… 共 {len(res.edits)} 处")
        if res.findings_before:
            lines.append(f"原稿不规范（{len(res.findings_before)} 处）：")
            lines += [_fmt_finding(i, f) for i, f in enumerate(res.findings_before, 1)]
        if res.findings_after:
            lines.append(f"改写后仍有 {len(res.findings_after)} 处不规范：")
            lines += [_fmt_finding(i, f) for i, f in enumerate(res.findings_after, 1)]
        else:
            lines.append("改写后：符合规范。")
        lines += [f"说明：{n}" for n in res.notes]
        lines.append(
            f"引擎：{res.backend}{'（已回退到规则改写）' if res.fallback else ''}，"
            f"改写用时 {res.ms:.1f} ms（另有加载规范、分词词典和模型 {rewriter.load_ms:.0f} ms，每个进程只加载一次）"
        )
        print("\n".join(lines))
        return 0

    return _run(_rewrite_parser(), argv, body)


# ─────────────────────────────── rewrite check ───────────────────────────────


def cmd_check(argv: Sequence[str]) -> int:
    """``rewrite check "草稿" [--channel phone|chat] [--json]``: findings with explanation and
    suggestion, and the score. Exit code 0 whether or not there are findings."""
    p = _Parser(prog="rewrite check", description="检查一段回复违反了哪些服务规范，逐条说明并给出建议。")
    p.add_argument("text", help="要检查的文本（写 - 则从标准输入读取）")
    p.add_argument("--channel", default=None, choices=CHANNELS, help="渠道（可选）：同时检查只适用于该渠道的规范")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--rules-only", action="store_true", help="只用规则库检查（不用语气评审模型）")

    def body(args: argparse.Namespace) -> int:
        from rewrite.norms.checker import check

        text = validate_draft(_read_draft(args.text), MAX_DRAFT_CHARS)
        rep = check(text, channel=args.channel, critic=not args.rules_only)
        for note in rep.notes:
            print(f"注意：{note}", file=sys.stderr)
        if args.json:
            print(json.dumps(rep.to_dict(), ensure_ascii=False, indent=2))
            return 0
        if not rep.findings:
            print(f"得分 {rep.score:.0f}/100：未发现不规范用语。")
            return 0
        lines = [f"得分 {rep.score:.0f}/100，发现 {len(rep.findings)} 处不规范："]
        for i, f in enumerate(rep.findings, 1):
            lines.append(f"  {i}. 「{f.text}」（第 {f.start + 1}-{f.end} 字）[{f.category}·{f.severity}·{_source_label(f)}·{f.rule_id}]")
            lines.append(f"     {f.explanation}")
            if f.suggestions:
                lines.append(f"     建议：{' / '.join(f.suggestions)}")
        print("\n".join(lines))
        return 0

    return _run(p, argv, body)


# ─────────────────────────────── rewrite batch ───────────────────────────────


def _line_problem(obj: Any) -> str | None:
    """Why a parsed JSONL line cannot be rewritten (None if it can)."""
    if not isinstance(obj, dict):
        return f"不是 JSON 对象（是 {type(obj).__name__}）"
    if "draft" not in obj:
        return "缺少字段 draft"
    draft = obj["draft"]
    if not isinstance(draft, str):
        return f"draft 应为字符串，实际是 {type(draft).__name__}"
    try:
        validate_draft(draft)
    except InvalidDraftError as e:
        return _strip_stop(str(e))
    keep = obj.get("keep", [])
    if keep is not None and (not isinstance(keep, list) or not all(isinstance(k, str) for k in keep)):
        return "keep 应为字符串列表"
    ch = obj.get("channel")
    if ch is not None and ch not in CHANNELS:
        return f"channel 应为 {' 或 '.join(CHANNELS)}，实际是 {ch!r}"
    return None


#: Keys that ``rewrite batch`` writes. An input field with one of these names is kept as
#: ``input_<name>`` (and a warning says so), never overwritten.
BATCH_KEYS = ("line", "rewrite", "findings_after", "findings_before", "backend", "fallback", "notes", "error", "skipped")


def _strip_stop(msg: str) -> str:
    """A message without its final full stop, to embed in a sentence (no doubled 。，)."""
    return msg.rstrip().rstrip("。.")


def _parse_line(raw: bytes) -> tuple[Any, str | None]:
    """``(object, None)`` or ``(None, why it cannot be read)`` for one input line, newline excluded
    (so a JSON error's column is the real one). Never raises: bad bytes, lone surrogates, nesting
    deeper than Python's stack and 5,000-digit numbers are all reported."""
    try:
        text = raw.rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"不是 UTF-8 编码（第 {e.start + 1} 字节）"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"JSON 格式错误（{e.msg}，第 {e.colno} 列）"
    except RecursionError:
        return None, "JSON 嵌套过深"
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        return None, f"JSON 无法读取（{_strip_stop(str(e))[:80]}）"


def _has_surrogate(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if depth > 50:
        return False
    if isinstance(value, dict):
        return any(_has_surrogate(k, depth + 1) or _has_surrogate(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v, depth + 1) for v in value)
    return False


def _dump_line(obj: dict[str, Any]) -> str:
    """One JSON line, UTF-8 where possible; input text that UTF-8 cannot carry (a lone surrogate
    from a ``\\ud800`` escape) is written back escaped, as it came, instead of failing the batch."""
    try:
        line = json.dumps(obj, ensure_ascii=False)
        line.encode("utf-8")
        return line
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True)
    except (ValueError, RecursionError):  # an input value json cannot write back (e.g. huge nesting)
        return json.dumps({"line": obj.get("line"), "error": obj.get("error") or "该行无法写回 JSON"}, ensure_ascii=True)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _open_out(path: str) -> tuple[TextIO, str | None]:
    if path == "-":
        return sys.stdout, None
    out = Path(path)
    if out.is_dir():
        raise DataError(f"-o {out} 是一个目录：请给出输出文件的路径，例如 {out / 'out.jsonl'}。")
    if out.parent and not out.parent.exists():
        raise DataError(f"输出目录 {out.parent} 不存在：请先创建它或换一个 -o 路径。")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=str(out.parent or "."))
    # The finished file gets the mode the old one had, or the usual mode of a new file (not 600).
    try:
        mode = out.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)
    return os.fdopen(fd, "w", encoding="utf-8"), tmp


def cmd_batch(argv: Sequence[str]) -> int:
    """``rewrite batch IN.jsonl -o OUT.jsonl [--backend NAME] [--channel phone|chat]``.

    Input: one JSON object per line with at least ``draft`` (optional ``keep``: list of strings to
    keep verbatim, ``channel``: phone or chat, any other fields). Output: exactly one line per input
    line, in order, each with ``line`` (its input line number): every input field passed through,
    plus ``rewrite``, ``findings_after``, ``findings_before``, ``backend``, ``fallback`` and
    ``notes``; a line that could not be rewritten gets ``error`` instead (and is reported on stderr),
    a blank line ``skipped``. Input fields named like an output key are kept as ``input_<name>``.
    Exit code: 0 all lines rewritten, 1 some lines have ``error``, 2 usage or input error (nothing
    written). The output is written beside its target and renamed into place when complete; ``-o``
    equal to the input is refused.
    """
    from rewrite.engines import DEFAULT_BACKEND, backend_names

    p = _Parser(prog="rewrite batch", description="批量改写 JSONL 文件（每行一个含 draft 字段的 JSON 对象）。"
                "输出与输入逐行对应：每行带 line（输入行号），改写失败的行带 error。"
                "退出码：0 全部成功，1 有行出错（仍逐行输出），2 用法或输入错误。")
    p.add_argument("input", help="输入 JSONL 文件（- 为标准输入）")
    p.add_argument("-o", "--output", required=True, help="输出 JSONL 文件（- 为标准输出；不能与输入相同）")
    p.add_argument("--backend", default=DEFAULT_BACKEND, help=f"改写引擎：{'、'.join(backend_names())}（默认 {DEFAULT_BACKEND}）")
    p.add_argument("--channel", default="phone", choices=CHANNELS, help="行内没有 channel 字段时使用的渠道（默认 phone）")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"每批交给引擎的草稿数（默认 {BATCH_SIZE}）")

    def body(args: argparse.Namespace) -> int:
        from rewrite import load_rewriter

        if args.input == "-":
            raw_lines = [line.encode("utf-8", "surrogateescape") for line in sys.stdin]
        else:
            src = Path(args.input)
            if not src.is_file():
                raise DataError(f"找不到输入文件 {src}：请检查路径。")
            if args.output != "-" and _same_file(args.input, args.output):
                raise DataError(f"-o 与输入是同一个文件 {src}：改写结果会覆盖原稿，请换一个输出路径。")
            with open(src, "rb") as f:
                raw_lines = f.readlines()
        rows: dict[int, dict[str, Any]] = {}
        errors = 0
        clashes: set[str] = set()

        def fail(no: int, why: str, obj: dict[str, Any] | None = None) -> None:
            nonlocal errors
            print(f"第 {no} 行：{_strip_stop(why)}。", file=sys.stderr)
            rows[no] = {**(obj or {}), "line": no, "error": _strip_stop(why)}
            errors += 1

        records: list[tuple[int, dict[str, Any]]] = []
        for no, raw in enumerate(raw_lines, 1):
            if not raw.strip():
                rows[no] = {"line": no, "skipped": "空行"}
                continue
            obj, why = _parse_line(raw)
            if why is None and isinstance(obj, dict):
                kept = {}
                for k, v in obj.items():
                    if k in BATCH_KEYS:
                        clashes.add(k)
                        k = f"input_{k}"
                    kept[k] = v
                obj = kept
            if why is None:
                why = _line_problem(obj)
            if why is None and _has_surrogate(obj.get("draft")):
                why = "draft 含有无效的 Unicode 代理字符（如 \\ud800）"
            if why:
                fail(no, why, obj if isinstance(obj, dict) else None)
                continue
            records.append((no, obj))
        if clashes:
            print(f"注意：输入字段 {'、'.join(sorted(clashes))} 与输出字段同名，已保留为 "
                  f"{'、'.join('input_' + k for k in sorted(clashes))}。", file=sys.stderr)

        rewriter = load_rewriter(args.backend) if records else None
        by_channel: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for no, obj in records:
            by_channel.setdefault(obj.get("channel") or args.channel, []).append((no, obj))
        size = max(1, args.batch_size)
        for channel, items in by_channel.items():
            for i in range(0, len(items), size):
                group = items[i : i + size]
                try:
                    outs = rewriter.rewrite_batch(
                        [o["draft"] for _, o in group], channel=channel, keep=[o.get("keep") or [] for _, o in group]
                    )
                    pairs = list(zip(group, outs))
                except Exception:  # noqa: BLE001 - one draft spoiled the group: one by one, so the others survive
                    pairs = []
                    for no, obj in group:
                        try:
                            pairs.append(((no, obj), rewriter.rewrite(obj["draft"], channel=channel, keep=obj.get("keep") or [])))
                        except RewriteError as e:
                            fail(no, str(e), obj)
                        except Exception as e:  # noqa: BLE001 - reported in the line, never aborts the batch
                            fail(no, f"改写失败（{type(e).__name__}: {_strip_stop(str(e))[:200]}）", obj)
                for (no, obj), res in pairs:
                    out = dict(obj)
                    out["line"] = no
                    out["rewrite"] = res.target
                    out["findings_after"] = [f.to_dict() for f in res.findings_after]
                    out["findings_before"] = [f.to_dict() for f in res.findings_before]
                    out["backend"] = res.backend
                    out["fallback"] = res.fallback
                    out["notes"] = list(res.notes)
                    rows[no] = out

        fh, tmp = _open_out(args.output)
        try:
            for no in range(1, len(raw_lines) + 1):
                fh.write(_dump_line(rows[no]) + "\n")
            fh.flush()
            if tmp is not None:
                fh.close()
                os.replace(tmp, args.output)  # written whole or not at all
                tmp = None
        finally:
            if tmp is not None:
                fh.close()
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        where = "标准输出" if args.output == "-" else args.output
        done = sum(1 for r in rows.values() if "rewrite" in r)
        print(f"已改写 {done} 行，出错 {errors} 行（输出中带 error 字段）→ {where}", file=sys.stderr)
        return 1 if errors else 0

    return _run(p, argv, body)
