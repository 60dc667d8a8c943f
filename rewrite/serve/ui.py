"""The Gradio front end: three tabs, one per user (改写 agents, 对比 trainers, 评测 evaluators).

The handlers are plain functions of plain values (tested without a browser); ``build_demo`` only
wires them to components. Nothing is built or loaded at import.
"""
from __future__ import annotations

import html
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rewrite.errors import RewriteError

CHANNEL_LABELS = {"电话": "phone", "在线": "chat"}
BACKEND_LABELS = {"seq2seq": "seq2seq 模型（默认）", "edit": "编辑模型（规则改写 + 学习编辑）", "rules": "规则引擎", "llm": "大模型（需配置）"}
SEVERITY_LABELS = {"high": "严重", "medium": "中等", "low": "轻微"}
DIFF_COLORS = {"+ 新增": "#c8f7c5", "- 删除": "#f9c6c6"}
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Environment variable naming the folder the evaluator tab writes its runs to (tests point it at
#: a temporary folder, so a test run leaves nothing in the tree).
RESULTS_DIR_ENV = "REWRITE_RESULTS_DIR"


def results_dir() -> Path:
    """Where the evaluator tab's runs go: ``$REWRITE_RESULTS_DIR``, else ``eval/results/``."""
    import os

    env = os.environ.get(RESULTS_DIR_ENV)
    return Path(env) if env else REPO_ROOT / "eval" / "results"
#: Most items evaluated per benchmark from the app (a user's limit can only be lower).
EVAL_MAX_ITEMS = 1000
#: Seconds an evaluation started from the app may run before it is stopped.
EVAL_TIMEOUT_S = 600.0
EVAL_TIMEOUT_ENV = "REWRITE_EVAL_TIMEOUT"
#: One evaluation at a time: each runs in its own process, bounded in time and memory.
_EVAL_SLOT = threading.BoundedSemaphore(1)
_RUNNING: set[subprocess.Popen] = set()

CSS = """
#target textarea {font-size: 1.05rem;}
.rw-note {color: #555; font-size: 0.9rem;}
"""
# Ctrl+Enter (or Cmd+Enter) in a draft box presses the nearest 改写/对比 button.
HEAD = """
<script>
document.addEventListener('keydown', function (e) {
  if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
  var box = e.target.closest && e.target.closest('.rw-draft');
  if (!box) return;
  var btn = document.getElementById(box.id === 'compare-draft' ? 'compare-btn' : 'rewrite-btn');
  if (btn) { e.preventDefault(); btn.click(); }
});
</script>
"""


def _esc(s: str) -> str:
    return html.escape(s, quote=False)


def findings_spans(text: str, findings: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """``text`` cut into (piece, label) for gr.HighlightedText: breaches labelled by category.

    Overlapping findings all keep their highlight: the text is cut at every finding's start and
    end, and a piece inside several findings is labelled with all their categories
    (「你」 in 「你去营业厅问吧」: ``称呼 + 命令语气``), so each category shows in the legend."""
    spans = [(max(0, f["start"]), min(len(text), f["end"]), f["category"]) for f in findings]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[tuple[str, str | None]] = []
    for a, b in zip(cuts, cuts[1:]):
        if a >= b:
            continue
        cats = list(dict.fromkeys(cat for s, e, cat in sorted(spans) if s <= a and b <= e))
        label = " + ".join(cats) if cats else None
        if out and out[-1][1] == label:
            out[-1] = (out[-1][0] + text[a:b], label)
        else:
            out.append((text[a:b], label))
    return out


def diff_spans(edits: list[dict[str, Any]], source: str, target: str) -> list[tuple[str, str | None]]:
    """Before/after diff as (piece, "+ 新增" | "- 删除" | None) for gr.HighlightedText."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    for e in edits:
        if e["src_start"] > pos:
            out.append((source[pos : e["src_start"]], None))
        if e["before"]:
            out.append((e["before"], "- 删除"))
        if e["after"]:
            out.append((e["after"], "+ 新增"))
        pos = e["src_end"]
    if pos < len(source):
        out.append((source[pos:], None))
    return out


def findings_markdown(findings: list[dict[str, Any]], empty: str = "未发现不规范用语。") -> str:
    if not findings:
        return f"✅ {empty}"
    lines = []
    for f in findings:
        sugg = "；".join(f.get("suggestions") or [])
        src = "规则" if f.get("source", "rule") == "rule" else f"语气模型 {f.get('confidence') or 0:.0%}"
        lines.append(
            f"- **「{_esc(f['text'])}」** {_esc(f['category'])}（{SEVERITY_LABELS.get(f['severity'], f['severity'])}·{src}）："
            f"{_esc(f['explanation'])}" + (f" 建议：{_esc(sugg)}" if sugg else "")
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- 改写 (agents)


def handle_rewrite(draft: str, channel_label: str = "电话", backend: str = "seq2seq") -> dict[str, Any]:
    """Rewrite for the agent tab. Never raises: bad input comes back as ``message``.

    Returns keys: target, alternatives (list), breaches (HighlightedText value), findings_md,
    diff (HighlightedText value), info (Markdown), message ('' when all went well).
    """
    from rewrite.serve import service

    channel = CHANNEL_LABELS.get(channel_label, "phone")
    empty = {"target": "", "alternatives": [], "breaches": [], "findings_md": "", "diff": [], "info": ""}
    if not (draft or "").strip():
        return {**empty, "message": "请先输入需要改写的草稿。"}
    try:
        res = service.rewrite_one(draft, backend=backend, channel=channel, n=service.MAX_ALTERNATIVES + 1)
    except RewriteError as e:
        return {**empty, "message": str(e)}
    info = f"引擎：{res['backend']} · 渠道：{channel_label} · 用时 {res['ms']:.0f} ms"
    if res["fallback"]:
        info += " · " + "；".join(res["notes"])
    after = res["findings_after"]
    if after:
        info += f" · 改写后仍有 {len(after)} 处需人工确认"
    return {
        "target": res["target"],
        "alternatives": res["alternatives"][: service.MAX_ALTERNATIVES],
        "breaches": findings_spans(res["source"], res["findings_before"]),
        "findings_md": findings_markdown(res["findings_before"], "草稿未发现不规范用语。"),
        "diff": diff_spans(res["edits"], res["source"], res["target"]),
        "info": info,
        "message": "",
    }


def alternatives_markdown(alts: list[str]) -> str:
    if not alts:
        return ""
    return "**其他写法：**\n\n" + "\n".join(f"{i}. {_esc(a)}" for i, a in enumerate(alts, 1))


# ---------------------------------------------------------------- 对比 (trainers)


def handle_compare(draft: str, channel_label: str, backends: list[str]) -> dict[str, dict[str, Any]]:
    """One draft through each selected backend: per backend target, diff, findings_md, info."""
    from rewrite.serve import service

    channel = CHANNEL_LABELS.get(channel_label, "phone")
    out: dict[str, dict[str, Any]] = {}
    for name in service.APP_BACKENDS:
        if name not in (backends or []):
            out[name] = {"target": "", "diff": [], "findings_md": "", "info": "未选择"}
            continue
        if not (draft or "").strip():
            out[name] = {"target": "", "diff": [], "findings_md": "", "info": "请先输入需要改写的草稿。"}
            continue
        try:
            res = service.rewrite_one(draft, backend=name, channel=channel)
        except RewriteError as e:
            out[name] = {"target": "", "diff": [], "findings_md": "", "info": f"不可用：{e}"}
            continue
        info = f"用时 {res['ms']:.0f} ms" + (" · 已回退到规则引擎" if res["fallback"] else "")
        out[name] = {
            "target": res["target"],
            "diff": diff_spans(res["edits"], res["source"], res["target"]),
            "findings_md": findings_markdown(res["findings_after"], "改写结果符合规范。"),
            "info": info,
        }
    return out


def handle_save_pair(draft: str, reference: str, channel_label: str, domain: str, scenario: str, picked: str) -> str:
    """Save the trainer's chosen (or edited) reply to the feedback store; returns a status line."""
    from rewrite.serve.feedback import append_pair

    from rewrite.text import MAX_DRAFT_CHARS

    if not (draft or "").strip() or not (reference or "").strip():
        return "⚠️ 草稿和最终回复都不能为空。"
    if len(draft) > MAX_DRAFT_CHARS or len(reference) > MAX_DRAFT_CHARS:
        return f"⚠️ 草稿和最终回复各不能超过 {MAX_DRAFT_CHARS} 字。"
    try:
        rec = append_pair(
            {
                "draft": draft.strip(),
                "reference": reference.strip(),
                "channel": CHANNEL_LABELS.get(channel_label, "phone"),
                "domain": domain or "telecom",
                "scenario": scenario or "refuse_alternative",
                "picked": picked or "",
            }
        )
    except (RewriteError, OSError) as e:
        return f"⚠️ 保存失败：{e}"
    return f"✅ 已保存（{rec.get('id', '')}），可在 `rewrite data build --include-feedback` 中使用。"


# ---------------------------------------------------------------- 评测 (evaluators)


def bench_choices() -> list[str]:
    """Benchmark files shipped with the repo, as paths relative to its root."""
    d = REPO_ROOT / "eval" / "bench"
    return sorted(str(p.relative_to(REPO_ROOT)) for p in d.glob("*.jsonl")) if d.is_dir() else []


def upload_folder() -> Path:
    """Where Gradio keeps the files uploaded through the app (``GRADIO_TEMP_DIR`` or the system
    temp folder's ``gradio``), read at call time."""
    try:
        from gradio.utils import get_upload_folder

        return Path(get_upload_folder())
    except ImportError:  # pragma: no cover - gradio is what serves the UI
        return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")


def allowed_bench_paths(benches: list[str], upload: str | None) -> tuple[list[str], str]:
    """The files an evaluation from the app may read, or ``([], why)``.

    Only the benches shipped with the project (by the names :func:`bench_choices` lists) and a
    ``.jsonl`` file really uploaded through the app (inside :func:`upload_folder`, symlinks
    resolved, at most ``MAX_UPLOAD_BYTES``). Any other path, relative, absolute or with ``..``, is
    refused: a client can send any string where the UI would send an upload.
    """
    from rewrite.serve.guard import MAX_UPLOAD_BYTES

    shipped = set(bench_choices())
    paths = []
    for b in benches or []:
        if not isinstance(b, str) or b not in shipped:
            return [], f"评测集 {str(b)[:80]!r} 不在可选列表中：只能选择随项目提供的评测集，或上传文件。"
        paths.append(str(REPO_ROOT / b))
    if upload:
        root = upload_folder().resolve()
        try:
            real = Path(str(upload)).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            real = None
        if real is None or not real.is_relative_to(root) or real == root or not real.is_file():
            return [], "只能评测通过本页面上传的文件，或随项目提供的评测集。"
        if real.suffix.lower() != ".jsonl":
            return [], "上传的评测集必须是 .jsonl 文件。"
        if real.stat().st_size > MAX_UPLOAD_BYTES:
            return [], f"上传的评测集过大，上限 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。"
        paths.append(str(real))
    return paths, ""


def handle_eval(benches: list[str], upload: str | None, systems: list[str], limit: float | None, progress=None) -> dict[str, Any]:
    """Run the harness for the evaluator tab. Never raises for bad input: returns ``message``.

    The run reads only :func:`allowed_bench_paths`, at most :data:`EVAL_MAX_ITEMS` items per bench,
    in a child process (so it can neither stall the server nor grow its memory) stopped after
    ``$REWRITE_EVAL_TIMEOUT`` seconds (default :data:`EVAL_TIMEOUT_S`); one runs at a time.

    Returns keys: message, summary (Markdown), headers + table (metrics rows), plots (PNG paths),
    examples (per-example rows, worst first), report (zip of the whole run directory).
    """
    import json
    import shutil

    from rewrite.evaluation.harness import system_names
    from rewrite.evaluation.report import _columns, table_rows

    paths, why = allowed_bench_paths(benches, upload)
    if why:
        return {"message": why}
    if not paths:
        return {"message": "请至少选择或上传一个评测集（JSONL）。"}
    if not systems:
        return {"message": "请至少选择一个系统。"}
    unknown = [str(s)[:40] for s in systems if s not in system_names()]
    if unknown:
        return {"message": f"未知系统：{'、'.join(unknown)}；可选：{'、'.join(system_names())}。"}
    try:
        lim = int(limit) if limit else None
    except (TypeError, ValueError, OverflowError):
        return {"message": "条数上限必须是正整数。"}
    if lim is not None and lim < 1:
        return {"message": "条数上限必须是正整数。"}
    lim = min(lim or EVAL_MAX_ITEMS, EVAL_MAX_ITEMS)
    out = results_dir() / f"app-{time.strftime('%Y%m%d-%H%M%S')}-{time.perf_counter_ns() % 10**6}"
    if not _EVAL_SLOT.acquire(blocking=False):
        return {"message": "已有一个评测正在运行，请等它结束后再试。"}
    try:
        failure = _run_eval_process(paths, list(systems), out, lim)
    finally:
        _EVAL_SLOT.release()
    if failure:
        return {"message": failure}
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    headers = ["评测集", "系统"] + [h for h, _ in _columns()]
    table = [[b["name"], name] + cells for b in report["benches"] for name, cells in table_rows(report, b["name"])]
    examples = []
    with open(out / "predictions.jsonl", encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            examples.append([p["bench"], p["id"], p["system"], p.get("chrf"), len(p.get("findings_after") or []), p["draft"], p["output"], p["reference"]])
    examples.sort(key=lambda r: (r[3] if r[3] is not None else -1.0, r[0], r[1], r[2]))
    skipped = [line for b in report["benches"] for line in b["skipped_lines"]]
    archive = shutil.make_archive(str(out), "zip", root_dir=out)
    summary = f"✅ 评测完成：{len(report['benches'])} 个评测集，{len(systems)} 个系统"
    if skipped:  # name the bad lines (file:line: why), so an uploaded file can be fixed
        summary += f"；跳过 {len(skipped)} 行格式错误的数据：" + "；".join(skipped[:5]) + ("……" if len(skipped) > 5 else "")
    unavailable = [f"{s['name']}（{s['reason']}）" for s in report["systems"] if not s["available"]]
    if unavailable:
        summary += "；不可用：" + "、".join(unavailable)
    return {
        "message": "",
        "summary": _esc(summary),
        "headers": headers,
        "table": table,
        "plots": [str(out / n) for n in ("metrics.png", "latency.png") if (out / n).exists()],
        "examples": examples,
        "example_headers": ["评测集", "编号", "系统", "chrF", "问题数", "草稿", "输出", "参考"],
        "report": archive,
    }


# ---------------------------------------------------------------- 评判 (blind judging)

#: Candidate slots on the judging screen (systems + the two hidden controls, duplicates merged).
MAX_JUDGE_CANDIDATES = 6
VERDICT_LABELS = {"可用": "ok", "不可用": "bad"}


def _judge_view(state: dict[str, Any]) -> dict[str, Any]:
    """What the judging screen shows for ``state``: progress, the draft, the candidate texts."""
    tasks, pos = state.get("tasks") or [], state.get("pos", 0)
    if pos >= len(tasks):
        return {"progress": f"✅ 全部完成：{len(tasks)} 条任务已评。" if tasks else "", "draft": "", "outputs": []}
    t = tasks[pos]
    return {"progress": f"第 {pos + 1} / {len(tasks)} 条（{_esc(t['bench'])}）", "draft": _esc(t["draft"]),
            "outputs": [c["output"] for c in t["candidates"]]}


def handle_judge_start(bench: str | None, systems: list[str], judge: str, limit: float | None) -> dict[str, Any]:
    """Build blind tasks for ``judge`` on a shipped bench: the systems' outputs plus the hidden
    controls, in random order, without the ones this judge already judged. Never raises for bad
    input: returns ``message``. ``state`` holds only what the judge may see plus the keys."""
    from rewrite.evaluation import judging
    from rewrite.evaluation.harness import load_bench, load_system, predict

    judge = (judge or "").strip()
    if not judging.JUDGE_ID_RE.match(judge):
        return {"message": "请填写评审人 id（字母、数字、._-，1-40 个字符）。", "state": {}}
    if bench not in bench_choices():
        return {"message": "请选择一个随项目提供的评测集。", "state": {}}
    if not systems:
        return {"message": "请至少选择一个系统。", "state": {}}
    if len(systems) > MAX_JUDGE_CANDIDATES - 2:
        return {"message": f"最多选择 {MAX_JUDGE_CANDIDATES - 2} 个系统。", "state": {}}
    lim = int(limit) if limit else None
    if lim is not None and lim < 1:
        return {"message": "条数上限必须是正整数。", "state": {}}
    try:
        b = load_bench(REPO_ROOT / bench, limit=lim)
        outputs = {}
        for name in systems:
            system = load_system(name)
            if not system.available:
                return {"message": f"系统 {name} 不可用：{system.reason}", "state": {}}
            outputs[name] = [p.output for p in predict(system, b, progress=False)]
    except RewriteError as e:
        return {"message": str(e), "state": {}}
    rows, _ = judging.load_judgments()
    mine = {r["key"] for r in rows if r["judge"] == judge}
    tasks = judging.build_tasks([it.as_dict() for it in b.items], outputs, bench=b.name, seed=int(time.time()), skip_keys=mine)
    state = {"judge": judge, "pos": 0, "tasks": [t.public() for t in tasks], "recorded": 0}
    msg = "" if tasks else "没有待评的输出：这些输出你都已评过。"
    return {"message": msg, "state": state, **_judge_view(state)}


def handle_judge_submit(state: dict[str, Any], verdicts: list[str | None], reasons: list[list[str]]) -> dict[str, Any]:
    """Record the judge's answers for the current task and move on. Every shown candidate needs a
    verdict; reasons are optional labels from :data:`rewrite.evaluation.judging.REASONS`."""
    from rewrite.evaluation import judging

    tasks, pos = (state or {}).get("tasks") or [], (state or {}).get("pos", 0)
    if pos >= len(tasks):
        return {"message": "没有进行中的评判，请先点“开始评判”。", "state": state or {}, **_judge_view(state or {})}
    t = tasks[pos]
    n = len(t["candidates"])
    if any(v not in VERDICT_LABELS for v in verdicts[:n]):
        return {"message": "请为每个候选选择“可用”或“不可用”。", "state": state, **_judge_view(state)}
    label_to_id = {v: k for k, v in judging.REASONS.items()}
    answers = {}
    for c, v, rs in zip(t["candidates"], verdicts, reasons):
        verdict = VERDICT_LABELS[v]
        answers[c["key"]] = (verdict, [label_to_id[r] for r in (rs or []) if r in label_to_id] if verdict == "bad" else [])
    task = judging.Task(t["bench"], t["item"], t["draft"], [judging.Candidate(c["key"], c["output"]) for c in t["candidates"]])
    try:
        written = judging.record(state["judge"], task, answers)
    except (ValueError, OSError) as e:
        return {"message": f"保存失败：{e}", "state": state, **_judge_view(state)}
    new = dict(state, pos=pos + 1, recorded=state.get("recorded", 0) + written)
    return {"message": f"已记录 {new['recorded']} 条评判。", "state": new, **_judge_view(new)}

def _run_eval_process(paths: list[str], systems: list[str], out: Path, limit: int) -> str:
    """Run ``rewrite eval`` in a child process; '' when it wrote its report, else why not."""
    timeout = float(os.environ.get(EVAL_TIMEOUT_ENV) or EVAL_TIMEOUT_S)
    argv = [sys.executable, "-c", "import sys; from rewrite.evaluation.harness import main; sys.exit(main())"]
    for path in paths:
        argv += ["--bench", path]
    for name in systems:
        argv += ["--system", name]
    argv += ["--out", str(out), "--limit", str(limit)]
    package_root = str(Path(__file__).resolve().parents[2])  # the child imports this very package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _RUNNING.add(proc)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return f"评测超过 {timeout:.0f} 秒，已停止：请减少条数或系统后重试。"
    finally:
        _RUNNING.discard(proc)
    if proc.returncode in (0, 1) and (out / "report.json").is_file():
        return ""
    lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.startswith("错误：")]
    if lines:
        return lines[-1].removeprefix("错误：")
    return f"评测未能完成（退出码 {proc.returncode}），请检查评测集格式后重试。"


def stop_evaluations() -> None:
    """Kill the evaluation processes still running (the server is stopping)."""
    for proc in list(_RUNNING):
        proc.kill()


# ---------------------------------------------------------------- layout


def build_demo(default_backend: str = "seq2seq"):
    """The Blocks app. Call ``.launch()`` or mount it (``rewrite.serve.api.create_app``)."""
    import gradio as gr

    from rewrite.serve import service

    if default_backend not in service.APP_BACKENDS:
        from rewrite.errors import UnknownBackendError

        raise UnknownBackendError(f"界面不提供引擎 {default_backend!r}，可选：{', '.join(service.APP_BACKENDS)}。")

    backend_choices = [(BACKEND_LABELS[b], b) for b in service.APP_BACKENDS]
    with gr.Blocks(title="rewrite · 客服回复规范改写") as demo:
        gr.Markdown("## rewrite · 客服回复规范改写\n把随手写的草稿改成符合服务规范的专业回复，保留所有事实，并说明改了什么、为什么。")
        with gr.Tab("改写", id="tab-rewrite"):
            with gr.Row():
                with gr.Column(scale=1):
                    draft = gr.Textbox(label="草稿", lines=5, placeholder="例如：这个我不知道，你去营业厅问吧（Ctrl+Enter 改写）", elem_id="draft", elem_classes=["rw-draft"])
                    with gr.Row():
                        channel = gr.Radio(list(CHANNEL_LABELS), value="电话", label="渠道")
                        backend = gr.Dropdown(backend_choices, value=default_backend, label="引擎")
                    btn = gr.Button("改写", variant="primary", elem_id="rewrite-btn")
                    message = gr.Markdown(elem_id="rewrite-message")
                with gr.Column(scale=1):
                    target = gr.Textbox(label="专业回复", lines=5, buttons=["copy"], elem_id="target", interactive=True)
                    alts = gr.Markdown(elem_id="alternatives")
                    info = gr.Markdown(elem_id="rewrite-info", elem_classes=["rw-note"])
            with gr.Row():
                breaches = gr.HighlightedText(label="草稿中的不规范之处", elem_id="breaches", show_legend=True)
                diff = gr.HighlightedText(label="改写前后对比", color_map=DIFF_COLORS, elem_id="diff", show_legend=True)
            findings_md = gr.Markdown(elem_id="findings")

            def on_rewrite(d, c, b):
                r = handle_rewrite(d, c, b)
                msg = f"⚠️ {_esc(r['message'])}" if r["message"] else ""
                return r["target"], alternatives_markdown(r["alternatives"]), r["info"], r["breaches"], r["diff"], r["findings_md"], msg

            outs = [target, alts, info, breaches, diff, findings_md, message]
            btn.click(on_rewrite, [draft, channel, backend], outs, api_name="rewrite")

        with gr.Tab("对比", id="tab-compare"):
            with gr.Row():
                c_draft = gr.Textbox(label="草稿", lines=4, elem_id="compare-draft", elem_classes=["rw-draft"], scale=3)
                with gr.Column(scale=1):
                    c_channel = gr.Radio(list(CHANNEL_LABELS), value="电话", label="渠道")
                    c_backends = gr.CheckboxGroup(backend_choices, value=list(dict.fromkeys([default_backend, "rules"])), label="引擎")
                    c_btn = gr.Button("对比", variant="primary", elem_id="compare-btn")
            cols = {}
            with gr.Row():
                for name in service.APP_BACKENDS:
                    with gr.Column():
                        gr.Markdown(f"**{BACKEND_LABELS[name]}**")
                        cols[name] = (
                            gr.Textbox(label="改写结果", lines=4, buttons=["copy"], elem_id=f"compare-{name}"),
                            gr.HighlightedText(label="对比", color_map=DIFF_COLORS),
                            gr.Markdown(),
                            gr.Markdown(elem_classes=["rw-note"]),
                        )
            gr.Markdown("#### 保存更好的改写对（进入训练语料的反馈库）")
            with gr.Row():
                picked = gr.Radio(backend_choices, label="选择最佳结果", elem_id="picked")
                domain = gr.Dropdown(_domains(), value="telecom", label="领域")
                scenario = gr.Dropdown(_scenarios(), value="refuse_alternative", label="场景")
            final = gr.Textbox(label="最终回复（可编辑）", lines=3, elem_id="final-reply")
            save_btn = gr.Button("保存改写对", elem_id="save-btn")
            save_status = gr.Markdown(elem_id="save-status")

            def on_compare(d, c, bs):
                res = handle_compare(d, c, bs)
                flat = []
                for name in service.APP_BACKENDS:
                    r = res[name]
                    flat += [r["target"], r["diff"], r["findings_md"], r["info"]]
                return flat

            c_outs = [comp for name in service.APP_BACKENDS for comp in cols[name]]
            c_btn.click(on_compare, [c_draft, c_channel, c_backends], c_outs, api_name="compare")
            picked.change(lambda p, *texts: texts[list(service.APP_BACKENDS).index(p)] if p else "", [picked] + [cols[n][0] for n in service.APP_BACKENDS], final)
            save_btn.click(handle_save_pair, [c_draft, final, c_channel, domain, scenario, picked], save_status, api_name=False)

        with gr.Tab("评测", id="tab-eval"):
            with gr.Row():
                e_benches = gr.CheckboxGroup(bench_choices(), value=bench_choices()[:1], label="评测集")
                e_upload = gr.File(label="或上传评测集（JSONL）", file_types=[".jsonl"], type="filepath")
            with gr.Row():
                e_systems = gr.CheckboxGroup(["seq2seq", "edit", "rules", "identity", "reference", "llm"], value=list(dict.fromkeys([default_backend, "rules", "identity"])), label="系统")
                e_limit = gr.Number(value=None, label="每个评测集最多条数（留空为全部）", precision=0)
                e_btn = gr.Button("开始评测", variant="primary", elem_id="eval-btn")
            e_message = gr.Markdown(elem_id="eval-message")
            e_table = gr.Dataframe(label="指标", elem_id="eval-table", interactive=False, wrap=True)
            e_plots = gr.Gallery(label="图表", columns=2, height=320)
            e_examples = gr.Dataframe(label="逐条结果（最差在前）", interactive=False, wrap=True, max_height=420)
            e_report = gr.File(label="下载报告")

            def on_eval(bs, up, ss, lim, progress=gr.Progress()):
                r = handle_eval(bs, up, ss, lim)
                if r.get("message"):
                    return f"⚠️ {_esc(r['message'])}", None, None, None, None
                import pandas as pd

                return (
                    r["summary"],
                    pd.DataFrame(r["table"], columns=r["headers"]),
                    r["plots"],
                    pd.DataFrame(r["examples"], columns=r["example_headers"]),
                    r["report"],
                )

            e_btn.click(on_eval, [e_benches, e_upload, e_systems, e_limit], [e_message, e_table, e_plots, e_examples, e_report], api_name=False)

            with gr.Accordion("评判（盲评）：逐条判断输出是否可用，系统名隐藏，参考答案与原稿作为对照混入", open=False, elem_id="judge-panel"):
                from rewrite.evaluation.judging import REASONS

                with gr.Row():
                    j_bench = gr.Dropdown(bench_choices(), value=(bench_choices() or [None])[0], label="评测集", elem_id="judge-bench")
                    j_systems = gr.CheckboxGroup(["seq2seq", "edit", "rules", "llm"], value=list(dict.fromkeys([default_backend, "rules"])), label="系统", elem_id="judge-systems")
                    j_judge = gr.Textbox(label="评审人 id", elem_id="judge-id")
                    j_limit = gr.Number(value=None, label="最多条数（留空为全部）", precision=0, elem_id="judge-limit")
                j_start = gr.Button("开始评判", elem_id="judge-start")
                j_state = gr.State({})
                j_progress = gr.Markdown(elem_id="judge-progress")
                j_draft = gr.Markdown(elem_id="judge-draft")
                slots = []
                for i in range(MAX_JUDGE_CANDIDATES):
                    with gr.Row(visible=False) as row:
                        text = gr.Markdown(elem_id=f"judge-cand-{i}")
                        verdict = gr.Radio(list(VERDICT_LABELS), label=f"候选 {i + 1}", elem_id=f"judge-verdict-{i}")
                        why = gr.CheckboxGroup(list(REASONS.values()), label="不可用的理由", elem_id=f"judge-why-{i}")
                    slots.append((row, text, verdict, why))
                j_submit = gr.Button("提交并下一条", variant="primary", elem_id="judge-submit")
                j_message = gr.Markdown(elem_id="judge-message")

                def _render(r):
                    outs = r.get("outputs") or []
                    msg = f"⚠️ {_esc(r['message'])}" if r.get("message") and not r.get("recorded_ok") else _esc(r.get("message", ""))
                    flat = [r.get("state", {}), r.get("progress", ""), f"**草稿：** {r['draft']}" if r.get("draft") else "", msg]
                    for i in range(MAX_JUDGE_CANDIDATES):
                        shown = i < len(outs)
                        flat += [gr.update(visible=shown), _esc(outs[i]) if shown else "", None, []]
                    return flat

                j_outs = [j_state, j_progress, j_draft, j_message] + [comp for slot in slots for comp in slot]

                def on_judge_start(b, ss, who, lim):
                    return _render(handle_judge_start(b, ss, who, lim))

                def on_judge_submit(st, *answers):
                    vs, ws = list(answers[0::2]), list(answers[1::2])
                    r = handle_judge_submit(st, vs, ws)
                    r["recorded_ok"] = r.get("message", "").startswith("已记录")
                    if not r["recorded_ok"]:  # keep the judge's marks on screen when nothing was saved
                        flat = _render(r)
                        for i in range(MAX_JUDGE_CANDIDATES):
                            flat[4 + 4 * i + 2] = gr.update()
                            flat[4 + 4 * i + 3] = gr.update()
                        return flat
                    return _render(r)

                j_start.click(on_judge_start, [j_bench, j_systems, j_judge, j_limit], j_outs, api_name=False)
                j_submit.click(on_judge_submit, [j_state] + [c for slot in slots for c in slot[2:]], j_outs, api_name=False)
    return demo


def _domains() -> list[str]:
    from rewrite.data.spec import DOMAINS

    return list(DOMAINS)


def _scenarios() -> list[str]:
    from rewrite.data.spec import TRAIN_SCENARIOS, HELDOUT_SCENARIOS

    return list(TRAIN_SCENARIOS + HELDOUT_SCENARIOS)
