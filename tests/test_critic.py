"""The clause critic: labels from the corpus alignment, training with a real (tiny) model, numpy
inference equal to the transformers forward pass, and the checker's two sources with a clean
fall-back when the model is missing or corrupt."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rewrite.norms import critic as C
from rewrite.norms.critic_train import clause_examples, tune_threshold

ROOT = Path(__file__).resolve().parents[1]


def test_clause_spans_cover_every_clause():
    text = "三年内不能销户 协议写了，您签了字的。"
    assert [text[s:e] for s, e in C.clause_spans(text)] == ["三年内不能销户", "协议写了", "您签了字的"]
    assert C.clause_spans("") == [] and C.clause_spans("，。") == []


def test_labels_come_from_must_fix_spans_and_references():
    pair = {"draft": "三年内不能销户 协议写了 你签了字的", "reference": "非常抱歉，三年内不能销户。",
            "must_fix": ["你签了字的"], "categories": ["blame"]}
    ex = clause_examples(pair)
    assert ex[:3] == [("三年内不能销户", pair["draft"], "ok"), ("协议写了", pair["draft"], "ok"),
                      ("你签了字的", pair["draft"], "blame")]
    assert ex[3:] == [("非常抱歉", pair["reference"], "ok"), ("三年内不能销户", pair["reference"], "ok")]
    # a span across two clauses labels both; an already-professional pair gives its clauses once
    two = clause_examples({"draft": "急也没用 等着吧", "reference": "请您耐心等待。", "must_fix": ["急也没用 等着吧"], "categories": ["impatience"]})
    assert [e[2] for e in two[:2]] == ["impatience", "impatience"]
    same = clause_examples({"draft": "亲，在的呢~", "reference": "亲，在的呢~", "must_fix": [], "categories": []})
    assert same == [("亲", "亲，在的呢~", "ok"), ("在的呢", "亲，在的呢~", "ok")]
    # --drop_unkept: an unmarked draft clause the reference does not keep (协议写了) is left out
    kept = clause_examples(pair, drop_unkept=True)
    assert [e[0] for e in kept if e[1] == pair["draft"]] == ["三年内不能销户", "你签了字的"]
    assert clause_examples(dict(pair, must_fix=[], categories=[]), drop_unkept=True) == clause_examples(dict(pair, must_fix=[], categories=[]))
    from rewrite.norms.critic_train import framed_examples

    framed = framed_examples(pair, 0, drop_unkept=True)
    assert ("协议写了", framed[0][1], "ok") not in framed and ("非常抱歉", framed[0][1], "ok") in framed


def test_threshold_tuning_prefers_recall_at_the_precision_floor():
    p_ok = [0.1, 0.2, 0.3, 0.6, 0.9, 0.95]
    offending = [True, True, True, False, True, False]
    row = tune_threshold(p_ok, offending, 0.9)
    # t in (0.3, 0.6]: flags the first three, precision 1.0, recall 0.75; any t > 0.6 drops precision
    assert row["precision"] == 1.0 and row["recall"] == 0.75 and 0.3 < row["threshold"] <= 0.6


def test_critic_categories_are_norms_data():
    from rewrite.norms.load import load_critic_categories, load_phrasebook

    cats = load_critic_categories()
    assert set(cats) == set(C.LABELS[1:])
    scenarios = {sc.id for sc in load_phrasebook().scenarios}
    for cid, d in cats.items():
        assert d["phrasebook"] and all(s in scenarios for s in d["phrasebook"]), cid


@pytest.fixture(scope="module")
def tiny_critic(tmp_path_factory):
    """A real critic trained for a few steps on 200 corpus pairs (seconds on CPU)."""
    from rewrite.norms.critic_train import main

    out = tmp_path_factory.mktemp("critic")
    rc = main(["--output_dir", str(out), "--limit_pairs", "200", "--max_steps", "6", "--hidden_size", "32",
               "--layers", "1", "--heads", "2", "--intermediate_size", "64", "--batch_size", "16"])
    assert rc == 0
    return out


@pytest.mark.slow
def test_training_writes_a_loadable_model_and_its_numbers(tiny_critic):
    for name in ("weights.npz", "vocab.json", "critic.json", "all_results.json"):
        assert (tiny_critic / name).is_file(), name
    meta = json.loads((tiny_critic / "critic.json").read_text(encoding="utf-8"))
    assert meta["labels"] == list(C.LABELS) and 0 < meta["threshold"] < 1
    assert meta["trained"]["steps"] == 6
    results = json.loads((tiny_critic / "all_results.json").read_text(encoding="utf-8"))
    assert results["clause_set"]["clauses"] >= 1500


@pytest.mark.slow
def test_numpy_inference_equals_the_transformers_forward(tiny_critic):
    import numpy as np
    import torch
    from transformers import BertForSequenceClassification

    m = C.load_model(tiny_critic)
    hf = BertForSequenceClassification.from_pretrained(str(tiny_critic / "hf")).eval()
    pairs = [("您签了字的", "三年内不能销户，协议写了，您签了字的。"), ("亲", "亲，在的呢~"), ("x" * 60, "y" * 200)]
    got = m.encoder_probs(pairs)
    enc = [C.encode(m.vocab, c, x) for c, x in pairs]
    L = max(len(i) for i, _ in enc)
    ids, types, mask = (torch.zeros(len(enc), L, dtype=torch.long) for _ in range(3))
    for k, (i, t) in enumerate(enc):
        ids[k, : len(i)], types[k, : len(t)], mask[k, : len(i)] = torch.tensor(i), torch.tensor(t), 1
    # the shipped word embeddings are stored in float16; compare against the same rounding
    with torch.no_grad():
        w = hf.bert.embeddings.word_embeddings.weight
        w.copy_(w.half().float())
        want = torch.softmax(hf(input_ids=ids, token_type_ids=types, attention_mask=mask).logits, -1).numpy()
    assert np.abs(got - want).max() < 1e-4
    assert len(enc[2][0]) <= C.MAX_LEN


@pytest.mark.slow
def test_checker_reports_both_sources(tiny_critic, monkeypatch):
    from rewrite import check

    meta_path = tiny_critic / "critic.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    forced = tiny_critic.parent / "forced"
    shutil.copytree(tiny_critic, forced, dirs_exist_ok=True)
    meta["threshold"] = 1.01  # flags every clause: the shape of model findings is what is tested
    (forced / "critic.json").write_text(json.dumps(meta), encoding="utf-8")
    monkeypatch.setenv(C.CRITIC_DIR_ENV, str(forced))
    C.clear_cache()
    rep = check("喂，您签了字的", channel="phone")
    sources = {f.source for f in rep.findings}
    assert sources == {"rule", "model"} and rep.notes == []
    model = [f for f in rep.findings if f.source == "model"]
    assert [f.text for f in model] == ["喂", "您签了字的"]
    for f in model:
        assert f.rule_id.startswith("critic.") and 0 <= f.confidence <= 1 and f.explanation and f.category
    d = rep.to_dict()
    assert {f["source"] for f in d["findings"]} == {"rule", "model"}
    rules_only = check("喂，您签了字的", channel="phone", critic=False)
    assert {f.source for f in rules_only.findings} == {"rule"}
    C.clear_cache()


@pytest.mark.parametrize("damage", ["missing", "corrupt", "mismatch"])
def test_missing_or_corrupt_model_falls_back_to_rules_and_says_so(tmp_path, monkeypatch, damage):
    from rewrite import check

    d = tmp_path / "critic"
    d.mkdir()
    if damage == "corrupt":
        (d / "weights.npz").write_bytes(b"not a zip")
        (d / "vocab.json").write_text("{}")
        (d / "critic.json").write_text("{}")
    elif damage == "mismatch":
        import numpy as np

        np.savez(d / "weights.npz", **{"emb.word": np.zeros((3, 4))})
        (d / "vocab.json").write_text(json.dumps({"[PAD]": 0}))
        (d / "critic.json").write_text(json.dumps({"labels": list(C.LABELS), "threshold": 0.5, "config": {"num_hidden_layers": 1}}))
    monkeypatch.setenv(C.CRITIC_DIR_ENV, str(d))
    C.clear_cache()
    rep = check("喂，您签了字的", channel="phone")
    assert rep.findings and all(f.source == "rule" for f in rep.findings)
    assert rep.notes and "只用规则检查" in rep.notes[0]
    assert C.critic_status()["available"] is False
    C.clear_cache()


@pytest.mark.slow
def test_ngram_model_is_mixed_in_as_trained(tiny_critic):
    """The critic ships a hashed n-gram model beside the encoder; inference computes the same
    features and mixes the two with the share tuned on validation."""
    import numpy as np

    m = C.load_model(tiny_critic)
    ng = m.config["ngram"]
    assert 0.0 <= ng["mix"] <= 1.0 and m.weights["ng.w"].shape == (ng["buckets"], len(C.LABELS))
    pairs = [("您签了字的", "三年内不能销户，协议写了，您签了字的。"), ("亲", "亲，在的呢~")]
    assert C.ngram_features(*pairs[0], ng["buckets"]) == C.ngram_features(*pairs[0], ng["buckets"])
    W, b = m.weights["ng.w"], m.weights["ng.b"]  # by hand: softmax of the summed feature rows
    logits = np.stack([W[C.ngram_features(c, x, ng["buckets"])].sum(0) + b for c, x in pairs])
    want_ng = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert np.abs(m.ngram_probs(pairs) - want_ng).max() < 1e-6
    mixed = ng["mix"] * m.encoder_probs(pairs) + (1 - ng["mix"]) * want_ng
    assert np.abs(m.probs(pairs, cascade=False) - mixed).max() < 1e-6
    assert np.allclose(m.probs(pairs).sum(-1), 1.0, atol=1e-5)
    # the cascade: a clause the n-gram model finds acceptable at or above the bound skips the encoder
    m.config["ngram"]["skip_encoder_above"] = float(want_ng[0, 0])  # pair 0 skips, pair 1 maybe not
    got = m.probs(pairs)
    assert np.abs(got[0] - want_ng[0]).max() < 1e-6
    for i in range(len(pairs)):
        want = want_ng[i] if want_ng[i, 0] >= want_ng[0, 0] else mixed[i]
        assert np.abs(got[i] - want).max() < 1e-6


def test_cascade_bound_is_the_lowest_that_keeps_the_flags():
    import numpy as np

    from rewrite.norms.critic_train import tune_cascade

    # n-gram p(ok) .96/.985/.999; the encoder would flag the second clause (mixed p(ok) < .3)
    ng = np.array([[0.96, 0.04], [0.985, 0.015], [0.999, 0.001]])
    enc = np.array([[0.9, 0.1], [0.0, 1.0], [0.99, 0.01]])
    got = tune_cascade(enc, ng, mix=0.7, threshold=0.32, max_changed=0.0)
    assert got["skip_encoder_above"] == 0.99 and got["changed"] == 0.0 and abs(got["encoder_share"] - 2 / 3) < 1e-3
    assert tune_cascade(enc, ng, mix=0.7, threshold=0.32, max_changed=0.5)["skip_encoder_above"] == 0.9


def test_critic_naming_an_ngram_model_it_lacks_is_refused(tmp_path, monkeypatch):
    """critic.json names an n-gram model but weights.npz lacks it: rules only, said so."""
    import numpy as np

    d = tmp_path / "critic"
    d.mkdir()
    vocab = {t: i for i, t in enumerate(C.SPECIALS)}
    w = {"emb.word": np.zeros((len(vocab), 4)), "cls.w": np.zeros((4, len(C.LABELS))), "l0.f.w": np.zeros((4, 4))}
    np.savez(d / "weights.npz", **w)
    (d / "vocab.json").write_text(json.dumps(vocab))
    (d / "critic.json").write_text(json.dumps({"labels": list(C.LABELS), "threshold": 0.5,
                                               "config": {"num_hidden_layers": 1, "ngram": {"buckets": 8, "mix": 0.5}}}))
    with pytest.raises(ValueError):
        C.load_model(d)
    monkeypatch.setenv(C.CRITIC_DIR_ENV, str(d))
    C.clear_cache()
    assert C.load_critic() is None and C.critic_status()["available"] is False
    C.clear_cache()


def test_frame_augmentation_keeps_the_offence_labelled_inside_a_polite_frame():
    from rewrite.norms.critic_train import framed_examples

    pair = {"draft": "三年内不能销户 协议写了 你签了字的", "reference": "非常抱歉，三年内不能销户。",
            "must_fix": ["你签了字的"], "categories": ["blame"]}
    ex = framed_examples(pair)
    ctx = ex[0][1]
    assert ctx.startswith("非常抱歉，") and "您签了字的" in ctx and "你" not in ctx
    assert ("您签了字的", ctx, "blame") in ex and ("非常抱歉", ctx, "ok") in ex
    assert framed_examples(dict(pair, must_fix=[], categories=[])) == []


def test_splice_augmentation_sets_an_offending_clause_inside_its_own_reference():
    from rewrite.norms.critic_train import spliced_examples

    pair = {"draft": "三年内不能销户 协议写了 你签了字的", "reference": "非常抱歉，三年内不能销户，感谢您的理解。",
            "must_fix": ["你签了字的"], "categories": ["blame"]}
    (clause, ctx, label), = spliced_examples(pair, 0)
    assert (clause, label) == ("您签了字的", "blame") and ctx == "非常抱歉，您签了字的，三年内不能销户，感谢您的理解。"
    assert spliced_examples(pair, 1)[0][1] == "非常抱歉，三年内不能销户，您签了字的，感谢您的理解。"
    assert spliced_examples(dict(pair, must_fix=[], categories=[])) == []
    assert spliced_examples(dict(pair, reference=pair["draft"])) == []


def test_courtesy_formulas_are_no_context_for_the_clauses_they_surround():
    text = "您好，房间隔音就这样，嫌吵可以换别家。请问还有什么可以帮您？"
    spans = C.clause_spans(text)
    ctxs = C.contexts(text, spans)
    assert ctxs[1] == ctxs[2] == "房间隔音就这样，嫌吵可以换别家。"
    assert ctxs[0] == ctxs[3] == text  # a formula is judged in the whole reply
    for plain in ("房间隔音就这样，嫌吵可以换别家。", "您好，感谢您的理解。"):  # no formula / all formulas
        assert C.contexts(plain, C.clause_spans(plain)) == [plain] * len(C.clause_spans(plain))
    # 好的 opens a reply; 好的吧 is no formula
    assert not C.FRAME_CLAUSE.match("好的吧") and not C.FRAME_CLAUSE.match("请问您还有什么不满意")


def test_a_polite_close_does_not_talk_the_shipped_critic_out_of_an_offence():
    # With 请问还有什么可以帮您？ as context the v4 critic heard 4 % of the clause set's offences
    # (59 % without it); judged without the formulas, the frame changes nothing.
    model = C.load_critic()
    assert model is not None
    for bare in ("频道少了是版权到期，跟我说没用。", "您签了字的，合同写得清清楚楚。", "搁这儿问我干啥，自己看说明书。"):
        flagged = {v.text for v in C.judge(model, bare) if v.label != "ok"}
        assert flagged, bare
        for head, tail in (("您好，", "请问还有什么可以帮您？"), ("非常抱歉，", "感谢您的理解。")):
            framed = {v.text for v in C.judge(model, head + bare + tail) if v.label != "ok"}
            assert flagged <= framed, (bare, head, tail)
    fine = "您好，您的订单已经发出，预计明天送达。请问还有什么可以帮您？"
    assert all(v.label == "ok" for v in C.judge(model, fine))


def test_rewrite_augmentation_labels_only_what_it_is_sure_of():
    from rewrite.norms.critic_train import rewritten_examples

    pair = {"draft": "快递员忙不过来 你自己到驿站拿", "reference": "非常抱歉，快递员比较忙，麻烦您到驿站取件。",
            "must_fix": ["你自己到驿站拿"], "categories": ["command"]}
    ex = rewritten_examples(pair, lambda d: "非常抱歉，快递员忙不过来，请您自己到驿站拿。感谢您的理解。")
    assert ("请您自己到驿站拿", ex[0][1], "command") in ex and ("非常抱歉", ex[0][1], "ok") in ex
    assert all(c != "快递员忙不过来" for c, _, _ in ex)  # neither sure offence nor formula: left out
    assert rewritten_examples(pair, lambda d: "非常抱歉，快递员比较忙，麻烦您到驿站取件。") == []  # repaired
    assert rewritten_examples(pair, lambda d: d) == []  # untouched: the plain example covers it


def test_the_critic_abstains_on_an_acknowledgement_that_no_rule_faults():
    from rewrite.norms.checker import check, critic_abstains

    for text in ("是的", "在吗", "没问题"):
        assert critic_abstains(text) and not check(text, critic=True).findings, text
    # a rule finding keeps the critic in (不知道); and a longer text is always judged
    assert not critic_abstains("不知道") and not critic_abstains("你签了字的")


def test_priming_a_batch_gives_each_text_the_verdicts_it_gets_alone():
    """The pipeline judges every chunk of a batch in one pass (``prime``) and reads the verdicts back
    from the memo: each text gets the labels it gets when judged alone, a text is judged once, and
    an emptied memo is refilled on demand."""
    model = C.load_critic()
    assert model is not None
    texts = ["你自己去营业厅问吧，我不知道", "您好，您的订单已经发出，预计明天送达。", "急也没用，等着吧", "好的"]
    model.memo.clear()
    alone = [[(v.text, v.label) for v in C.judge(model, t)] for t in texts]
    model.memo.clear()
    primed = C.prime(model, texts + texts[:1])  # a repeated text is judged once
    assert len(primed) == len(texts) and set(model.memo) == set(texts)
    assert [[(v.text, v.label) for v in C.judge(model, t)] for t in texts] == alone
    assert [[(v.text, v.label) for v in p] for p in primed] == alone
    assert C.prime(model, texts) == []  # nothing left to judge
    model.memo.clear()
    assert [(v.text, v.label) for v in C.judge(model, texts[0])] == alone[0]
