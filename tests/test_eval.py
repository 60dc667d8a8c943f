"""The eval harness end to end on a small bench with the real rules and identity backends:
identity is the floor (what doing nothing scores), the references are the ceiling, broken lines
are skipped and counted, two runs with one signature agree, the HTML page shows drafts as text."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rewrite.norms.checker import check  # checker compliance is the rule library's
from rewrite.evaluation import metrics as M
from rewrite.evaluation.harness import load_bench, main
from rewrite.text import normalise

ITEMS = [
    {"id": "t1", "draft": "这个我不知道，你去营业厅问吧", "reference": "这个问题我暂时无法确认，建议您到营业厅咨询。",
     "keep": ["营业厅"], "channel": "phone"},
    {"id": "t2", "draft": "您好，请问有什么可以帮您？", "reference": "您好，请问有什么可以帮您？", "keep": [], "channel": "chat"},
    {"id": "t3", "draft": "喂，你订单123456已经发了，3天到，运费12元退你", "reference": "您好，您的订单123456已经发出，预计3天送达，运费12元会退还给您。",
     "keep": ["123456", "12元"], "channel": "chat"},
    {"id": "t4", "draft": "等着，我查下", "reference": "请您稍等，我帮您查询一下。", "keep": []},
    {"id": "t5", "draft": "感谢您的耐心等待，您的话费余额是58.5元。", "reference": "感谢您的耐心等待，您的话费余额是58.5元。",
     "keep": ["58.5元"], "channel": "phone"},
    {"id": "t6", "draft": "你听不见吗？我说了2025年3月1日前交费", "reference": "不好意思，可能是信号不太好，请您在2025年3月1日前缴费。",
     "keep": ["2025年3月1日"], "channel": "phone"},
]
SCRIPT_DRAFT = "<script>alert('x')</script>你等下 <b>加粗</b>"


def _write(path: Path, items, extra_lines=()) -> Path:
    lines = [json.dumps(it, ensure_ascii=False) for it in items] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    return _write(tmp_path / "small.jsonl", ITEMS)


def _run(tmp_path: Path, name: str, *args: str) -> tuple[int, dict, list[dict], Path]:
    out = tmp_path / name
    rc = main([*args, "--out", str(out), "--n-bootstrap", "200"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8")) if (out / "report.json").exists() else {}
    preds = [json.loads(l) for l in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()] if (out / "predictions.jsonl").exists() else []
    return rc, report, preds, out


def _metrics(report: dict, system: str, bench: str | None = None) -> dict:
    rows = [r for r in report["results"] if r["system"] == system and (bench is None or r["bench"] == bench)]
    assert len(rows) == 1
    return rows[0]["metrics"]


def test_identity_scores_the_floor(tmp_path, bench):
    rc, report, preds, _ = _run(tmp_path, "r", "--bench", str(bench), "--system", "identity", "--no-speed")
    assert rc == 0
    m = _metrics(report, "identity")
    drafts = [normalise(it["draft"]) for it in ITEMS]
    refs = [normalise(it["reference"]) for it in ITEMS]
    before = [len(check(d, channel=it.get("channel", "phone")).findings) for d, it in zip(drafts, ITEMS)]
    # Doing nothing: outputs are the drafts, so every score is the score of the drafts themselves.
    assert [p["output"] for p in preds] == drafts
    assert m["chrf"] == pytest.approx(M.chrf(drafts, refs), abs=1e-4)
    assert m["bleu"] == pytest.approx(M.bleu(drafts, refs), abs=1e-4)
    assert m["compliance_after"] == m["compliance_before"] == pytest.approx(M.compliance(before), abs=1e-4)
    assert m["findings_per_100_after"] == m["findings_per_100_before"]
    assert m["findings_per_100_before"] == pytest.approx(M.findings_per_100_chars(before, drafts), abs=1e-4)
    assert m["keep_share"] == 1.0 and m["keep_total"] == 5
    assert m["facts_share"] == 1.0 and m["facts_total"] > 0
    assert m["over_editing_n"] == 2 and m["unchanged_share"] == 1.0 and m["mean_edit_distance"] == 0.0
    assert m["length_ratio_draft"] == 1.0
    assert m["length_ratio_reference"] == pytest.approx(sum(map(len, drafts)) / sum(map(len, refs)), abs=1e-4)
    assert m["fallback_rate"] == 0.0 and m["errors"] == 0
    assert m["chrf_ci"][0] <= m["chrf"] <= m["chrf_ci"][1]


def test_reference_scores_the_ceiling(tmp_path, bench):
    rc, report, preds, _ = _run(tmp_path, "r", "--bench", str(bench), "--system", "reference",
                                "--system", "identity", "--system", "rules", "--no-speed")
    assert rc == 0
    ref = _metrics(report, "reference")
    refs = [normalise(it["reference"]) for it in ITEMS]
    assert ref["chrf"] == pytest.approx(100.0) and ref["bleu"] == pytest.approx(100.0)
    assert ref["chrf_ci"] == pytest.approx([100.0, 100.0])
    assert ref["keep_share"] == 1.0
    assert ref["length_ratio_reference"] == 1.0
    assert ref["unchanged_share"] == 1.0  # on already-professional drafts the reference is the draft
    ref_counts = [len(check(r, channel=it.get("channel", "phone")).findings) for r, it in zip(refs, ITEMS)]
    assert ref["compliance_after"] == pytest.approx(M.compliance(ref_counts), abs=1e-4)
    for other in ("identity", "rules"):
        m = _metrics(report, other)
        assert m["chrf"] <= ref["chrf"] and m["bleu"] <= ref["bleu"]
    # The reference has no timing: it is not a system that runs.
    assert all(p["ms"] is None for p in preds if p["system"] == "reference")


def test_predictions_have_every_example_and_system(tmp_path, bench):
    rc, report, preds, out = _run(tmp_path, "r", "--bench", str(bench), "--system", "rules", "--system", "identity")
    assert rc == 0
    assert {(p["id"], p["system"]) for p in preds} == {(it["id"], s) for it in ITEMS for s in ("rules", "identity")}
    channels = {it["id"]: it.get("channel", "phone") for it in ITEMS}
    for p in preds:
        assert {"id", "bench", "draft", "reference", "output", "findings_after", "fallback", "ms"} <= set(p)
        assert p["bench"] == "small" and p["ms"] > 0
        assert len(p["findings_after"]) == len(check(p["output"], channel=channels[p["id"]]).findings)
    # Speed is measured for every system in the same run.
    for r in report["results"]:
        sp = r["speed"]
        assert sp["ms_p50"] > 0 and sp["ms_p95"] >= sp["ms_p50"] and sp["drafts_per_s"] > 0
        assert sp["batch_size"] == 32 and sp["drafts"] == len(ITEMS)
    for f in ("report.md", "report.html", "report.json", "predictions.jsonl"):
        assert (out / f).stat().st_size > 0
    pytest.importorskip("matplotlib")
    for png in ("metrics.png", "latency.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png in (out / "report.html").read_text(encoding="utf-8")


def _strip_timings(report: dict) -> dict:
    r = json.loads(json.dumps(report))
    for key in ("run_id", "created", "command"):
        r.pop(key)
    for row in r["results"]:
        row.pop("speed")
    return r


def test_same_signature_same_outputs_and_scores(tmp_path, bench):
    args = ["--bench", str(bench), "--system", "rules", "--system", "identity", "--seed", "3"]
    _, a, pa, _ = _run(tmp_path, "a", *args)
    _, b, pb, _ = _run(tmp_path, "b", *args)
    assert [r["signature_str"] for r in a["results"]] == [r["signature_str"] for r in b["results"]]
    assert _strip_timings(a) == _strip_timings(b)
    assert [{k: v for k, v in p.items() if k != "ms"} for p in pa] == [{k: v for k, v in p.items() if k != "ms"} for p in pb]
    sig = a["results"][0]["signature"]
    import rewrite
    from rewrite.evaluation.harness import file_hash
    from rewrite.norms.load import norms_hash

    assert sig["system"] == "rules" and sig["model"] == "-" and sig["seed"] == 3
    assert sig["norms"] == norms_hash() and sig["bench"] == file_hash(bench) and sig["version"] == rewrite.__version__
    assert sig["chrf"] == M.sacrebleu_signatures()["chrf"]
    # A different seed or bench is a different signature.
    _, c, _, _ = _run(tmp_path, "c", "--bench", str(bench), "--system", "rules", "--seed", "4", "--no-speed")
    assert c["results"][0]["signature_str"] != a["results"][0]["signature_str"]
    _write(bench, ITEMS[:-1])
    _, d, _, _ = _run(tmp_path, "d", "--bench", str(bench), "--system", "rules", "--seed", "3", "--no-speed")
    assert d["results"][0]["signature"]["bench"] != sig["bench"]


def test_broken_lines_are_reported_with_line_numbers_and_skipped(tmp_path, capsys):
    bad = [
        "{not json",  # line 7
        json.dumps({"id": "t1", "draft": "重复的", "reference": "重复的"}),  # 8: duplicate id
        json.dumps({"id": "t9", "draft": "没有参考"}),  # 9: no reference
        json.dumps({"id": "t10", "draft": "你好", "reference": "您好", "keep": ["58元"]}),  # 10: keep not in draft
        "",  # blank lines are not errors
        "[1, 2]",  # 12: not an object
    ]
    path = _write(tmp_path / "broken.jsonl", ITEMS, bad)
    b = load_bench(path)
    assert len(b.items) == len(ITEMS)
    assert [int(re.search(r":(\d+): ", s).group(1)) for s in b.skipped] == [7, 8, 9, 10, 12]
    rc, report, preds, out = _run(tmp_path, "r", "--bench", str(path), "--system", "identity", "--no-speed")
    assert rc == 1
    assert report["benches"][0]["skipped"] == 5 and report["benches"][0]["items"] == len(ITEMS)
    err = capsys.readouterr().err
    assert f"{path}:7:" in err and f"{path}:12:" in err
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "跳过 5 行" in md and f"{path}:9:" in md
    assert "跳过 5 行" in (out / "report.html").read_text(encoding="utf-8")


def test_html_escapes_drafts_and_sorts_worst_first(tmp_path):
    items = ITEMS + [{"id": "x1", "draft": SCRIPT_DRAFT, "reference": "请您稍等。", "keep": []}]
    path = _write(tmp_path / "html.jsonl", items)
    rc, report, preds, out = _run(tmp_path, "r", "--bench", str(path), "--system", "rules", "--system", "identity", "--no-speed")
    page = (out / "report.html").read_text(encoding="utf-8")

    class Scan(HTMLParser):
        def __init__(self):
            super().__init__()
            self.scripts, self.tags, self.text, self.rows = 0, [], [], []

        def handle_starttag(self, tag, attrs):
            self.scripts += tag == "script"
            self.tags.append(tag)
            a = dict(attrs)
            if tag == "tr" and "data-id" in a:
                self.rows.append((a["data-id"], float(a.get("data-crules", "nan"))))

        def handle_data(self, data):
            self.text.append(data)

    scan = Scan()
    scan.feed(page)
    assert scan.scripts == 1  # ours, inline; the draft's <script> is text
    assert "b" not in scan.tags  # nor is its <b>
    assert SCRIPT_DRAFT in "".join(scan.text)
    assert "http://" not in page and "https://" not in page  # self-contained
    # Worst first: rows in ascending sentence chrF of the primary system (rules).
    assert report["primary"] == "rules"
    scores = [s for _, s in scan.rows]
    assert len(scores) == len(items) and scores == sorted(scores)
    by_id = {p["id"]: p["chrf"] for p in preds if p["system"] == "rules"}
    assert scan.rows[0][0] == "html/" + min(by_id, key=by_id.get)


def test_unavailable_system_is_reported_and_the_run_goes_on(tmp_path, bench, monkeypatch):
    from rewrite.engines import REGISTRY

    monkeypatch.setitem(REGISTRY, "missing", "rewrite.engines.no_such_module:Nope")
    rc, report, preds, out = _run(tmp_path, "r", "--bench", str(bench), "--system", "missing", "--system", "identity", "--no-speed")
    assert rc == 0
    sysinfo = {s["name"]: s for s in report["systems"]}
    assert not sysinfo["missing"]["available"] and "no_such_module" in sysinfo["missing"]["reason"]
    assert sysinfo["identity"]["available"]
    assert _metrics(report, "identity")["n"] == len(ITEMS)
    assert {p["system"] for p in preds} == {"identity"}
    assert "不可用" in (out / "report.md").read_text(encoding="utf-8")


def test_a_failing_draft_counts_against_the_system(tmp_path):
    from rewrite.text import MAX_DRAFT_CHARS

    long = {"id": "long", "draft": "您好" * (MAX_DRAFT_CHARS // 2 + 1), "reference": "您好", "keep": []}
    path = _write(tmp_path / "long.jsonl", [ITEMS[1], long])
    rc, report, preds, _ = _run(tmp_path, "r", "--bench", str(path), "--system", "identity", "--no-speed")
    m = _metrics(report, "identity")
    assert m["errors"] == 1 and m["answered_share"] == 0.5
    assert m["compliance_after"] <= 0.5  # no output is not a compliant output
    failed = next(p for p in preds if p["id"] == "long")
    assert failed["output"] == "" and "5000" in failed["error"]


def test_usage_errors_exit_2_with_a_message(tmp_path, bench, capsys):
    assert main(["--bench", str(bench), "--system", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "reference" in capsys.readouterr().err  # lists the valid names
    assert main(["--bench", str(tmp_path / "missing.jsonl"), "--system", "identity", "--out", str(tmp_path / "y")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert main(["--system", "identity"]) == 2


def test_cli_dispatch_and_limit(tmp_path, bench, capsys):
    from rewrite.cli import main as cli

    out = tmp_path / "cli"
    assert cli(["eval", "--bench", str(bench), "--system", "identity", "--limit", "2", "--no-speed", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["benches"][0]["items"] == 2 and report["results"][0]["signature"]["items"] == 2
    assert "| identity |" in capsys.readouterr().out  # the table is printed


def test_default_out_dir_is_named_after_the_run(tmp_path, bench, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--bench", str(bench), "--system", "identity", "--no-speed", "--n-bootstrap", "50"]) == 0
    (run_dir,) = (tmp_path / "eval" / "results").iterdir()
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert run_dir.name == report["run_id"]


def test_editing_the_norms_changes_the_signature(tmp_path, bench, prompts_copy):
    _, a, _, _ = _run(tmp_path, "a", "--bench", str(bench), "--system", "identity", "--no-speed")
    with open(prompts_copy / "forbidden.yaml", "a", encoding="utf-8") as f:
        f.write("\n# a trainer's edit\n")
    _, b, _, _ = _run(tmp_path, "b", "--bench", str(bench), "--system", "identity", "--no-speed")
    assert a["results"][0]["signature"]["norms"] != b["results"][0]["signature"]["norms"]
    assert a["results"][0]["metrics"] == b["results"][0]["metrics"]  # a comment changes no finding


@pytest.mark.slow
def test_seq2seq_signature_carries_model_hash_and_engine(tmp_path, bench, monkeypatch):
    """A real tiny model trained here: its weights hash and engine land in the signature, two runs
    with that signature agree, and the backend's own engine comparison is attached to the speed."""
    from rewrite.engines.seq2seq.backend import MODEL_DIR_ENV, Seq2SeqBackend
    from rewrite.engines.seq2seq.train import main as train_main

    pairs = tmp_path / "pairs.jsonl"
    _write(pairs, [dict(it, domain="telecom", scenario="closing", source="written:team") for it in ITEMS])
    model = tmp_path / "model"
    tiny = ["--d-model", "32", "--encoder-layers", "1", "--decoder-layers", "1", "--attention-heads", "2",
            "--ffn-dim", "64", "--batch-size", "8", "--learning-rate", "3e-3", "--warmup-steps", "10",
            "--validation-share", "0", "--eval-steps", "0", "--threads", "1", "--progress", "false"]
    assert train_main(["--data", str(pairs), "--output-dir", str(model), "--max-steps", "40", "--save-steps", "40", *tiny]) == 0
    monkeypatch.setenv(MODEL_DIR_ENV, str(model))

    args = ["--bench", str(bench), "--system", "seq2seq", "--system", "identity"]
    _, a, pa, _ = _run(tmp_path, "a", *args)
    _, b, pb, _ = _run(tmp_path, "b", *args, "--no-speed")
    row = next(r for r in a["results"] if r["system"] == "seq2seq")
    assert row["available"], a["systems"]
    assert row["signature"]["model"] == Seq2SeqBackend(model).model_hash != "-"
    assert row["signature"]["engine"] in ("ct2", "hf") and row["speed"]["engine"] == row["signature"]["engine"]
    assert set(row["speed"]["engine_comparison"]) >= {"ct2", "hf"}
    assert "seq2seq 引擎对比" in (tmp_path / "a" / "report.md").read_text(encoding="utf-8")
    assert [r["signature_str"] for r in a["results"]] == [r["signature_str"] for r in b["results"]]
    assert [(p["id"], p["output"]) for p in pa if p["system"] == "seq2seq"] == [(p["id"], p["output"]) for p in pb if p["system"] == "seq2seq"]
    assert _metrics(a, "seq2seq") == _metrics(b, "seq2seq")


