"""Writing an eval run to disk: ``report.json``, ``report.md``, ``report.html``,
``predictions.jsonl`` and PNG plots (``metrics.png``, ``latency.png``).

``report.html`` is one self-contained page (inline CSS and script, no network): the metrics table
with signatures, the plots (PNG files next to it, linked), and per example the draft, the reference
and each system's output with insertions and deletions against the draft highlighted, findings
listed, worst first. Every text is escaped: a draft holding ``<script>`` shows as text.
"""
from __future__ import annotations

import difflib
import html
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from rewrite.evaluation.records import Bench, Prediction


# ----------------------------------------------------------------------------- formatting


def _f(x: float | None, nd: int = 1) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


#: (header, how to render a result row) in table order.
def _columns() -> list[tuple[str, Any]]:
    def m(row: dict[str, Any], key: str) -> Any:
        return (row.get("metrics") or {}).get(key)

    def sp(row: dict[str, Any], key: str) -> Any:
        return (row.get("speed") or {}).get(key)

    def ci(row: dict[str, Any]) -> str:
        c = m(row, "chrf_ci")
        return f"{_f(m(row, 'chrf'))} [{_f(c[0])}, {_f(c[1])}]" if c else _f(m(row, "chrf"))

    def share(row: dict[str, Any], key: str, extra: str = "") -> str:
        v = m(row, key)
        if not v:
            return "-"
        c = v.get("ci")
        cell = f"{_pct(v.get('value'))} [{_pct(c[0])}, {_pct(c[1])}] (n={v.get('n')})" if c else f"- (n={v.get('n')})"
        if extra and v.get(extra):
            cell += f"，未评 {v[extra]}"
        return cell

    return [
        ("评判可用 [95% CI]", lambda r: share(r, "judged_acceptable", "unjudged")),
        ("改坏率 [95% CI]", lambda r: share(r, "made_worse", "unjudged")),
        ("冒犯残留 [95% CI]", lambda r: share(r, "offence_survival")),
        ("专有符号完好", lambda r: share(r, "token_integrity")),
        ("改动率", lambda r: share(r, "changed")),
        ("规则检查合规率 前→后 [95% CI]", lambda r: f"{_pct(m(r, 'compliance_before'))} → {share(r, 'checker_compliance')}"),
        ("chrF [95% CI]", ci),
        ("BLEU", lambda r: _f(m(r, "bleu"))),
        ("问题/百字 前→后", lambda r: f"{_f(m(r, 'findings_per_100_before'), 2)} → {_f(m(r, 'findings_per_100_after'), 2)}"),
        ("keep 保留", lambda r: f"{_pct(m(r, 'keep_share'))} ({m(r, 'keep_preserved')}/{m(r, 'keep_total')})"),
        ("事实保留", lambda r: f"{_pct(m(r, 'facts_share'))} ({m(r, 'facts_preserved')}/{m(r, 'facts_total')})"),
        ("免改未动 (n)", lambda r: f"{_pct(m(r, 'unchanged_share'))} ({m(r, 'over_editing_n')})"),
        ("免改编辑距离", lambda r: _f(m(r, "mean_edit_distance"), 2)),
        ("长度比 稿/参", lambda r: f"{_f(m(r, 'length_ratio_draft'), 2)} / {_f(m(r, 'length_ratio_reference'), 2)}"),
        ("回退率", lambda r: _pct(m(r, "fallback_rate"))),
        ("出错", lambda r: str(m(r, "errors"))),
        ("ms p50 / p95", lambda r: f"{_f(sp(r, 'ms_p50'))} / {_f(sp(r, 'ms_p95'))}" if r.get("speed") else "-"),
        ("条/秒 @32", lambda r: _f(sp(r, "drafts_per_s")) if r.get("speed") else "-"),
    ]


def table_rows(report: dict[str, Any], bench: str) -> list[tuple[str, list[str]]]:
    """``(system, cells)`` for every result of ``bench``; unavailable systems say why."""
    cols = _columns()
    rows = []
    for r in report["results"]:
        if r["bench"] != bench:
            continue
        if not r.get("metrics"):
            rows.append((r["system"], ["不可用：" + (r.get("reason") or "")] + [""] * (len(cols) - 1)))
        else:
            rows.append((r["system"], [fn(r) for _, fn in cols]))
    return rows


