"""The edit model: labels from alignment, a real tiny tagger trained inside the suite, the edit
backend through the pipeline, and the shipped edit model on seed drafts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewrite import load_rewriter
from rewrite.engines.edit.backend import EditBackend, shipped_edit_dir
from rewrite.engines.edit.model import IGNORE, PHRASES_FILE, align, apply_labels, edit_labels, main as train_edit_main, mine_phrases
from rewrite.errors import ModelNotFoundError


def test_labels_reproduce_a_reachable_target():
    src, tgt = ["嗯", "▁", *"我查一下"], list("您好，请您稍等，我查一下。")
    keep, ins, _ = align(src, tgt)
    phrases = ["", *sorted({x for x in ins if x})]
    labels, reachable = edit_labels(src, tgt, {p: i for i, p in enumerate(phrases)})
    assert reachable and IGNORE not in labels
    assert apply_labels(src, labels, phrases) == "您好，请您稍等，我查一下。"


def test_unlisted_replacement_and_content_deletion_are_not_taught():
    # 重置不了 → 无法重置: the replacement text is not a listed phrase, so the pair must not teach
    # the model to delete 不了 (that would reverse the decision).
    src, tgt = list("密码重置不了"), list("非常抱歉，密码无法重置")
    labels, reachable = edit_labels(src, tgt, {"": 0, "非常抱歉，": 1})
    assert not reachable
    assert labels[0] == 1 * 2 + 0  # the listed opening is still taught
    assert all(l == IGNORE or l % 2 == 0 for l in labels)  # nothing is taught to be deleted
    # Dropping a filler is fine to teach; dropping content without a replacement is not.
    labels, _ = edit_labels(["嗯", "▁", *"快递到了"], list("快递到了"), {"": 0})
    assert labels[:3] == [1, 1, 0]
    labels, _ = edit_labels(list("快递明天到了"), list("快递到了"), {"": 0})
    assert labels[2] == IGNORE and labels[3] == IGNORE


def test_phrases_count_distinct_written_pairs():
    pairs = [(list("查一下"), list("您好，查一下"), "a")] * 5 + [(list("到了"), list("感谢您，到了"), "b"), (list("好"), list("感谢您，好"), "c")]
    assert mine_phrases(pairs, 10, 2) == ["", "感谢您，"]  # 您好， is one pair copied five times
    assert mine_phrases(pairs, 10, 1)[:3] == ["", "感谢您，", "您好，"]
    # A phrase holding a placeholder would invent a fact: never listed.
    with_fact = [(["到", "了"], ["<AMT1>", "到", "了"], o) for o in "xyz"]
    assert mine_phrases(with_fact, 10, 1) == [""]


DRAFTS = ["退款58元已经退了", "等下 我查查", "你的快递明天到", "喂 说吧什么事", "保修期是一年", "这个没货了"]


@pytest.fixture(scope="module")
def tiny_edit(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide tagger that learns to open every reply with 您好，"""
    root = tmp_path_factory.mktemp("edit")
    rules = load_rewriter("rules")
    rows = []
    for i, d in enumerate(DRAFTS * 3):
        out = rules.rewrite(d).target
        ref = out if out.startswith("您好") else "您好，" + out
        rows.append({"id": f"e-{i}", "origin": f"o-{i % len(DRAFTS)}", "draft": d, "reference": ref, "keep": [], "channel": "phone"})
    data = root / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = root / "model"
    code = train_edit_main([
        "--data", str(data), "--output_dir", str(out), "--hidden_size", "32", "--layers", "1", "--heads", "2",
        "--ffn_dim", "64", "--max_steps", "120", "--batch_size", "8", "--learning_rate", "5e-3", "--warmup_steps", "10",
        "--min_phrase_count", "2", "--denoise_ratio", "0", "--eval_steps", "0", "--threads", "1", "--progress", "false",
        "--validation_share", "0",
    ])
    assert code == 0
    return out


