"""The data build's guarantees: no benchmark leak, clean targets, kept facts, loud failures,
reproducibility, and a feedback store that loses nothing under concurrent saves."""
from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rewrite.data import build as B
from rewrite.data.augment import add_noise, join_pairs, swap_facts
from rewrite.data.jsonl import read_jsonl, read_pairs
from rewrite.data.spec import CHANNELS, DOMAINS, HELDOUT_SCENARIOS, TRAIN_SCENARIOS
from rewrite.errors import DataError
from rewrite.protect import find_facts, protect_for_model

REPO = Path(__file__).resolve().parents[1]
HAS_CHECKER = importlib.util.find_spec("rewrite.norms.checker") is not None


def _pair(i: int, **kw) -> dict:
    base = {
        "id": f"t-{i:04d}", "draft": f"你等会 我查下{i}号单子", "reference": f"请您稍等，我为您查询一下{i}号订单。",
        "keep": [f"{i}号"], "domain": "ecommerce", "scenario": "hold_for_query", "channel": "chat", "source": "written:team",
    }
    base.update(kw)
    return base


def _write(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_build(default_build) -> B.BuildResult:
    """The built set the tests below read: the suite's one default build (tests/conftest.py), shared
    with the card check instead of a second, smaller build of its own."""
    return default_build


def _jaccard_brute(a: str, b: str) -> float:
    return B.jaccard(B.char_ngrams(B.leak_key(a)), B.char_ngrams(B.leak_key(b)))


# --- the spec --------------------------------------------------------------------------------


def test_spec_matches_the_document():
    doc = (REPO / "docs" / "DATA_SPEC.md").read_text(encoding="utf-8")

    domains = set(re.findall(r"`([a-z0-9_]+)`", doc.split("## Domains", 1)[1].split("\n## ", 1)[0]))
    assert domains == set(DOMAINS)
    train = set(re.findall(r"[a-z_]+", doc.split("## Training scenarios", 1)[1].split("\n## ", 1)[0].split("\n", 1)[1]))
    held = set(re.findall(r"[a-z_]+", doc.split("## Held-out-only scenarios", 1)[1].split("\n## ", 1)[0].split("\n", 1)[1]))
    assert train == set(TRAIN_SCENARIOS)
    assert held == set(HELDOUT_SCENARIOS)
    assert set(CHANNELS) == {"phone", "chat"}


# --- loader: every broken line, with file and line ---------------------------------------------


def test_broken_lines_are_reported_with_file_and_line(tmp_path):
    f = _write(tmp_path / "written" / "x.jsonl", [
        _pair(1),
        "{not json",
        "[1, 2]",
        _pair(4, draft=""),
        _pair(5, domain="space"),
        _pair(6, scenario="lost_item"),
        _pair(7, channel="fax"),
        _pair(8, keep=["不在里面"]),
        _pair(1),
        "",
        _pair(11, reference=None),
    ])
    pairs, problems = read_pairs([f])
    where = {p.line: p.why for p in problems}
    assert [p["id"] for p in pairs] == ["t-0001"]
    assert set(where) == {2, 3, 4, 5, 6, 7, 8, 9, 11}
    assert "JSON" in where[2] and "对象" in where[3] and "draft" in where[4]
    assert "space" in where[5] and "留出" in where[6] and "fax" in where[7]
    assert "不在里面" in where[8] and "重复" in where[9] and "reference" in where[11]
    assert all(str(p).startswith(f"{f}:{p.line}: ") for p in problems)


def test_build_fails_loudly_on_a_broken_line(tmp_path, capsys):
    wd = tmp_path / "written"
    _write(wd / "a.jsonl", [_pair(i) for i in range(1, 30)])
    _write(wd / "b.jsonl", [_pair(100), '{"id": "t-0101", "draft": "x"', _pair(102, domain="moon")])
    rc = B.main(["build", "--written-dir", str(wd), "--out", str(tmp_path / "out"), "--target-size", "0",
                 "--no-progress", "--no-dataset", "--bench", str(_write(tmp_path / "bench.jsonl", [_pair(500, draft="无关的草稿")]))])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{wd / 'b.jsonl'}:2:" in err and f"{wd / 'b.jsonl'}:3:" in err
    assert not (tmp_path / "out" / "train.jsonl").exists()


def test_unreadable_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError):
        read_jsonl(tmp_path / "missing.jsonl")


