"""Reader-facing measures: offence survival, token integrity, changed rate, bootstrap of a share,
and blind judging (hash keys, majority verdicts, control-based calibration, judged scores).
Every expected value below is worked out by hand in the comment next to it."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from rewrite.evaluation import judging as J
from rewrite.evaluation import metrics as M


# ----------------------------------------------------------------------------- metrics

def test_offence_survival_folds_ni_and_punctuation():
    must_fix = [["你签了字的"], ["又不是我们的问题", "急也没用"], [], ["这都不会吗"]]
    outputs = [
        "非常抱歉，三年内不能销户，协议上有您的签字。",   # span gone -> False
        "暴雨停运了，又不是 我们的问题！",               # folded: 又不是我们的问题 survives -> True
        "随便",                                         # no spans: left out
        "这都不会吗？",                                  # survives -> True
    ]
    assert M.offence_survival(must_fix, outputs) == [False, True, True]
    assert M.share(M.offence_survival(must_fix, outputs)) == pytest.approx(2 / 3)
    # 你 in the span, 您 in the output: still the same words
    assert M.offence_survival([["你自己没点吧"]], ["您自己没点吧"]) == [True]


def test_identity_survives_everything_and_references_nothing():
    must_fix = [["你签了字的"], ["不是跟你说了吗"]]
    drafts = ["三年内不能销户 你签了字的", "不是跟你说了吗 要带身份证"]
    refs = ["三年内不能销户，感谢您的理解。", "办理时需要携带身份证，请您留意。"]
    assert M.offence_survival(must_fix, drafts) == [True, True]
    assert M.offence_survival(must_fix, refs) == [False, False]


def test_protected_tokens_and_integrity():
    d = "亲，iPhone 15 Pro 订单[订单x]已发货[微笑] 详见 https://a.cn/q?x=1 #E-s[数字x]"
    assert M.protected_tokens(d) == ["iPhone 15 Pro", "[订单x]", "[微笑]", "https://a.cn/q?x=1", "#E-s[数字x]"]
    ok = "您好，iPhone 15 Pro 订单[订单x]已发货[微笑] 详见 https://a.cn/q?x=1 #E-s[数字x]"
    broken = "您好，iPhone，15 Pro 订单[订单x]已发货[微笑] 详见 https://a.cn/q?x=1 #E-s[数字x]"
    flags, skipped = M.token_integrity([d, d, "没有专有符号的回复"], [ok, broken, "改了"])
    assert flags == [True, False] and skipped == 1
    assert M.protected_tokens("共100元，5月3日") == []  # digits are facts, not tokens


def test_changed_and_bootstrap_share():
    assert M.changed(["a", "b", "c"], ["a", "x", "c"]) == [False, True, False]
    assert M.bootstrap_share([]) is None
    assert M.bootstrap_share([True] * 5) == (1.0, 1.0)
    lo, hi = M.bootstrap_share([True, False] * 50, n=500, seed=3)
    assert lo < 0.5 < hi and 0.3 < lo and hi < 0.7
    assert M.bootstrap_share([True, False] * 50, n=500, seed=3) == (lo, hi)  # same seed, same interval


# ----------------------------------------------------------------------------- judging

ITEMS = [
    {"id": "a", "draft": "三年内不能销户 你签了字的", "reference": "非常抱歉，三年内不能销户。", "must_fix": ["你签了字的"]},
    {"id": "b", "draft": "亲，今天下单明天发~", "reference": "亲，今天下单明天发~", "must_fix": []},
    {"id": "c", "draft": "亲，这款是现货哦", "reference": "亲，这款是现货", "must_fix": []},
]


def test_key_depends_on_draft_and_output_only():
    k = J.judgment_key("草稿", "输出")
    assert k == J.judgment_key("草稿", "输出") and len(k) == 16
    assert k != J.judgment_key("草稿", "输出。") and k != J.judgment_key("草稿2", "输出")


def test_build_tasks_hides_names_collapses_duplicates_and_adds_controls():
    outputs = {"rules": ["非常抱歉，三年内不能销户。", "感谢您的建议，亲，今天下单明天发~", "亲，这款是现货"],
               "identity": [it["draft"] for it in ITEMS]}
    tasks = J.build_tasks(ITEMS, outputs, bench="t", seed=1)
    assert sorted(t.item_id for t in tasks) == ["a", "b", "c"]
    a = next(t for t in tasks if t.item_id == "a")
    # rules == reference, identity == draft: two distinct candidates, each with both sources
    assert sorted(sorted(c.sources) for c in a.candidates) == [["@draft", "identity"], ["@reference", "rules"]]
    assert "rules" not in json.dumps(a.public(), ensure_ascii=False)
    skipped = J.build_tasks(ITEMS, outputs, bench="t", skip_keys=[c.key for t in tasks for c in t.candidates])
    assert skipped == []


def test_record_load_and_majority(tmp_path):
    task = J.build_tasks(ITEMS[:1], {"rules": ["三年内不能销户，您签了字的。"]}, bench="t")[0]
    keys = {c.output: c.key for c in task.candidates}
    out_key = keys["三年内不能销户，您签了字的。"]
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    t1 = datetime(2026, 1, 2, tzinfo=timezone.utc)
    J.record("ann", task, {out_key: ("ok", [])}, store=tmp_path, now=t0)
    J.record("ann", task, {out_key: ("bad", ["rude_left"])}, store=tmp_path, now=t1)  # ann changes her mind
    J.record("bob", task, {out_key: ("ok", [])}, store=tmp_path, now=t0)
    rows, bad = J.load_judgments(tmp_path)
    assert len(rows) == 3 and bad == []
    assert J.verdicts(rows)[out_key] is False  # ann (latest) bad, bob ok: a tie is not acceptable
    J.record("cy", task, {out_key: ("ok", [])}, store=tmp_path, now=t0)
    assert J.verdicts(J.load_judgments(tmp_path)[0])[out_key] is True  # 2 of 3
    with pytest.raises(ValueError):
        J.record("ann", task, {out_key: ("maybe", [])}, store=tmp_path)
    with pytest.raises(ValueError):
        J.record("ann", task, {"0" * 16: ("ok", [])}, store=tmp_path)
    with pytest.raises(ValueError):
        J.record("../evil", task, {out_key: ("ok", [])}, store=tmp_path)


def test_a_hand_edited_or_broken_line_is_skipped_not_fatal(tmp_path):
    (tmp_path / "x.jsonl").write_text(
        '{"key": "0000000000000000", "verdict": "ok", "reasons": [], "judge": "x", "draft": "a", "output": "b"}\n'
        "{not json\n", encoding="utf-8")
    rows, bad = J.load_judgments(tmp_path)
    assert rows == [] and len(bad) == 2 and "x.jsonl:1" in bad[0] and "x.jsonl:2" in bad[1]


def _row(judge, draft, output, verdict):
    return {"key": J.judgment_key(draft, output), "judge": judge, "verdict": verdict, "time": "t"}


def test_calibration_flags_a_judge_outside_the_bounds():
    a, c = ITEMS[0], ITEMS[2]
    good = [_row("good", a["draft"], a["reference"], "ok"), _row("good", c["draft"], c["reference"], "ok"),
            _row("good", a["draft"], a["draft"], "bad")]
    lax = [_row("lax", a["draft"], a["reference"], "ok"), _row("lax", a["draft"], a["draft"], "ok")]
    harsh = [_row("harsh", a["draft"], a["reference"], "bad"), _row("harsh", c["draft"], c["reference"], "ok")]
    cal = J.calibration(good + lax + harsh, ITEMS)
    assert cal["good"]["reference_accept"] == 1.0 and cal["good"]["draft_accept"] == 0.0 and not cal["good"]["flagged"]
    assert cal["lax"]["draft_accept"] == 1.0 and cal["lax"]["flagged"]          # accepted a draft with must-fix
    assert cal["harsh"]["reference_accept"] == 0.5 and cal["harsh"]["flagged"]  # 1 of 2 references
    # item b (reference == draft) is no control of either kind
    assert cal["good"]["reference_n"] == 2 and cal["good"]["draft_n"] == 1


def test_judged_scores_acceptability_and_made_worse():
    table = {
        J.judgment_key(ITEMS[0]["draft"], "三年内不能销户，您签了字的。"): False,
        J.judgment_key(ITEMS[1]["draft"], "感谢您的建议，亲，今天下单明天发~"): False,
    }
    outs = ["三年内不能销户，您签了字的。", "感谢您的建议，亲，今天下单明天发~", "亲，这款是现货"]
    js = J.judged_scores(ITEMS, outs, table)
    # a: judged bad; b: judged bad; c: equals the reference but nobody judged it -> unjudged
    assert js["accept_flags"] == [False, False] and js["unjudged"] == 1
    # made worse only counts b and c (drafts that were fine): b changed and judged bad -> worse;
    # c is the reference itself -> never worse
    assert js["worse_flags"] == [True, False] and js["worse_unjudged"] == 0
    js2 = J.judged_scores(ITEMS, [ITEMS[0]["draft"], "乱改的回复", ITEMS[2]["draft"]], {})
    assert js2["worse_flags"] == [False] and js2["worse_unjudged"] == 1
    # A draft the judges rejected as typed (too curt) was not fine: changing it cannot make it
    # worse by a binary verdict, so it leaves the made-worse count.
    table[J.judgment_key(ITEMS[1]["draft"], ITEMS[1]["draft"])] = False
    js3 = J.judged_scores(ITEMS, outs, table)
    assert js3["worse_flags"] == [False] and js3["accept_flags"] == [False, False]


def test_cli_export_then_import_round_trip(tmp_path):
    from rewrite.cli import main

    bench = tmp_path / "b.jsonl"
    bench.write_text("".join(json.dumps(dict(it, keep=[], channel="chat"), ensure_ascii=False) + "\n" for it in ITEMS),
                     encoding="utf-8")
    store = tmp_path / "j"
    tasks = tmp_path / "tasks.jsonl"
    assert main(["judge", "--bench", str(bench), "--system", "rules", "--judge", "t", "--judgments", str(store),
                 "--export", str(tasks)]) == 0
    exported = [json.loads(x) for x in tasks.read_text(encoding="utf-8").splitlines()]
    assert exported and all("rules" not in json.dumps(t) for t in exported)
    answers = tmp_path / "ans.jsonl"
    answers.write_text("".join(json.dumps({"key": c["key"], "verdict": "ok", "reasons": []}) + "\n"
                               for t in exported for c in t["candidates"]) + "{broken\n", encoding="utf-8")
    rc = main(["judge", "--bench", str(bench), "--system", "rules", "--judge", "t", "--judgments", str(store),
               "--answers", str(answers), "--tasks", str(tasks)])
    assert rc == 1  # one broken line reported, the rest recorded
    rows, _ = J.load_judgments(store)
    assert len(rows) == sum(len(t["candidates"]) for t in exported)
    # everything judged: a second export has nothing left for this judge
    assert main(["judge", "--bench", str(bench), "--system", "rules", "--judge", "t", "--judgments", str(store),
                 "--export", str(tasks)]) == 0
    assert tasks.read_text(encoding="utf-8") == ""


def test_eval_merges_judgments_and_reports_unjudged(tmp_path):
    from rewrite.evaluation.harness import EvalConfig, run

    bench = tmp_path / "b.jsonl"
    bench.write_text("".join(json.dumps(dict(it, keep=[], channel="chat"), ensure_ascii=False) + "\n" for it in ITEMS),
                     encoding="utf-8")
    store = tmp_path / "j"
    task = J.build_tasks(ITEMS, {"identity": [it["draft"] for it in ITEMS]}, bench="b", controls=False)
    for t in task:
        verdict = "bad" if t.item_id == "a" else "ok"
        J.record("t", t, {c.key: (verdict, ["rude_left"] if verdict == "bad" else []) for c in t.candidates}, store=store)
    report, _ = run(EvalConfig(benches=[str(bench)], systems=["identity", "reference"], out=str(tmp_path / "out"),
                               speed=False, n_bootstrap=50, judgments=store, progress=False))
    by = {r["system"]: r["metrics"] for r in report["results"]}
    assert by["identity"]["judged_acceptable"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    assert by["identity"]["judged_acceptable"]["unjudged"] == 0
    assert by["identity"]["offence_survival"]["value"] == 1.0
    assert by["reference"]["offence_survival"]["value"] == 0.0
    assert by["identity"]["made_worse"]["value"] == 0.0
    # the references of a and c were never judged: counted, not dropped
    assert by["reference"]["judged_acceptable"]["unjudged"] == 2
    assert report["judgments"]["calibration"]["t"]["draft_accept"] == 0.0
    # checker compliance carries its interval too; identity's equals the drafts' own compliance
    cc = by["identity"]["checker_compliance"]
    assert cc["value"] == pytest.approx(by["identity"]["compliance_before"], abs=1e-4) and cc["ci"][0] <= cc["value"] <= cc["ci"][1]


def test_probe_tasks_export_only_unjudged_pairs_and_import_the_answers(tmp_path):
    import importlib.util

    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("probe_tasks", root / "eval" / "probes" / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    from rewrite.evaluation.judging import judgment_key

    folder = tmp_path / "probe"
    folder.mkdir()
    outs = [{"version": "a", "id": "p-1", "draft": "等着吧", "output": "请您稍等。"},
            {"version": "b", "id": "p-1", "draft": "等着吧", "output": "请您稍等。"},  # same pair: once
            {"version": "b", "id": "p-2", "draft": "已退款", "output": "您好，已退款。"}]
    (folder / "outputs.jsonl").write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in outs), encoding="utf-8")
    seen = {"key": judgment_key("已退款", "您好，已退款。"), "item": "p-2", "verdict": "ok", "reasons": [], "judge": "judge-x"}
    (folder / "judgments.jsonl").write_text(json.dumps(seen, ensure_ascii=False) + "\n", encoding="utf-8")
    n_tasks, n_cands = tasks.export(folder, tmp_path / "t.jsonl", seed=1)
    exported = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()]
    keys = [c["key"] for t in exported for c in t["candidates"]]
    assert n_tasks == 1 and judgment_key("等着吧", "请您稍等。") in keys and seen["key"] not in keys
    assert len(keys) == n_cands == len(set(keys)) and "version" not in json.dumps(exported)
    answers = [{"key": k, "verdict": "ok", "reasons": []} for k in keys] + [{"key": "nope", "verdict": "ok"}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(a) + "\n" for a in answers), encoding="utf-8")
    written, problems = tasks.import_answers(folder, tmp_path / "t.jsonl", tmp_path / "a.jsonl", "y")
    assert written == len(keys) and len(problems) == 1
    rows = [json.loads(x) for x in (folder / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1 + len(keys) and rows[-1]["judge"] == "judge-y"
    assert tasks.import_answers(folder, tmp_path / "t.jsonl", tmp_path / "a.jsonl", "y")[0] == 0  # once only
