"""The UI handlers are plain functions: tested here without a browser."""
from __future__ import annotations

import json

import pytest

from rewrite.serve import ui


def test_rewrite_handler_reports_breaches_diff_and_time():
    r = ui.handle_rewrite("喂，这个我不知道，你去营业厅问吧", "电话", "rules")
    assert r["message"] == ""
    assert r["target"] and "你" not in r["target"] and "不知道" not in r["target"]
    labelled = [piece for piece, label in r["breaches"] if label]
    assert "喂" in "".join(labelled)
    assert "".join(piece for piece, _ in r["breaches"]) == "喂，这个我不知道，你去营业厅问吧"
    assert any(label == "+ 新增" for _, label in r["diff"]) and any(label == "- 删除" for _, label in r["diff"])
    assert "ms" in r["info"] and "rules" in r["info"]
    assert r["findings_md"].count("- **") >= 2


@pytest.mark.parametrize("draft", ["", "   \n\t", "\x00\x01"])
def test_empty_draft_gets_a_friendly_message(draft):
    r = ui.handle_rewrite(draft, "电话", "rules")
    assert r["target"] == "" and "草稿" in r["message"]


def test_too_long_draft_names_the_limit():
    r = ui.handle_rewrite("好" * 6000, "在线", "rules")
    assert r["target"] == "" and "5000" in r["message"]


def test_html_in_draft_is_text_not_markup():
    r = ui.handle_rewrite("<script>alert(1)</script>你等着", "在线", "rules")
    assert "<script>" not in r["findings_md"]
    assert "alert(1)" in r["target"]  # carried through as text, nothing executed or dropped


def test_diff_spans_rebuild_both_sides():
    from rewrite.text import diff_edits

    src, tgt = "你等一下", "请您稍等一下"
    edits = [e.to_dict() for e in diff_edits(src, tgt)]
    spans = ui.diff_spans(edits, src, tgt)
    assert "".join(p for p, lab in spans if lab != "+ 新增") == src
    assert "".join(p for p, lab in spans if lab != "- 删除") == tgt


def test_compare_runs_each_selected_backend_and_marks_the_others():
    res = ui.handle_compare("不行 这个退不了", "在线", ["rules"])
    assert res["rules"]["target"] and "退" in res["rules"]["target"]
    assert res["seq2seq"]["info"] == "未选择" and res["llm"]["info"] == "未选择"


def test_compare_reports_an_unavailable_backend_without_failing():
    res = ui.handle_compare("你好", "电话", ["rules", "llm"])
    assert res["rules"]["target"]
    assert res["llm"]["target"] == "" and res["llm"]["info"].startswith("不可用")


def test_save_pair_appends_masked_record(tmp_path, monkeypatch):
    store = tmp_path / "fb.jsonl"
    monkeypatch.setenv("REWRITE_FEEDBACK_PATH", str(store))
    msg = ui.handle_save_pair("你打13812345678问吧", "请您拨打13812345678咨询，谢谢。", "电话", "telecom", "transfer_department", "rules")
    assert msg.startswith("✅"), msg
    rec = json.loads(store.read_text(encoding="utf-8").strip())
    assert "13812345678" not in rec["draft"] and rec["domain"] == "telecom" and rec["source"].startswith("feedback:")
    assert ui.handle_save_pair("", "x", "电话", "telecom", "closing", "").startswith("⚠️")


def test_eval_handler_without_selection_says_what_is_missing():
    assert "评测集" in ui.handle_eval([], None, ["rules"], None)["message"]
    assert "系统" in ui.handle_eval(["eval/bench/seed.jsonl"], None, [], None)["message"]


def test_eval_handler_names_the_bad_lines_of_an_upload(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))  # where Gradio puts a real upload
    up = tmp_path / "mine.jsonl"
    good = {"id": "a1", "draft": "你等一下", "reference": "请您稍等。"}
    up.write_text(json.dumps(good, ensure_ascii=False) + "\n{broken\n[1]\n", encoding="utf-8")
    r = ui.handle_eval([], str(up), ["identity"], None)
    assert r["message"] == "", r
    assert "跳过 2 行" in r["summary"] and "mine.jsonl:2" in r["summary"] and "mine.jsonl:3" in r["summary"]
    assert [row[1] for row in r["table"]] == ["identity"]


def test_eval_handler_reads_only_shipped_benches_and_real_uploads(tmp_path, monkeypatch):
    """Defect 1: any server-side .jsonl (the feedback store) could be read through the evaluator."""
    secret = tmp_path / "outside" / "feedback.jsonl"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"id": "s1", "draft": "秘密草稿", "reference": "秘密"}, ensure_ascii=False) + "\n", encoding="utf-8")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    (uploads / "link.jsonl").symlink_to(secret)
    for benches, upload in [([], str(secret)), ([str(secret)], None), (["eval/bench/../../" + str(secret)], None),
                            (["../outside/feedback.jsonl"], None), ([], str(uploads / ".." / "outside" / "feedback.jsonl")),
                            ([], str(uploads / "link.jsonl")), ([], str(uploads))]:
        r = ui.handle_eval(benches, upload, ["identity"], None)
        assert r["message"] and "秘密" not in str(r), (benches, upload, r)
    assert ui.allowed_bench_paths(["eval/bench/seed.jsonl"], None)[1] == ""