# --- leak guard --------------------------------------------------------------------------------


def test_leak_guard_catches_a_planted_near_duplicate():
    bench = [("b1", "这个我不知道，你去营业厅问吧，别老打电话过来"), ("b2", "喂，你听不见吗？大声点")]
    guard = B.LeakGuard(bench)
    near = "这个我不知道，你去营业厅问吧，别老打电话过来啊"  # one character added
    assert _jaccard_brute(near, bench[0][1]) >= 0.8
    assert guard.match(near)[0] == "b1"
    assert guard.match("这个 我不知道 你去营业厅问吧！！别老打电话过来")[0] == "b1"  # punctuation noise
    assert guard.match(bench[1][1]) == ("b2", 1.0)
    assert guard.match("您好，您的宽带已经恢复正常，请您重启光猫后再试一下。") is None
    far = "这个我不知道，你明天再打过来问问客服吧"  # shares grams, but far below 0.8
    assert guard.match(far) is None and _jaccard_brute(far, bench[0][1]) > 0


def test_leak_guard_index_agrees_with_brute_force():
    rng = random.Random(3)
    alphabet = "您好请稍等我为查询一下的订单号已经发出谢"
    bench = [(f"b{i}", "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 25)))) for i in range(60)]
    guard = B.LeakGuard(bench, threshold=0.3)
    for _ in range(300):
        q = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 25)))
        best = max((_jaccard_brute(q, d), bid) for bid, d in bench)
        hit = guard.match(q)
        if best[0] >= 0.3:
            assert hit is not None and abs(hit[1] - best[0]) < 1e-9
        else:
            assert hit is None


def test_no_benchmark_draft_leaks_into_the_built_training_set(small_build):
    bench = B.load_bench_drafts(B.bench_files())
    if not bench:
        pytest.skip("no benchmark files yet")
    bench_keys = {B.leak_key(d) for _, d in bench}
    # The indexed guard, checked against brute force above, over every bench and probe draft
    # (brute force here took a minute once the probe sets had grown to 3,700 drafts).
    guard = B.LeakGuard(bench)
    rows = small_build.train + small_build.validation
    for r in rows:
        key = B.leak_key(r["draft"])
        assert key not in bench_keys, r["id"]
        assert guard.match(r["draft"]) is None, (r["id"], r["draft"], guard.match(r["draft"]))


def test_written_pairs_near_a_benchmark_draft_are_dropped(tmp_path):
    wd = tmp_path / "written"
    rows = [_pair(i) for i in range(1, 40)]
    rows.append(_pair(99, draft="这个我不知道 你去营业厅问吧哈", reference="这个问题我需要为您核实一下，请您稍等。", keep=[]))
    _write(wd / "a.jsonl", rows)
    bench = _write(tmp_path / "bench.jsonl", [{"id": "seed-1", "draft": "这个我不知道，你去营业厅问吧", "reference": "x"}])
    res = B.run_build(B.BuildConfig(out=tmp_path / "out", written_dir=wd, bench=[bench], target_size=200,
                                    progress=False, save_dataset=False, diversity=False))
    assert [(a, b) for a, b, _ in res.leaks] == [("t-0099", "seed-1")]
    assert all(r["origin"].find("t-0099") < 0 for r in res.train + res.validation)
    assert "t-0099" in res.card.read_text(encoding="utf-8")


# --- the built set -----------------------------------------------------------------------------