@pytest.mark.slow
def test_tiny_edit_model_learns_and_never_invents(tiny_edit):
    results = json.loads((tiny_edit / "all_results.json").read_text(encoding="utf-8"))
    assert results["steps"] == 120 and results["phrases"] >= 2
    phrases = json.loads((tiny_edit / PHRASES_FILE).read_text(encoding="utf-8"))["phrases"]
    assert "您好，" in phrases
    rw = load_rewriter("edit", model_dir=tiny_edit, guard_fine=False)  # the model itself, not the do-no-harm gate
    res = rw.rewrite("退款58元已经退了")
    assert res.target.startswith("您好") and "58元" in res.target and not res.findings_after
    allowed = set("".join(phrases)) | set("，。？！ ")
    for draft in ["你的订单88元明天不发货", "发票不能重复开"]:  # unseen wording
        r = rw.rewrite(draft)
        ruled = load_rewriter("rules", guard_fine=False).rewrite(draft).target
        assert set(r.target) <= set(ruled) | allowed  # every character from the input or a phrase
        assert r.target.count("不") >= draft.count("不")  # negations are never deleted
        assert "88元" in r.target or "88" not in draft


@pytest.mark.slow
def test_base_model_continues_training(tiny_edit, tmp_path):
    data = tmp_path / "p.jsonl"
    rows = [{"draft": f"等下 我查查{i}号", "reference": f"您好，请您稍等，我查一下{i}号。"} for i in range(10)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "cont"
    assert train_edit_main(["--data", str(data), "--output_dir", str(out), "--base_model", str(tiny_edit), "--max_steps", "3",
                            "--batch_size", "4", "--denoise_ratio", "0", "--eval_steps", "0", "--threads", "1", "--progress", "false"]) == 0
    assert json.loads((out / PHRASES_FILE).read_text(encoding="utf-8")) == json.loads((tiny_edit / PHRASES_FILE).read_text(encoding="utf-8"))


def test_missing_edit_model_names_the_fix(tmp_path):
    with pytest.raises(ModelNotFoundError, match="train-edit"):
        EditBackend(model_dir=tmp_path / "none").load()


def test_bad_edit_training_input_is_a_clear_error(tmp_path, capsys):
    assert train_edit_main(["--data", str(tmp_path / "missing"), "--output_dir", str(tmp_path / "o")]) == 2
    assert "rewrite data build" in capsys.readouterr().err
    one = tmp_path / "one.jsonl"  # a single pair whose draft lands in validation: nothing to train on
    one.write_text(json.dumps({"draft": "保修期是一年", "reference": "您好，保修期是一年。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    code = train_edit_main(["--data", str(one), "--output_dir", str(tmp_path / "o"), "--validation_share", "1.0"])
    assert code == 2 and "没有可用的训练样本" in capsys.readouterr().err


@pytest.mark.slow
def test_shipped_edit_model_rewrites_seed_drafts():
    assert (shipped_edit_dir() / "model.safetensors").is_file() and (shipped_edit_dir() / "inference.json").is_file()
    rw = load_rewriter("edit")
    items = [json.loads(l) for l in Path("eval/bench/seed.jsonl").read_text(encoding="utf-8").splitlines()[:40]]
    for it in items:
        res = rw.rewrite(it["draft"], keep=it.get("keep") or [])
        assert not res.findings_after, (it["draft"], res.target)
        for k in it.get("keep") or []:
            assert k in res.target, (k, res.target)


class _Echo:
    """A 'model' whose only candidate is the draft itself (so a casual draft always fails)."""

    name = "echo"
    use_fallback = True

    def __init__(self, candidates=None):
        self.candidates = candidates

    def generate(self, chunks, *, n=1, channel="phone"):
        return [[self.candidates or c] for c in chunks]


@pytest.mark.slow
def test_failed_chunks_fall_back_to_edit_then_rules(tiny_edit):
    from rewrite.engines.rules import RulesBackend
    from rewrite.pipeline import Rewriter

    draft = "退款58元已经退了，你查下。"  # finished, so no bare-reply frame on top (tested in test_plan)
    ruled = load_rewriter("rules").rewrite(draft).target
    rw = Rewriter(_Echo(), EditBackend(model_dir=tiny_edit), last_resort=RulesBackend())
    res = rw.rewrite(draft)
    assert res.fallback and not res.findings_after and "58元" in res.target
    assert "edit 引擎润色" in res.notes[0]
    # the edit engine's first candidate for the chunk (the edit engine's own pipeline may now
    # choose differently: there its candidates also face the critic)
    from rewrite.protect import protect_for_model, restore

    p = protect_for_model(draft)
    first = EditBackend(model_dir=tiny_edit).generate([p.masked], n=2, channel="phone")[0][0]
    assert res.target == restore(first, p.slots)
    # When the fallback's candidates fail too, the last resort (rules) answers.
    rw = Rewriter(_Echo(), _Echo("你自己查"), last_resort=RulesBackend())
    res = rw.rewrite(draft)
    assert res.target == ruled and res.fallback and "润色" not in res.notes[0]


@pytest.mark.slow
def test_thresholds_are_tuned_on_validation(tiny_edit, tmp_path):
    import shutil

    from rewrite.engines.edit.model import THRESHOLDS, EditTagger, tune_insert_prob

    model = tmp_path / "m"
    shutil.copytree(tiny_edit, model)
    rules = load_rewriter("rules")
    val = [(rules.rewrite(d).target, "您好，" + rules.rewrite(d).target, "phone", "pair", "v") for d in DRAFTS[:3]]
    info = tune_insert_prob(model, val)
    assert info["min_frame_prob"] in THRESHOLDS and info["min_insert_prob"] in THRESHOLDS
    assert info["validation_chrf"] == max(info["grid"].values())
    assert json.loads((model / "inference.json").read_text(encoding="utf-8"))["min_insert_prob"] == info["min_insert_prob"]
    tagger = EditTagger(model)
    assert (tagger.min_frame_prob, tagger.min_insert_prob) == (info["min_frame_prob"], info["min_insert_prob"])
    # Above 1, nothing is ever inserted: the output is the input (tidied).
    toks, logp = tagger.score([val[0][0]], "phone", [(True, True)])[0]
    assert tagger.decode(toks, logp, frame_prob=1.01, insert_prob=1.01)[0] == val[0][0]


@pytest.mark.slow
def test_int8_matches_float32_on_seed_drafts():
    fp32 = load_rewriter("edit", quantize=False)
    int8 = load_rewriter("edit")
    drafts = [json.loads(l)["draft"] for l in Path("eval/bench/seed.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
    a = [fp32.rewrite(d).target for d in drafts]
    b = [int8.rewrite(d).target for d in drafts]
    assert int8.backend.engine == "numpy-int8" and fp32.backend.engine == "numpy"
    assert sum(x == y for x, y in zip(a, b)) >= 0.95 * len(drafts)


def test_an_opening_is_a_whole_frame_never_a_stray_word():
    """The shipped model once put 这里是 / 经 / 维 in front of a reply (这里是物流显示签收了…): at the
    reply's start only a whole frame ending in a comma (您好，/ 非常抱歉，/ 亲，) may go in; where the
    model's best opening is anything else, nothing is inserted."""
    import numpy as np

    from rewrite.engines.edit.model import _OPENING

    for good in ("您好，", "非常抱歉，", "亲，", "对不起，您的"):
        assert _OPENING.search(good), good
    for bad in ("这里是", "经", "维", "请", "您的", "为您", "现在"):
        assert not _OPENING.search(bad), bad
    tagger = load_rewriter("edit").backend
    tagger.load()
    tagger = tagger._tagger
    phrases = list(tagger.phrases)
    stray = next(i for i, p in enumerate(phrases) if p == "这里是")
    frame = next(i for i, p in enumerate(phrases) if p == "您好，")
    toks = list("物流显示签收了")
    for pid, want in ((stray, "物流显示签收了"), (frame, "您好，物流显示签收了")):
        logp = np.full((len(toks) + 1, 2 * len(phrases)), -20.0)
        logp[:, 0] = -0.01  # keep every token, insert nothing …
        logp[0, 0] = -5.0
        logp[0, 2 * pid] = -0.01  # … except the model's sure choice at the start
        assert tagger.decode(toks, logp)[0] == want