def engine_lines(report: dict[str, Any], bench: str) -> list[str]:
    """One line per system that attached its engine comparison (seq2seq: ct2 int8 vs generate)."""
    lines = []
    for r in report["results"]:
        cmp = (r.get("speed") or {}).get("engine_comparison")
        if r["bench"] != bench or not isinstance(cmp, dict):
            continue
        parts = []
        for eng, v in cmp.items():
            if not isinstance(v, dict):
                continue
            if "error" in v:
                parts.append(f"{eng}：不可用（{v['error']}）")
            else:
                parts.append(f"{eng}：p50 {_f(v.get('median_ms'))} ms，p95 {_f(v.get('p95_ms'))} ms，"
                             f"生成 p50 {_f(v.get('generate_median_ms'))} ms，{_f(v.get('drafts_per_s'))} 条/秒 @32")
        if "speedup_median" in cmp:
            parts.append(f"生成提速 {cmp['speedup_median']}×")
        lines.append(f"{r['system']} 引擎对比 — " + "；".join(parts))
    return lines


def markdown_table(report: dict[str, Any]) -> str:
    """The metrics as Markdown: one table per bench, then the signature of every row."""
    heads = [h for h, _ in _columns()]
    out: list[str] = []
    for b in report["benches"]:
        out.append(f"### {b['name']} （{b['items']} 条，bench {b['hash']}，跳过 {b['skipped']} 行）\n")
        out.append("| 系统 | " + " | ".join(heads) + " |")
        out.append("|---" * (len(heads) + 1) + "|")
        for name, cells in table_rows(report, b["name"]):
            out.append(f"| {name} | " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
        eng = engine_lines(report, b["name"])
        out += [f"- {line}" for line in eng] + ([""] if eng else [])
        out.append("评判可用 = 盲评判为可用的输出占已评输出的比例；改坏率 = 原稿本无须改（must_fix 为空）时，输出被改动且判为不可用的比例；"
                   "冒犯残留 = 有 must_fix 的条目中任一片段（你/您归一、去标点空格后）仍留在输出里的比例；"
                   "规则检查合规率只是关键词检查，不代表质量。")
        out.append("")
        out.append("签名：")
        for r in report["results"]:
            if r["bench"] == b["name"]:
                out.append(f"- `{r['signature_str']}`")
        out.append("")
    out += calibration_lines(report)
    return "\n".join(out)


def calibration_lines(report: dict[str, Any]) -> list[str]:
    """The judges' calibration on the hidden controls, one line per judge (flagged ones say why)."""
    j = report.get("judgments") or {}
    cal = j.get("calibration") or {}
    if not j:
        return []
    lines = [f"评判：{j.get('lines', 0)} 行，覆盖 {j.get('outputs_judged', 0)} 个不同输出（{j.get('store')}）。"]
    for judge, c in sorted(cal.items()):
        flag = f" **已标记：{c['why']}**" if c.get("flagged") else ""
        lines.append(f"- 评审人 {judge}：参考答案接受率 {_pct(c.get('reference_accept'))}（{c.get('reference_n')}），"
                     f"含必改片段原稿接受率 {_pct(c.get('draft_accept'))}（{c.get('draft_n')}）{flag}")
    return lines + [""]


def markdown_report(report: dict[str, Any]) -> str:
    """``report.md``: what was run, the tables, skipped lines."""
    lines = [
        f"# 评测报告 {report['run_id']}",
        "",
        f"- 时间：{report['created']}",
        f"- 命令：`{report['command'] or '-'}`",
        f"- 版本 {report['version']}，sacrebleu {report['sacrebleu']}，规范 {report['norms']}，种子 {report['config']['seed']}",
    ]
    for s in report["systems"]:
        if not s["available"]:
            lines.append(f"- 系统 {s['name']} 不可用：{s['reason']}")
    lines += ["", markdown_table(report)]
    for b in report["benches"]:
        if b["skipped_lines"]:
            lines += [f"## {b['name']} 跳过的行（{b['skipped']}）", ""] + [f"- {s}" for s in b["skipped_lines"]] + [""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- html


def diff_html(before: str, after: str) -> str:
    """``after`` with what changed from ``before`` marked: ``<del>`` removed, ``<ins>`` added.
    All text is escaped."""
    sm = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            parts.append(html.escape(after[j1:j2]))
            continue
        if i2 > i1:
            parts.append(f"<del>{html.escape(before[i1:i2])}</del>")
        if j2 > j1:
            parts.append(f"<ins>{html.escape(after[j1:j2])}</ins>")
    return "".join(parts)


def _findings_html(fs: Sequence[dict[str, Any]]) -> str:
    if not fs:
        return ""
    items = "".join(
        f"<li class='sev-{html.escape(f['severity'])}'><strong>{html.escape(f['rule_id'])}</strong> "
        f"「{html.escape(f['text'])}」{html.escape(f['explanation'])}</li>"
        for f in fs
    )
    return f"<ul class='fs'>{items}</ul>"


_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top}
th{background:#f3f3f3;position:sticky;top:0}th.sort{cursor:pointer;text-decoration:underline dotted}
td.txt{min-width:14em;max-width:28em;white-space:pre-wrap}
del{background:#fdd;color:#900}ins{background:#dfd;color:#060;text-decoration:none}
ul.fs{margin:.3em 0 0;padding-left:1.1em;font-size:.85em;color:#555}
.sev-high{color:#b00}.sev-medium{color:#a60}.sig{font-family:monospace;font-size:.8em;word-break:break-all}
.score{font-size:.8em;color:#666}.err{color:#b00}img{max-width:100%;border:1px solid #ddd}
"""

_JS = """
function sortBy(key, asc){
  const tb=document.querySelector('#examples tbody');
  const rows=[...tb.rows];
  rows.sort((a,b)=>{
    let x=a.dataset[key], y=b.dataset[key];
    const nx=parseFloat(x), ny=parseFloat(y);
    if(!isNaN(nx)&&!isNaN(ny)){x=nx;y=ny;}
    return (x<y?-1:x>y?1:0)*(asc?1:-1);
  });
  rows.forEach(r=>tb.appendChild(r));
}
document.addEventListener('DOMContentLoaded',()=>{
  const sel=document.getElementById('sortkey'), dir=document.getElementById('sortdir');
  const go=()=>sortBy(sel.value, dir.value==='asc');
  sel.addEventListener('change',go); dir.addEventListener('change',go);
  document.querySelectorAll('th.sort').forEach(th=>th.addEventListener('click',()=>{
    dir.value=(sel.value===th.dataset.key&&dir.value==='asc')?'desc':'asc'; sel.value=th.dataset.key; go();}));
});
"""


def _key(system: str) -> str:
    """A data-* attribute name for a system (lowercase letters and digits only)."""
    return "c" + "".join(ch for ch in system.lower() if ch.isalnum())


def html_report(
    report: dict[str, Any],
    preds: Sequence["Prediction"],
    benches: Sequence["Bench"],
    draft_checks: dict[str, list[list[dict[str, Any]]]],
    plots: Sequence[str] = (),
) -> str:
    """The trainer's page as one HTML string (see the module docstring)."""
    e = html.escape
    systems = [s["name"] for s in report["systems"] if s["available"]]
    primary = report.get("primary") or (systems[0] if systems else None)
    by = {(p.bench, p.id, p.system): p for p in preds}
    heads = [h for h, _ in _columns()]

    out = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>评测报告 {e(report['run_id'])}</title><style>{_CSS}</style><script>{_JS}</script></head><body>",
        f"<h1>评测报告 {e(report['run_id'])}</h1>",
        f"<p>时间 {e(report['created'])} · 命令 <code>{e(report['command'] or '-')}</code> · 版本 {e(report['version'])}"
        f" · sacrebleu {e(report['sacrebleu'])} · 规范 {e(report['norms'])} · 种子 {report['config']['seed']}</p>",
    ]
    for s in report["systems"]:
        if not s["available"]:
            out.append(f"<p class='err'>系统 {e(s['name'])} 不可用：{e(s['reason'])}</p>")
    for b in report["benches"]:
        out.append(f"<h2>{e(b['name'])}（{b['items']} 条，跳过 {b['skipped']} 行）</h2>")
        out.append("<table><thead><tr><th>系统</th>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr></thead><tbody>")
        for name, cells in table_rows(report, b["name"]):
            out.append(f"<tr><td>{e(name)}</td>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        out.append("</tbody></table>")
        out += [f"<p>{e(line)}</p>" for line in engine_lines(report, b["name"])]
        out.append("<p>签名：</p><ul>")
        out += [f"<li class='sig'>{e(r['signature_str'])}</li>" for r in report["results"] if r["bench"] == b["name"]]
        out.append("</ul>")
        if b["skipped_lines"]:
            out.append("<details><summary>跳过的行</summary><ul>" + "".join(f"<li>{e(s)}</li>" for s in b["skipped_lines"]) + "</ul></details>")
    for p in plots:
        out.append(f"<p><a href='{e(p)}'><img src='{e(p)}' alt='{e(p)}'></a></p>")

    # Examples, worst first by the primary system's sentence chrF.
    rows = []
    for b in benches:
        for i, it in enumerate(b.items):
            rows.append((b, i, it))
    def worst(row: tuple[Any, int, Any]) -> tuple[float, str, str]:
        b, _, it = row
        p = by.get((b.name, it.id, primary)) if primary else None
        return ((p.chrf if p and p.chrf is not None else 0.0), b.name, it.id)
    rows.sort(key=worst)

    opts = "".join(f"<option value='{_key(s)}'{' selected' if s == primary else ''}>chrF：{e(s)}</option>" for s in systems)
    out.append("<h2>逐条对比</h2><p>排序 <select id='sortkey'>" + opts
               + "<option value='id'>编号</option></select> <select id='sortdir'><option value='asc' selected>从差到好（升序）</option>"
               + "<option value='desc'>降序</option></select> · <del>删除</del> <ins>新增</ins> 均相对草稿</p>")
    out.append("<table id='examples'><thead><tr><th class='sort' data-key='id'>评测集 / 编号</th><th>草稿</th><th>参考</th>"
               + "".join(f"<th class='sort' data-key='{_key(s)}'>{e(s)}</th>" for s in systems) + "</tr></thead><tbody>")
    for b, i, it in rows:
        attrs = [f"data-id='{e(b.name + '/' + it.id)}'"]
        cells = []
        for s in systems:
            p = by.get((b.name, it.id, s))
            if p is None:
                cells.append("<td class='txt'>-</td>")
                continue
            attrs.append(f"data-{_key(s)}='{p.chrf if p.chrf is not None else 0}'")
            body = f"<span class='err'>出错：{e(p.error)}</span>" if p.error else diff_html(it.draft, p.output)
            meta = f"chrF {_f(p.chrf)}" + (" · 回退" if p.fallback else "") + (f" · {p.ms:.1f} ms" if p.ms is not None else "")
            cells.append(f"<td class='txt'>{body}<div class='score'>{e(meta)}</div>{_findings_html(p.findings_after)}</td>")
        out.append(
            f"<tr {' '.join(attrs)}><td>{e(b.name)}<br>{e(it.id)}</td>"
            f"<td class='txt'>{e(it.draft)}{_findings_html(draft_checks[b.name][i] if b.name in draft_checks else [])}</td>"
            f"<td class='txt'>{diff_html(it.draft, it.reference)}</td>" + "".join(cells) + "</tr>"
        )
    out.append("</tbody></table></body></html>")
    return "\n".join(out)


# ----------------------------------------------------------------------------- plots


def write_plots(report: dict[str, Any], preds: Sequence["Prediction"], out: Path) -> list[str]:
    """``metrics.png`` (bars per system, chrF with its bootstrap interval) and ``latency.png``
    (batch-1 ms per draft per system). Returns the file names written; none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    metrics = [("chrf", "chrF", 1.0), ("bleu", "BLEU", 1.0), ("compliance_after", "compliant %", 100.0),
               ("facts_share", "facts kept %", 100.0), ("keep_share", "keep kept %", 100.0)]
    benches = [b["name"] for b in report["benches"]]
    if benches:
        fig, axes = plt.subplots(len(benches), len(metrics), figsize=(3.2 * len(metrics), 2.8 * len(benches)), squeeze=False)
        for bi, bench in enumerate(benches):
            rows = [r for r in report["results"] if r["bench"] == bench and r.get("metrics")]
            names = [r["system"] for r in rows]
            for mi, (key, label, scale) in enumerate(metrics):
                ax = axes[bi][mi]
                vals = [(r["metrics"].get(key) or 0.0) * scale for r in rows]
                err = None
                if key == "chrf":
                    lo = [v - (r["metrics"]["chrf_ci"] or [v, v])[0] for v, r in zip(vals, rows)]
                    hi = [(r["metrics"]["chrf_ci"] or [v, v])[1] - v for v, r in zip(vals, rows)]
                    err = [[max(0.0, x) for x in lo], [max(0.0, x) for x in hi]]
                bars = ax.bar(range(len(names)), vals, yerr=err, capsize=4, color="#4c78a8")
                ax.bar_label(bars, fmt="%.1f", fontsize=7, label_type="center", color="white")
                ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
                ax.set_ylim(0, 105)
                ax.set_title(f"{label} · {bench}" if len(benches) > 1 else label, fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "metrics.png", dpi=90)
        plt.close(fig)
        written.append("metrics.png")
    timed: dict[str, list[float]] = {}
    for p in preds:
        if p.ms is not None and p.error is None:
            timed.setdefault(p.system, []).append(p.ms)
    if timed:
        fig, ax = plt.subplots(figsize=(1.6 * len(timed) + 3, 3.2))
        ax.boxplot(list(timed.values()), showfliers=True)
        ax.set_xticks(range(1, len(timed) + 1), list(timed), fontsize=8)
        ax.set_ylabel("ms per draft (batch 1)")
        ax.set_yscale("log")
        ax.set_title("latency", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=90)
        plt.close(fig)
        written.append("latency.png")
    return written


# ----------------------------------------------------------------------------- all files


def write_report(
    report: dict[str, Any],
    preds: Sequence["Prediction"],
    benches: Sequence["Bench"],
    draft_checks: dict[str, list[list[dict[str, Any]]]],
    out: Path,
) -> None:
    """Write every report file of one run into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(report, preds, out)
    report["plots"] = plots
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown_report(report) + "\n", encoding="utf-8")
    (out / "report.html").write_text(html_report(report, preds, benches, draft_checks, plots), encoding="utf-8")
    with open(out / "predictions.jsonl", "w", encoding="utf-8") as f:
        for p in preds:
            d = asdict(p)
            d["ms"] = None if p.ms is None else round(p.ms, 3)
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