def test_build_has_the_target_size_and_a_grouped_split(small_build):
    n_written = sum(not r["source"].startswith("augment:") for r in small_build.train)
    assert n_written < B.DEFAULT_TARGET and len(small_build.train) == B.DEFAULT_TARGET  # topped up by augmentation
    val_written = {r["id"] for r in small_build.validation if not r["source"].startswith("augment:")}
    train_written = {r["id"] for r in small_build.train if not r["source"].startswith("augment:")}
    assert val_written and not val_written & train_written
    for r in small_build.train:
        assert not set(r["origin"].split("+")) & val_written, r
    for r in small_build.validation:
        assert set(r["origin"].split("+")) <= val_written, r
    sources = [r["source"] for r in small_build.train]
    assert "written:team" in sources
    for op in ("join", "swap", "noise("):
        assert any(s.startswith("augment:") and op in s for s in sources), op


def test_every_keep_span_is_on_both_sides(small_build):
    for r in small_build.train + small_build.validation:
        for span in r["keep"]:
            assert span in r["draft"] and span in r["reference"], (r["id"], span)


@pytest.mark.skipif(not HAS_CHECKER, reason="rewrite.norms.checker not built yet")
def test_every_target_passes_the_checker(small_build):
    from rewrite.norms.checker import check  # the build validates targets with the rule library

    bad = [(r["id"], [f.rule_id for f in check(r["reference"]).findings]) for r in small_build.train + small_build.validation]
    assert [b for b in bad if b[1]] == []