@pytest.mark.browser
def test_report_page_in_a_real_browser(tmp_path):
    """Chromium opens report.html offline: no request leaves the page, the <script> draft does not
    run (no dialog) and shows as text, and clicking a column header re-sorts the examples."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium is not installed: run `bash scripts/setup --dev`")
    items = ITEMS + [{"id": "x1", "draft": SCRIPT_DRAFT, "reference": "请您稍等。", "keep": []}]
    path = _write(tmp_path / "page.jsonl", items)
    _, report, preds, out = _run(tmp_path, "r", "--bench", str(path), "--system", "rules", "--system", "identity", "--no-speed")
    ident = {"page/" + p["id"]: p["chrf"] for p in preds if p["system"] == "identity"}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page()
        events: list[str] = []
        page.on("dialog", lambda d: (events.append("dialog " + d.message), d.dismiss()))
        page.on("pageerror", lambda e: events.append(f"error {e}"))
        page.on("request", lambda r: None if r.url.startswith("file://") else events.append("request " + r.url))
        page.goto((out / "report.html").as_uri())
        assert SCRIPT_DRAFT in page.inner_text("#examples")
        page.click("th.sort[data-key='cidentity']")
        order = page.eval_on_selector_all("#examples tbody tr", "rs => rs.map(r => r.dataset.id)")
        assert [ident[i] for i in order] == sorted(ident[i] for i in order)
        page.click("th.sort[data-key='cidentity']")  # the same header again: best first
        order = page.eval_on_selector_all("#examples tbody tr", "rs => rs.map(r => r.dataset.id)")
        assert [ident[i] for i in order] == sorted((ident[i] for i in order), reverse=True)
        browser.close()
    assert events == []


def test_ablation_variants_load_the_pipeline_without_planner_or_gate():
    from rewrite.evaluation.harness import load_system, system_names

    assert {"seq2seq:noplan", "seq2seq:noguard", "seq2seq:bare"} <= set(system_names())
    full, noplan, bare = load_system("seq2seq"), load_system("seq2seq:noplan"), load_system("seq2seq:bare")
    assert full.available and noplan.available and bare.available
    assert full.rewriter.planner is not None and full.rewriter.guard_fine
    assert noplan.rewriter.planner is None and noplan.rewriter.guard_fine
    assert bare.rewriter.planner is None and not bare.rewriter.guard_fine


def test_attribution_counts_each_offending_draft_once():
    from rewrite.evaluation.attribution import attribute

    items = [{"draft": "你等着", "must_fix": ["你等着"]},
             {"draft": "您好，请问有什么可以帮您？", "must_fix": []},
             {"draft": "您好，已为您登记。", "must_fix": ["已为您登记"]}]
    got = attribute("rules", items)
    assert got["offending_drafts"] == 2 and sum(got["written_by"].values()) == 2
    assert got["written_by"].get("unchanged") == 1  # the polite draft comes back as it was


def test_the_garble_scan_finds_what_a_repair_left_and_not_what_the_draft_said(tmp_path, capsys):
    """``python -m rewrite.evaluation.garble_scan``: each kind of garble fixed on 2026-12-02 is
    found; a draft's own repetition and a clean reply are not; a broken line is named, not fatal."""
    from rewrite.evaluation.garble_scan import main, scan

    hits = scan([
        ("反正我们这边是没毛病的", "我们这边是是符合规定的的。"),
        ("早到了你去大堂等着", "早到了您去大堂请您耐心等待。"),
        ("退款一到三天到 您咋还问", "非常抱歉，退款一到三天到，您。"),
        ("亲，回复晚了", "非常抱歉让您久等了，刚才回复晚了。非常抱歉让您久等了，刚才回复晚了。"),
        ("谢谢谢谢 收到了", "谢谢谢谢，收到了。"),
        ("您好 我查一下", "您好，我查一下记录记录。"),
        ("好了 查到了 明天到", "您好，已经查到了，明天到。"),
    ])
    found = {name: [h[1] for h in hs] for name, hs in hits.items()}
    assert found["char_twice"] == ["反正我们这边是没毛病的"] and found["word_twice"] == ["您好 我查一下"]
    assert found["command_inside"] == ["早到了你去大堂等着"]
    assert found["pronoun_stub"] == ["退款一到三天到 您咋还问"]
    assert found["loop"] == ["亲，回复晚了"]

    f = tmp_path / "p.jsonl"
    f.write_text('{"draft": "您咋还问", "output": "好的，您。"}\nnot json\n', encoding="utf-8")
    assert main([str(f)]) == 0
    out, err = capsys.readouterr()
    assert "1 条回复" in out and "pronoun_stub: 1" in out and "p.jsonl:2" in err
    assert main([str(tmp_path / "missing.jsonl")]) == 2
