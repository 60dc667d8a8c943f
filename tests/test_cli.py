"""The CLI: ``rewrite "草稿"``, ``rewrite check``, ``rewrite batch`` through ``rewrite.cli.main`` and
through a real ``python -m rewrite.cli`` process; bad input gets a clear message and exit code 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO
from rewrite.cli import main


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rewrite.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env={**os.environ, **(env or {})},
        input=stdin,
        timeout=120,
    )


def test_rewrite_prints_target_changes_and_findings(capsys):
    assert main(["这个我不知道，你去营业厅问吧", "--backend", "rules"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "您" in first and "你" not in first and "营业厅" in first
    assert "改动" in out and "不知道" in out and "禁用语" in out and "引擎：rules" in out


def test_rewrite_json(capsys):
    assert main(["喂 说吧什么事", "--backend", "rules", "--channel", "chat", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["backend"] == "rules" and d["channel"] == "chat"
    assert d["findings_before"] and not d["findings_after"]
    assert d["target"].startswith("您好")


def test_check_command(capsys):
    assert main(["check", "喂，你听不见吗？"]) == 0
    out = capsys.readouterr().out
    assert "得分" in out and "喂" in out and "建议" in out and "质问语气" in out
    assert main(["check", "您好，请问有什么可以帮您？", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["score"] == 100 and d["findings"] == []


@pytest.mark.parametrize(
    "draft, words",
    [
        ("", "为空"),
        ("   \t  ", "为空"),
        ("字" * 10000, "过长"),
        ("😀😀👍", "没有中文"),
        ("Hello, your order has shipped.", "没有中文"),
        ("\x00\x01\x02\u200b", "控制字符"),
    ],
)
def test_bad_drafts_get_a_clear_message(capsys, draft, words):
    assert main([draft, "--backend", "rules"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_html_in_a_draft_is_carried_through_as_text(capsys):
    assert main(["<b>你好</b> 你等一下", "--backend", "rules"]) == 0
    out = capsys.readouterr().out.splitlines()[0]
    assert "<b>" in out and "</b>" in out and "你" not in out.replace("<b>", "").replace("</b>", "")


def test_bad_input_in_a_real_process():
    p = run_cli("Hello there", "--backend", "rules")
    assert p.returncode == 2 and "没有中文" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("check", "")
    assert p.returncode == 2 and "为空" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("你好", "--backend", "nosuch")
    assert p.returncode == 2 and "rules" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("你好", "--backend", "rules", "-n", "9")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_real_process_rewrite_and_stdin():
    p = run_cli("我不知道，你自己去营业厅问吧", "--backend", "rules")
    assert p.returncode == 0, p.stderr
    assert "您" in p.stdout.splitlines()[0]
    p = run_cli("-", "--backend", "rules", stdin="好的啊")
    assert p.returncode == 0 and p.stdout.splitlines()[0] == "好的。"


def test_usage_errors(capsys):
    assert main(["--backend", "rules"]) == 2
    assert "draft" in capsys.readouterr().err
    assert main(["check"]) == 2
    assert main(["batch", "x.jsonl"]) == 2  # -o missing
    assert main(["check", "--help"]) == 0


def test_malformed_norms_get_a_clear_message(tmp_path, prompts_copy):
    (prompts_copy / "forbidden.yaml").write_text("rules: [\n  - id: x\n", encoding="utf-8")
    p = run_cli("check", "你好", env={"REWRITE_PROMPTS_DIR": str(prompts_copy)})
    assert p.returncode == 2 and "forbidden.yaml" in p.stderr and "YAML" in p.stderr and "Traceback" not in p.stderr
    (prompts_copy / "forbidden.yaml").write_text("rules:\n  - id: x\n    category: 禁用语\n", encoding="utf-8")
    p = run_cli("check", "你好", env={"REWRITE_PROMPTS_DIR": str(prompts_copy)})
    assert p.returncode == 2 and "forbidden.yaml" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("check", "你好", env={"REWRITE_PROMPTS_DIR": str(tmp_path / "nowhere")})
    assert p.returncode == 2 and "REWRITE_PROMPTS_DIR" in p.stderr


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_batch_good_and_broken_lines(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    good = [
        {"id": "a", "draft": "这个我不知道，你去营业厅问吧", "reference": "…", "domain": "telecom"},
        {"id": "b", "draft": "亲 订单20240517886明天发 运费12元", "keep": ["20240517886"], "channel": "chat"},
        {"id": "c", "draft": "您好，请问有什么可以帮您？"},
    ]
    lines = [
        json.dumps(good[0], ensure_ascii=False),
        "{broken json",
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "x", "reference": "no draft"}, ensure_ascii=False),
        json.dumps({"id": "y", "draft": "   "}, ensure_ascii=False),
        json.dumps(good[1], ensure_ascii=False),
        json.dumps({"id": "z", "draft": "字" * 6000}, ensure_ascii=False),
        "",
        json.dumps(good[2], ensure_ascii=False),
        json.dumps({"id": "w", "draft": "Hello"}, ensure_ascii=False),
    ]
    _write_lines(src, lines)
    assert main(["batch", str(src), "-o", str(out), "--backend", "rules"]) == 1
    err = capsys.readouterr().err
    for no in (2, 3, 4, 5, 7, 10):
        assert f"第 {no} 行" in err
    assert "第 1 行" not in err and "Traceback" not in err
    every = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(every) == len(lines)  # one output line per input line (issue 15/16)
    assert [no for no, r in enumerate(every, 1) if "error" in r] == [2, 3, 4, 5, 7, 10]
    rows = [r for r in every if "rewrite" in r]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    for r, g in zip(rows, good):
        assert {k: r[k] for k in g} == g  # every input field passed through
        assert r["backend"] == "rules" and r["fallback"] is False
        assert isinstance(r["findings_after"], list) and isinstance(r["findings_before"], list)
    assert rows[0]["findings_before"] and not rows[0]["findings_after"]
    assert "20240517886" in rows[1]["rewrite"] and rows[1]["rewrite"].startswith("亲")
    assert rows[2]["rewrite"] == good[2]["draft"]


def test_batch_all_good_exits_zero_and_groups(tmp_path):
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    drafts = [f"你的订单{100000 + i}明天到啊" for i in range(70)]
    _write_lines(src, [json.dumps({"draft": d}, ensure_ascii=False) for d in drafts])
    assert main(["batch", str(src), "-o", str(out), "--backend", "rules", "--batch-size", "32"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 70
    for d, r in zip(drafts, rows):
        assert r["draft"] == d and d[4:10] in r["rewrite"] and "你" not in r["rewrite"]


def test_batch_in_a_real_process(tmp_path):
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    _write_lines(src, [json.dumps({"id": 1, "draft": "不行"}, ensure_ascii=False), "oops"])
    p = run_cli("batch", str(src), "-o", str(out), "--backend", "rules")
    assert p.returncode == 1 and "第 2 行" in p.stderr and "Traceback" not in p.stderr
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["id"] == 1
    p = run_cli("batch", str(tmp_path / "missing.jsonl"), "-o", str(out), "--backend", "rules")
    assert p.returncode == 2 and "找不到输入文件" in p.stderr