def test_outputs_are_written_and_loadable(small_build):
    import datasets

    out = small_build.out
    train = [json.loads(l) for l in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(train) == len(small_build.train) and set(train[0]) == set(B.OUTPUT_FIELDS)
    ds = datasets.load_from_disk(str(out / "dataset"))
    assert ds["train"].num_rows == len(train) and ds["validation"].num_rows == len(small_build.validation)
    assert ds["train"][0]["draft"] == train[0]["draft"]
    card = small_build.card.read_text(encoding="utf-8")
    assert small_build.build_hash in card and "per domain" in card and "per scenario" in card


def test_same_seed_gives_a_byte_identical_build(tmp_path):
    import shutil

    # Snapshot the sources: teammates may be editing them while the suite runs. The twelve smallest
    # files are enough to show determinism (the whole corpus made this the suite's slowest test).
    wd = tmp_path / "written"
    wd.mkdir()
    for k, f in enumerate(sorted(B.written_files(), key=lambda f: (f.stat().st_size, str(f)))[:12]):
        shutil.copy(f, wd / f"{k:02d}-{f.name}")
    bench = []
    for f in B.bench_files():
        bench += ["--bench", str(shutil.copy(f, tmp_path / f.name))]
    args = ["data", "build", "--written-dir", str(wd), "--target-size", "600", "--no-progress", "--no-dataset", *bench]
    outs = []
    for hash_seed in ("1", "12345"):
        # Other processes with other hash seeds: set iteration order must not leak into the output.
        out = tmp_path / f"out{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "rewrite.cli", *args, "--out", str(out), "--card", str(out / "CARD.md")],
                       check=True, env=env, capture_output=True, cwd=REPO)
        outs.append(out)
    for name in ("train.jsonl", "validation.jsonl", "CARD.md"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    other = tmp_path / "seed7"
    assert B.main([*args[1:], "--seed", "7", "--out", str(other)]) == 0
    assert (other / "train.jsonl").read_bytes() != (outs[0] / "train.jsonl").read_bytes()


# --- augmentation keeps facts -------------------------------------------------------------------


def _written() -> list[dict]:
    pairs, problems = read_pairs(B.written_files())
    return pairs


def test_fact_swaps_keep_the_frame_and_vary_the_facts():
    pairs = _written()
    rng = random.Random(5)
    swapped = same_frame = 0
    # Pairs with something to vary: a number on both sides or a keep span. (The share of all pairs
    # depends on the corpus mix: round five, written for the critic's tone, has few facts.)
    variable = sum(bool(set(re.findall(r"\d+", p["draft"])) & set(re.findall(r"\d+", p["reference"])) or p.get("keep"))
                   for p in pairs)
    for p in pairs:
        new = swap_facts(p, rng)
        if new is None:
            continue
        swapped += 1
        assert all(k in new["draft"] and k in new["reference"] for k in new["keep"])
        assert len(new["keep"]) == len(p["keep"])
        assert (new["draft"], new["reference"]) != (p["draft"], p["reference"])
        # Facts shared by both sides stay shared by both sides, in the same number.
        def shared(q):
            return sorted(q["reference"][s:e] for s, e, _ in find_facts(q["reference"]) if q["reference"][s:e] in q["draft"])
        assert len(shared(new)) >= len(shared(p)) - 1, (p["id"], new["reference"])
        before = protect_for_model(p["reference"], p["keep"]).masked
        after = protect_for_model(new["reference"], new["keep"]).masked
        def frame(t):
            return re.sub(r"<[A-Z]+\d+>", "<X>", re.sub(r"\d+", "", t))
        same_frame += frame(before) == frame(after)
    assert swapped >= variable * 0.5 and variable >= len(pairs) * 0.4
    assert same_frame >= swapped * 0.9


def test_noise_touches_only_the_draft_and_keeps_facts():
    pairs = _written()
    rng = random.Random(9)
    changed = 0
    for p in pairs[:400]:
        res = add_noise(p, rng)
        if res is None:
            continue
        new, ops = res
        changed += 1
        assert new["reference"] == p["reference"] and new["keep"] == p["keep"]
        assert all(k in new["draft"] for k in new["keep"])
        facts = [p["draft"][s:e] for s, e, _ in find_facts(p["draft"])]
        assert all(f in new["draft"] for f in facts), (p["draft"], new["draft"])
    assert changed >= 300


def test_joins_put_the_greeting_first_and_keep_every_fact():
    pairs = [p for p in _written() if p["domain"] == "telecom" and p["channel"] == "phone"]
    rng = random.Random(2)
    greet = next(p for p in pairs if p["scenario"] == "opening_greeting")
    others = [p for p in pairs if p["scenario"] not in ("opening_greeting", "closing") and p["keep"]][:30]
    for o in others:
        j = join_pairs([o, greet], rng, max_draft=500, max_ref=500)
        assert j is not None and j["reference"].startswith(greet["reference"][:4])
        assert all(k in j["draft"] and k in j["reference"] for k in j["keep"])
        assert set(o["keep"]) <= set(j["keep"])


# --- feedback store ---------------------------------------------------------------------------


def test_feedback_masks_phone_and_id_numbers(tmp_path):
    from rewrite.serve.feedback import append_pair, mask_private, read_pairs as read_feedback

    assert mask_private("电话13812345678，身份证110105199001011234") == "电话138****5678，身份证110105********1234"
    assert mask_private("订单号2024031567821 拨打10086") == "订单号2024031567821 拨打10086"
    path = tmp_path / "fb.jsonl"
    rec = append_pair({"draft": "你打13812345678找我", "reference": "您可以拨打13812345678联系我。",
                       "keep": ["13812345678"], "domain": "telecom", "scenario": "follow_up_callback",
                       "channel": "phone"}, path=path)
    assert rec["keep"] == ["138****5678"] and "13812345678" not in path.read_text(encoding="utf-8")
    assert rec["source"].startswith("feedback:") and rec["id"].startswith("feedback-")
    pairs, problems = read_feedback(path)
    assert problems == [] and pairs[0]["draft"] == "你打138****5678找我"
    with pytest.raises(DataError, match="domain"):
        append_pair({"draft": "a", "reference": "b", "domain": "x", "scenario": "refund", "channel": "chat"}, path=path)
    assert read_feedback(tmp_path / "none.jsonl") == ([], [])


_WRITER = """
import sys
from rewrite.serve.feedback import append_pair
w, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    append_pair({"id": f"fb-{w}-{i}", "draft": "你等会" + "啊" * (i % 7) * 300, "reference": "请您稍等。" + w * 2000,
                 "domain": "telecom", "scenario": "hold_for_query", "channel": "phone"})
"""


def test_feedback_concurrent_appends_lose_nothing(tmp_path):
    import threading

    from rewrite.serve.feedback import append_pair

    path = tmp_path / "fb.jsonl"
    env = {**os.environ, "REWRITE_FEEDBACK_PATH": str(path)}
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, w, "60"], env=env, cwd=REPO) for w in "abcd"]

    def thread_writer(k: int) -> None:
        for i in range(40):
            append_pair({"id": f"fb-t{k}-{i}", "draft": "好的", "reference": "好的。" * 500, "domain": "bank",
                         "scenario": "closing", "channel": "chat"}, path=path)

    threads = [threading.Thread(target=thread_writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p.wait(timeout=60) == 0 for p in procs)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    recs = [json.loads(l) for l in lines[:-1]]  # any interleaving breaks the JSON
    ids = [r["id"] for r in recs]
    assert len(ids) == 4 * 60 + 3 * 40 == len(set(ids))


def test_build_includes_feedback_with_provenance(tmp_path):
    from rewrite.serve.feedback import append_pair

    wd = tmp_path / "written"
    _write(wd / "a.jsonl", [_pair(i) for i in range(1, 30)])
    fb = tmp_path / "fb.jsonl"
    rec = append_pair({"draft": "宽带坏了就等着 师傅明天来", "reference": "非常抱歉给您带来不便，维修师傅明天上门为您处理。",
                       "keep": ["明天"], "domain": "broadband", "scenario": "repair_appointment", "channel": "phone"}, path=fb)
    rc = B.main(["build", "--written-dir", str(wd), "--out", str(tmp_path / "out"), "--target-size", "0",
                 "--no-progress", "--no-dataset", "--include-feedback", str(fb), "--bench", str(fb)])
    assert rc == 0
    rows = [json.loads(l) for f in ("train.jsonl", "validation.jsonl")
            for l in (tmp_path / "out" / f).read_text(encoding="utf-8").splitlines()]
    # The feedback pair equals its own bench entry here, so the guard must drop it...
    assert all(r["id"] != rec["id"] for r in rows)
    rc = B.main(["build", "--written-dir", str(wd), "--out", str(tmp_path / "out2"), "--target-size", "0",
                 "--no-progress", "--no-dataset", "--include-feedback", str(fb), "--bench", str(_write(tmp_path / "bench.jsonl", [_pair(500, draft="无关的草稿")]))])
    rows = [json.loads(l) for f in ("train.jsonl", "validation.jsonl")
            for l in (tmp_path / "out2" / f).read_text(encoding="utf-8").splitlines()]
    got = [r for r in rows if r["id"] == rec["id"]]
    # ...and keep it, with its provenance, when it leaks nothing.
    assert rc == 0 and len(got) == 1 and got[0]["source"] == rec["source"]


@pytest.mark.skipif(not HAS_CHECKER, reason="rewrite.norms.checker not built yet")
def test_failing_references_are_excluded_and_listed_or_abort_with_strict(tmp_path, capsys):
    wd = tmp_path / "written"
    rows = [_pair(i) for i in range(1, 30)]
    rows.append(_pair(77, draft="不知道 去营业厅问", reference="这个我不知道，你去营业厅问吧。", keep=[]))
    _write(wd / "a.jsonl", rows)
    bench = _write(tmp_path / "bench.jsonl", [_pair(500, draft="无关的草稿")])
    common = ["build", "--written-dir", str(wd), "--target-size", "60", "--no-progress", "--no-dataset", "--bench", str(bench)]
    assert B.main([*common, "--out", str(tmp_path / "out")]) == 0
    card = (tmp_path / "out" / "CARD.md").read_text(encoding="utf-8")
    assert "t-0077 (a.jsonl:30)" in card
    rows_out = (tmp_path / "out" / "train.jsonl").read_text(encoding="utf-8") + (tmp_path / "out" / "validation.jsonl").read_text(encoding="utf-8")
    assert "t-0077" not in rows_out
    capsys.readouterr()
    assert B.main([*common, "--out", str(tmp_path / "strict"), "--strict"]) == 2
    assert "t-0077" in capsys.readouterr().err
