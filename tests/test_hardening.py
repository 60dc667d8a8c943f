"""Library-level guards of issue 15 (the real-server probes are in test_battery.py): bounded
work, strict JSON, masking, the feedback store, and the app's refusal to expose itself."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _apply(src: str, edits) -> str:
    out, pos = [], 0
    for e in edits:
        assert e.src_start >= pos and src[e.src_start:e.src_end] == e.before
        out += [src[pos:e.src_start], e.after]
        pos = e.src_end
    return "".join(out) + src[pos:]


# ------------------------------------------------------------------ bounded work


@pytest.mark.parametrize("src, tgt", [
    ("你a" * 2500, "您a" * 2500),             # the 8-minute case of defect 3
    ("你a" * 2500, "请您a" * 2500),
    ("你a。" * 1600, "您a。" * 1600),
    ("你好，" * 1500, "您好。" * 1200 + "谢谢"),
])
def test_diff_edits_is_bounded_and_still_exact(src, tgt):
    from rewrite.text import diff_edits

    t0 = time.perf_counter()
    edits = diff_edits(src, tgt)
    assert time.perf_counter() - t0 < 2.0
    assert _apply(src, edits) == tgt
    assert all(tgt[e.tgt_start:e.tgt_end] == e.after for e in edits)


def test_diff_edits_small_pairs_keep_fine_edits():
    from rewrite.text import diff_edits

    edits = diff_edits("你等一下", "请您稍等一下")
    assert _apply("你等一下", edits) == "请您稍等一下" and len(edits) <= 3


def test_rules_rewrite_of_many_small_edits_is_fast():
    from rewrite import load_rewriter

    t0 = time.perf_counter()
    r = load_rewriter("rules").rewrite("你a" * 2500)
    assert time.perf_counter() - t0 < 10 and _apply(r.source, r.edits) == r.target


@pytest.mark.parametrize("text", [
    " ".join(["你的订单已经发货了请耐心等待"] * 20),  # spaces only: defect 4
    "好" * 600,                                      # no break at all
    "订单" + "1" * 300 + "已经发货",
])
def test_no_chunk_is_longer_than_the_cap_and_nothing_is_lost(text):
    from rewrite.text import MAX_SEGMENT_CHARS, chunk_text

    chunks = chunk_text(text)
    assert "".join(chunks) == text and max(map(len, chunks)) <= MAX_SEGMENT_CHARS


@pytest.mark.skipif(not (ROOT / "rewrite" / "shipped" / "config.json").is_file(), reason="no shipped model")
def test_seq2seq_survives_long_unpunctuated_drafts_and_oversized_chunks():
    from rewrite import load_rewriter

    rw = load_rewriter("seq2seq")
    draft = " ".join(["你的订单已经发货了请耐心等待"] * 20)
    assert rw.rewrite(draft).target
    assert rw.backend.generate(["你" * 400], n=2) == [[]]  # past its positions: no candidate, no crash


@pytest.mark.parametrize("text", ["1" * 90_000, "a" * 90_000, "1 " * 45_000 + "a", "www." + "a" * 90_000, "订单123456 " * 9000])
def test_find_facts_is_linear(text):
    from rewrite.protect import find_facts

    t0 = time.perf_counter()
    find_facts(text)
    assert time.perf_counter() - t0 < 2.0


def test_find_facts_refuses_a_huge_text_at_once():
    from rewrite.errors import InvalidDraftError
    from rewrite.protect import find_facts

    t0 = time.perf_counter()
    with pytest.raises(InvalidDraftError, match="过长"):
        find_facts("1" * 10_000_000)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("ch", ["\u202e", "\u202c", "\u061c", "\u2060", "\u2066", "\ufeff", "\ud800"])
def test_normalise_drops_bidi_format_chars_and_lone_surrogates(ch):
    from rewrite.text import normalise

    assert normalise(f"你{ch}好") == "你好"


# ------------------------------------------------------------------ strict JSON and bounded reading


@pytest.mark.parametrize("text, why", [
    ('{"n": Infinity}', "Infinity"), ('{"n": -Infinity}', "Infinity"), ('{"n": NaN}', "NaN"), ('{"n": 1e400}', "超出范围"),
    ('{"n": ' + "9" * 5000 + "}", "整数过长"), ("[" * 50_000 + "]" * 50_000, "嵌套"), ('{"d": "\\ud800"}', "代理"),
])
def test_loads_strict_refuses_what_would_crash_later(text, why):
    from rewrite.data.jsonl import loads_strict

    with pytest.raises(ValueError, match=why):
        loads_strict(text)


def test_loads_strict_keeps_ordinary_json():
    from rewrite.data.jsonl import loads_strict

    assert loads_strict('{"e": "\\ud83d\\ude00", "n": 3, "x": 1.5e3}') == {"e": "😀", "n": 3, "x": 1500.0}


def test_bench_with_hostile_lines_skips_them_and_keeps_the_rest(tmp_path):
    from rewrite.evaluation.harness import BENCH_MAX_LINE_BYTES, load_bench

    good = json.dumps({"id": "g", "draft": "你等一下", "reference": "请您稍等。"}, ensure_ascii=False)
    path = tmp_path / "b.jsonl"
    path.write_bytes("\n".join([good, '{"id": "a", "draft": "' + "1" * (BENCH_MAX_LINE_BYTES + 10) + '"}',
                                '{"id": "b", "draft": "\\ud800你", "reference": "您"}', "[" * 50_000,
                                '{"id": "c", "n": ' + "9" * 5000 + "}", '{"id": "d", "n": Infinity}']).encode())
    t0 = time.perf_counter()
    bench = load_bench(path)
    assert time.perf_counter() - t0 < 2.0
    assert [it.id for it in bench.items] == ["g"] and len(bench.skipped) == 5
    assert "行过长" in bench.skipped[0]


# ------------------------------------------------------------------ masking (defect 10)


@pytest.mark.parametrize("text, masked", [
    ("电话13812345678", "电话138****5678"),
    ("+8613812345678", "+86138****5678"),
    ("+86 138 1234 5678", "+86 138 **** 5678"),
    ("0086-13812345678", "0086-138****5678"),
    ("138-1234-5678", "138-****-5678"),
    ("138 1234 5678", "138 **** 5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("057188889999", "0571****9999"),
    ("(0571)88889999", "(0571)****9999"),
    ("0571-88889999", "0571-****9999"),
    ("010 12345678", "010 ****5678"),
    ("110105199001011234", "110105********1234"),
    ("110105 19900101 123X", "110105 ******** 123X"),
    ("110105-19900101-1234", "110105-********-1234"),
    ("卡号6222021234567894", "卡号6222********7894"),          # 16 digits, Luhn-valid
    ("卡号 6222 0212 3456 7894", "卡号 6222 **** **** 7894"),
    ("卡号6222021234567890", "卡号6222021234567890"),            # fails Luhn: an order number
    ("订单号2024031567821 拨打10086", "订单号2024031567821 拨打10086"),
    ("请拨打95588或400-123-4567", "请拨打95588或400-123-4567"),
    ("运费12元，共 3 件", "运费12元，共 3 件"),
])
def test_mask_private_covers_common_formats(text, masked):
    from rewrite.serve.feedback import mask_private

    assert mask_private(text) == masked


def test_mask_private_is_linear_on_long_runs():
    from rewrite.serve.feedback import mask_private

    t0 = time.perf_counter()
    for text in ("1 " * 50_000 + "a", "8" * 100_000, "-1" * 50_000):
        mask_private(text)
    assert time.perf_counter() - t0 < 2.0


# ------------------------------------------------------------------ feedback store (defect 9, minor)


def _pair(i: int = 0) -> dict:
    return {"draft": f"你等会{i}", "reference": "请您稍等。", "domain": "telecom", "scenario": "closing", "channel": "phone"}


def test_feedback_store_quarantines_a_torn_last_line(tmp_path):
    from rewrite.serve.feedback import append_pair, read_pairs

    store = tmp_path / "fb.jsonl"
    append_pair(_pair(1), path=store)
    with open(store, "ab") as f:
        f.write(b'{"id": "torn", "draft": "half')
    append_pair(_pair(2), path=store)
    pairs, problems = read_pairs(store)
    assert [p["draft"] for p in pairs] == ["你等会1", "你等会2"] and problems == []
    assert (tmp_path / "fb.jsonl.torn").read_text(encoding="utf-8") == '{"id": "torn", "draft": "half\n'


def test_feedback_store_is_private_and_ids_are_unique(tmp_path):
    from rewrite.serve.feedback import append_pair, read_pairs

    store = tmp_path / "new" / "deeper" / "fb.jsonl"
    ids = {append_pair(_pair(i), path=store)["id"] for i in range(300)}
    assert len(ids) == 300 and len(read_pairs(store)[0]) == 300
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700 == stat.S_IMODE(store.parent.parent.stat().st_mode)


def test_save_handler_refuses_an_oversized_pair(tmp_path, monkeypatch):
    from rewrite.serve import ui

    monkeypatch.setenv("REWRITE_FEEDBACK_PATH", str(tmp_path / "fb.jsonl"))
    msg = ui.handle_save_pair("你" * 5001, "请您稍等。", "电话", "telecom", "closing", "rules")
    assert msg.startswith("⚠️") and "5000" in msg and not (tmp_path / "fb.jsonl").exists()


# ------------------------------------------------------------------ exposure (minor: --host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_app_refuses_a_network_address_without_a_token(host, capsys, monkeypatch):
    import uvicorn

    import app

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(k))  # never bind, even if it regresses
    monkeypatch.delenv("REWRITE_TOKEN", raising=False)
    assert app.main(["--host", host, "--port", "1"]) == 2 and served == []
    err = capsys.readouterr().err
    assert "REWRITE_TOKEN" in err and "--insecure-no-token" in err


def test_exposure_rules():
    import app

    assert app._check_exposure("127.0.0.1", None, False) is None
    assert app._check_exposure("localhost", None, False) is None
    assert app._check_exposure("0.0.0.0", "t", False) is None
    assert app._check_exposure("0.0.0.0", None, True) is None
    assert app._check_exposure("10.0.0.5", None, False)


def test_guard_host_names():
    from rewrite.serve.guard import _host_name, _same_origin, is_loopback

    assert _host_name("[::1]:7860") == "::1" and _host_name("Example.COM:80") == "example.com"
    assert _same_origin("http://127.0.0.1:7860", "127.0.0.1:7860")
    assert not _same_origin("http://127.0.0.1:7861", "127.0.0.1:7860") and not _same_origin("null", "127.0.0.1:7860")
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("0.0.0.0")
