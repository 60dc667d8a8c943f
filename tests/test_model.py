"""The seq2seq rewriter end to end with a real tiny model trained inside the suite.

A BART with d_model 32 and 1+1 layers memorises a handful of pairs in a few seconds through
``rewrite.engines.seq2seq.train.main``; it then drives the tokenizer, placeholders, beam candidates, OOV
carry-through, the pipeline's fallback, resume, CTranslate2 export and ``--base-model``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewrite.engines.seq2seq.backend import Seq2SeqBackend, shipped_model_dir, weights_file
from rewrite.errors import ModelNotFoundError
from rewrite.protect import protect_for_model
from rewrite.engines.seq2seq.tokenizer import CharTokenizer
from rewrite.engines.seq2seq.train import main as train_main
from rewrite.engines.seq2seq.train import mask_pair

pytestmark = pytest.mark.slow

PAIRS = [
    {"draft": "喂 说吧什么事", "reference": "您好，请问有什么可以帮您？", "keep": [], "channel": "phone"},
    {"draft": "等下 我查查", "reference": "请您稍等，我为您查询。", "keep": [], "channel": "phone"},
    {"draft": "退款58元已经退了", "reference": "您好，退款58元已经原路退回，请您查收。", "keep": ["58元"], "channel": "chat"},
    # A literal <OOV1> teaches the model to carry the backend's out-of-vocabulary placeholder.
    {"draft": "你的包裹<OOV1>到了 来领取吧", "reference": "您好，您的包裹<OOV1>已经到了，请您前来领取。", "keep": [], "channel": "phone"},
]
TINY = ["--d-model", "32", "--encoder-layers", "1", "--decoder-layers", "1", "--attention-heads", "2", "--ffn-dim", "64",
        "--batch-size", "8", "--learning-rate", "3e-3", "--warmup-steps", "20", "--label-smoothing", "0",
        "--denoise-ratio", "0", "--identity-ratio", "0", "--oov-ratio", "0", "--unkeep-ratio", "0",
        "--validation-share", "0", "--eval-steps", "0", "--logging-steps", "50", "--threads", "1", "--progress", "false"]


def _write_pairs(path: Path) -> Path:
    rows = [dict(p, id=f"t-{i}") for i, p in enumerate(PAIRS * 2)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    data = _write_pairs(root / "pairs.jsonl")
    out = root / "model"
    assert train_main(["--data", str(data), "--output-dir", str(out), "--max-steps", "300", "--save-steps", "150", *TINY]) == 0
    return out


def test_tokenizer_roundtrip_and_oov(tmp_path):
    tok = CharTokenizer.build(["您好，请问有什么可以帮您？", "<AMT1>元 hello\n"])
    text = "您好 <AMT1>，<ENT3>\n可以"
    assert tok.detokenize(tok.tokenize(text)) == text
    assert "<AMT1>" in tok.tokenize(text) and "<ENT3>" in tok.tokenize(text)  # single tokens
    masked, slots = tok.mask_oov("您好㐀㐁，您好㐂，可以㐀㐁")
    assert masked == "您好<OOV1>，您好<OOV2>，可以<OOV1>"
    assert slots == {"<OOV1>": "㐀㐁", "<OOV2>": "㐂"} and "<unk>" not in tok.tokenize(masked)
    assert CharTokenizer.restore_oov(masked, slots) == "您好㐀㐁，您好㐂，可以㐀㐁"
    assert tok.oov_ok("<OOV2><OOV1>", slots) and not tok.oov_ok("<OOV1>", slots) and not tok.oov_ok("<OOV1><OOV2><OOV3>", slots)
    tok.save(tmp_path)
    assert CharTokenizer.load(tmp_path).tokens == tok.tokens
    with pytest.raises(ModelNotFoundError):
        CharTokenizer.load(tmp_path / "nope")


def test_mask_pair_substitutes_reference():
    ex, why = mask_pair("退款58元已经退了 找李女士", "您好，李女士，退款58元已经原路退回。", ["58元"])
    assert why == "" and ex.source == "退款<AMT1>已经退了 找<ENT1>"
    assert ex.target == "您好，<ENT1>，退款<AMT1>已经原路退回。"
    assert mask_pair("保证给你提到5万", "您好，提额以审批结果为准。")[1] == "lost_fact"


def test_training_writes_results_and_resumes(tiny_model, tmp_path):
    results = json.loads((tiny_model / "all_results.json").read_text(encoding="utf-8"))
    assert results["step"] == 300 and results["train_loss"] < 1.0
    assert (tiny_model / "checkpoint-300" / "training_state.pt").is_file()
    assert weights_file(tiny_model) is not None and (tiny_model / "char_tokenizer.json").is_file()
    # Resume: a copy of the output dir continues from checkpoint-300 instead of starting over.
    import shutil

    copy = tmp_path / "resumed"
    shutil.copytree(tiny_model, copy)
    data = _write_pairs(tmp_path / "pairs.jsonl")
    assert train_main(["--data", str(data), "--output-dir", str(copy), "--max-steps", "310", "--save-steps", "0", *TINY]) == 0
    info = json.loads((copy / "run_info.json").read_text(encoding="utf-8"))
    assert info["resumed_from"].endswith("checkpoint-300")
    assert json.loads((copy / "all_results.json").read_text(encoding="utf-8"))["step"] == 310


def test_generate_candidates_placeholders_and_oov(tiny_model):
    be = Seq2SeqBackend(tiny_model, engine="hf", beams=4)
    p = protect_for_model("退款58元已经退了")
    assert p.masked == "退款<AMT1>已经退了"
    cands = be.generate([p.masked, "喂 说吧什么事"], n=3, channel="chat")
    assert len(cands) == 2 and all(1 <= len(c) <= 3 for c in cands)
    assert cands[0][0] == "您好，退款<AMT1>已经原路退回，请您查收。"  # memorised, placeholder carried
    assert cands == be.generate([p.masked, "喂 说吧什么事"], n=3, channel="chat")  # deterministic
    # A character the vocabulary never saw is carried through, never turned into <unk>.
    out = be.generate(["你的包裹㐀到了 来领取吧"], n=2, channel="phone")[0]
    assert out and out[0] == "您好，您的包裹㐀已经到了，请您前来领取。"
    assert all("<unk>" not in c and "<OOV" not in c for c in out)
    assert len(be.model_hash) == 12
    # The confidence gate: no candidate has a mean log-probability above 0, so all are dropped.
    assert Seq2SeqBackend(tiny_model, engine="hf", min_score=0.01).generate([p.masked], n=2, channel="chat") == [[]]


def test_missing_model_names_the_fix(tmp_path):
    be = Seq2SeqBackend(tmp_path / "nowhere")
    with pytest.raises(ModelNotFoundError, match="rewrite train"):
        be.generate(["你好"], n=1, channel="phone")


def test_pipeline_uses_model_and_falls_back(tiny_model):
    pytest.importorskip("rewrite.norms.checker", reason="the norms checker (rewrite/norms/checker.py) is not in the tree yet")
    from rewrite.engines.identity import IdentityBackend
    from rewrite.pipeline import Rewriter

    rw = Rewriter(Seq2SeqBackend(tiny_model, engine="hf"), fallback=IdentityBackend())
    res = rw.rewrite("退款58元已经退了", channel="chat")
    assert res.backend == "seq2seq" and "58元" in res.target
    # The tiny model never produced an <ID…> placeholder: every candidate loses the order number,
    # so the pipeline falls back and says so.
    res = rw.rewrite("你的单号SF1234567890查不到", channel="phone")
    assert res.fallback and "SF1234567890" in res.target and res.notes


def test_ct2_export_matches_float32(tiny_model):
    pytest.importorskip("ctranslate2")
    from rewrite.engines.seq2seq.export import compare_engines, convert

    out = convert(tiny_model)
    assert (out / "model.bin").is_file()
    report = compare_engines(tiny_model, [p["draft"].replace("<OOV1>", "㐀") for p in PAIRS])
    assert report["n"] == len(PAIRS) and report["exact_match"] >= 75.0, report
    be = Seq2SeqBackend(tiny_model, engine="auto")
    assert be.generate(["喂 说吧什么事"], n=2, channel="phone")[0][0] == "您好，请问有什么可以帮您？"
    assert be.engine == "ct2"
    # The speed comparison the eval harness prints: both engines, same model and drafts.
    from rewrite.evaluation.bench_speed import bench_speed

    speed = bench_speed([p["draft"] for p in PAIRS[:3]], tiny_model, beams=2)
    for engine in ("ct2", "hf"):
        assert speed[engine]["n"] == 3 and speed[engine]["median_ms"] > 0 and speed[engine]["drafts_per_s"] > 0, speed
    assert speed["speedup_median"] > 0


def test_base_model_fine_tunes(tmp_path):
    from transformers import BartConfig, BartForConditionalGeneration

    base = tmp_path / "base"
    cfg = BartConfig(vocab_size=50, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                     decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=128)
    BartForConditionalGeneration(cfg).save_pretrained(base)
    data = _write_pairs(tmp_path / "pairs.jsonl")
    out = tmp_path / "tuned"
    assert train_main(["--data", str(data), "--output-dir", str(out), "--base-model", str(base), "--max-steps", "5", *TINY]) == 0
    conf = json.loads((out / "config.json").read_text(encoding="utf-8"))
    tok = CharTokenizer.load(out)
    assert conf["d_model"] == 16 and conf["vocab_size"] == len(tok)
    assert Seq2SeqBackend(out, engine="hf").generate(["你好"], n=1, channel="phone")[0] is not None


def test_bad_training_input_is_a_clear_error(tmp_path, capsys):
    assert train_main(["--data", str(tmp_path / "missing"), "--output-dir", str(tmp_path / "o"), *TINY]) == 2
    assert "找不到训练数据" in capsys.readouterr().err


@pytest.mark.skipif(weights_file(shipped_model_dir()) is None, reason="rewrite/shipped has no trained model yet (run `rewrite train` and ship it)")
def test_shipped_model_rewrites_seed_drafts():
    pytest.importorskip("rewrite.norms.checker", reason="the norms checker (rewrite/norms/checker.py) is not in the tree yet")
    from rewrite import load_rewriter

    seeds = Path(__file__).resolve().parent.parent / "eval" / "bench" / "seed.jsonl"
    rows = [json.loads(line) for line in seeds.read_text(encoding="utf-8").splitlines() if line.strip()][:8]
    rw = load_rewriter("seq2seq")
    for row, res in zip(rows, rw.rewrite_batch([r["draft"] for r in rows], channel="phone", keep=[r["keep"] for r in rows])):
        assert res.findings_after == [], (row["draft"], res.target, res.findings_after)
        assert all(span in res.target for span in row["keep"]), (row["keep"], res.target)


@pytest.mark.parametrize(
    "source, candidate, at_least, below",
    [
        ("包年的发票开过一次了 不能重复开", "非常抱歉，包年费用的发票已经开具过一次，无法重复开具。", 0.7, 1.01),
        ("包年的发票开过一次了 不能重复开", "非常抱歉，包年目前暂时无法发货，请您留意查收。", 0.0, 0.7),
        ("喂 说吧什么事", "您好，请问有什么可以帮您？", 1.0, 1.01),  # too little content to judge
        ("<ENT1>的<AMT1>退了", "您好，<ENT1>的<AMT1>已经退回。", 1.0, 1.01),  # placeholders are the pipeline's job
    ],
)
def test_content_coverage(source, candidate, at_least, below):
    from rewrite.engines.seq2seq.backend import content_coverage

    assert at_least <= content_coverage(source, candidate) < below


def test_a_candidate_that_says_a_stretch_twice_is_a_loop():
    """The model once answered 亲，回复晚了，刚才太忙了，你就不能等一会 with its whole reply twice; the gate
    drops such a candidate, but a draft's own repetition may stay."""
    from rewrite.text import repeats

    loop = "非常抱歉让您久等了，刚才回复晚了，请问有什么可以帮您？非常抱歉让您久等了，刚才回复晚了，请问有什么可以帮您？"
    assert repeats("亲，回复晚了，刚才太忙了，你就不能等一会", loop)
    assert not repeats("您好", "您好，请问还有什么可以帮您？")
    assert not repeats("三分钟准到 三分钟准到啊", "三分钟准到，三分钟准到。")  # the draft said it twice
    assert not repeats("你明天要取30万 预约时说你要取30万", "您明天要取30万，预约时说您要取30万。")  # 你 → 您
    assert not repeats("你明天要取30万 今天打电话约 预约时说你要取30万 网点是人民路",
                       "您明天要取30万，今天打电话约，预约时说您要取30万，网点是人民路。")  # commas for spaces
    assert not repeats("把手机号后四位发过来 再把运单号报一下", "麻烦您提供一下手机号后四位，再麻烦您提供一下运单号。")


def test_the_pipeline_never_sends_a_reply_that_loops():
    """Any engine (an LLM too) may loop: the pipeline takes such a candidate as failed and falls back."""
    from rewrite.engines.rules import RulesBackend
    from rewrite.pipeline import Rewriter

    class Looping:
        name = "looping"

        def generate(self, chunks, *, n=1, channel="phone"):
            return [["非常抱歉让您久等了，刚才回复晚了。非常抱歉让您久等了，刚才回复晚了。"] for _ in chunks]

    res = Rewriter(Looping(), RulesBackend()).rewrite("亲，回复晚了，刚才太忙了", channel="chat")
    assert res.target.count("回复晚了") == 1 and res.fallback, res.target


def test_train_help_lists_the_flags(capsys):
    assert train_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--base-model" in out and "--time-budget-min" in out and "--output-dir" in out


def test_clause_split_joins_training_as_pairs(tmp_path):
    """--clause-data: aligned clauses (kept or rewritten) become pairs; dropped clauses, which
    have no target, and broken fields do not."""
    from rewrite.engines.seq2seq.train import clause_records

    rows = [
        {"clause": "材料费你自己出", "target": "材料费需要由您承担", "fate": "rewritten", "channel": "phone"},
        {"clause": "师傅明天去", "target": "师傅明天上门", "fate": "kept", "channel": "chat", "keep": ["明天", "后天"]},
        {"clause": "你急啥", "target": "", "fate": "dropped", "channel": "phone"},
        {"clause": None, "target": "x", "fate": "kept"},
    ]
    f = tmp_path / "clauses_train.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    got = clause_records(str(f), 1.0, 42)
    assert [(r["draft"], r["reference"], r["channel"]) for r in got] == [
        ("材料费你自己出", "材料费需要由您承担", "phone"), ("师傅明天去", "师傅明天上门", "chat")]
    assert got[1]["keep"] == ["明天"]
    assert clause_records(str(f), 0.0, 42) == []
