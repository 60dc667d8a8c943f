"""The copy mechanism (pointer-generator head) of the seq2seq rewriter, with real tiny models.

The maths: the output is a distribution; with the gate shut it puts all its mass on source
tokens, with the gate open it is the plain model's. Then ``rewrite train --pointer`` trains one
end to end, it resumes, the backend loads it on the transformers engine and copies a name it
was never trained to write, and CTranslate2 export refuses it with a clear message.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from rewrite.engines.seq2seq.backend import Seq2SeqBackend  # noqa: E402
from rewrite.engines.seq2seq.pointer import (  # noqa: E402
    NO_COPY_BELOW,
    PointerBartForConditionalGeneration,
    generate_kwargs,
    is_pointer,
    load_model,
)
from rewrite.engines.seq2seq.train import main as train_main  # noqa: E402

pytestmark = pytest.mark.slow


def _tiny_config():
    from transformers import BartConfig

    return BartConfig(vocab_size=40, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                      decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
                      pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1, forced_eos_token_id=2)


SRC = torch.tensor([[4, 10, 11, 12, 2], [5, 13, 14, 2, 0]])
MASK = (SRC != 0).long()
DEC = torch.tensor([[1, 10, 11], [1, 13, 14]])


def test_distribution_and_gate():
    from transformers import BartForConditionalGeneration

    torch.manual_seed(0)
    plain = BartForConditionalGeneration(_tiny_config()).eval()
    model = PointerBartForConditionalGeneration.from_plain(plain).eval()
    assert is_pointer(model.config) and not is_pointer(plain.config)
    with torch.no_grad():
        probs = model(input_ids=SRC, attention_mask=MASK, decoder_input_ids=DEC).logits.exp()
        assert torch.allclose(probs.sum(-1), torch.ones(2, 3), atol=1e-4)
        # Gate shut (p_gen ≈ 0): every bit of mass lies on a copyable source token.
        model.copy_gate.bias.fill_(-40.0)
        probs = model(input_ids=SRC, attention_mask=MASK, decoder_input_ids=DEC).logits.exp()
        for row in range(2):
            copyable = {int(t) for t, m in zip(SRC[row], MASK[row]) if m and t >= NO_COPY_BELOW}
            mass = probs[row, :, sorted(copyable)].sum(-1)
            assert torch.allclose(mass, torch.ones(3), atol=1e-4), mass
            assert probs[row, :, 2].max() < 1e-6  # eos, pad and the channel tokens are never copied
        # Gate open (p_gen ≈ 1): the plain model's distribution.
        model.copy_gate.bias.fill_(40.0)
        ours = model(input_ids=SRC, attention_mask=MASK, decoder_input_ids=DEC).logits
        theirs = torch.log_softmax(plain(input_ids=SRC, attention_mask=MASK, decoder_input_ids=DEC).logits, -1)
        assert torch.allclose(ours, theirs, atol=1e-4)


def test_learns_to_copy_and_round_trips(tmp_path):
    """A copy task over tokens 10..33: it then copies tokens 34..39, which it never saw at all (a
    plain decoder cannot write a token it was never trained to write)."""
    import random

    torch.manual_seed(0)
    rng = random.Random(0)
    model = PointerBartForConditionalGeneration(_tiny_config())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        seqs = [[rng.randrange(10, 34) for _ in range(4)] for _ in range(16)]
        src = torch.tensor([[4, *s, 2] for s in seqs])
        dec = torch.tensor([[1, *s] for s in seqs])
        lab = torch.tensor([[*s, 2] for s in seqs])
        loss = model(input_ids=src, attention_mask=torch.ones_like(src), decoder_input_ids=dec, labels=lab).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    test = torch.tensor([[4, 37, 11, 35, 18, 2]])
    out = model.generate(input_ids=test, attention_mask=torch.ones_like(test), num_beams=3, max_new_tokens=8,
                         do_sample=False, **generate_kwargs(model, test))
    assert out[0].tolist()[1:6] == [37, 11, 35, 18, 2]
    model.save_pretrained(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert type(again).__name__ == "PointerBartForConditionalGeneration"
    with torch.no_grad():
        a = model(input_ids=SRC, attention_mask=MASK, decoder_input_ids=DEC).logits
        b = again.eval()(input_ids=SRC, attention_mask=MASK, decoder_input_ids=DEC).logits
    assert torch.allclose(a, b, atol=1e-5)


#: Things a parcel desk hands out; the model is trained on the first ones and must copy the last two.
THINGS = ["包裹", "快递", "信件", "钥匙", "发票", "证件", "门卡", "账单", "收据", "样品", "礼品", "雨伞",
          "水杯", "书本", "衣服", "鞋子", "电脑", "手表", "眼镜", "耳机", "护照", "合同"]
PAIRS = [{"draft": f"你的{t}到了 来领取吧", "reference": f"您好，您的{t}已经到了，请您前来领取。", "keep": [], "channel": "phone"}
         for t in THINGS[:-2]]
# 护照 and 合同 occur only in a draft, never in a reference: writing them takes copying.
PAIRS.append({"draft": "护照合同不用管", "reference": "您好，请问有什么可以帮您？", "keep": [], "channel": "phone"})
TINY = ["--d-model", "32", "--encoder-layers", "1", "--decoder-layers", "1", "--attention-heads", "2", "--ffn-dim", "64",
        "--batch-size", "8", "--learning-rate", "5e-3", "--warmup-steps", "20", "--label-smoothing", "0",
        "--denoise-ratio", "0", "--identity-ratio", "0", "--oov-ratio", "0", "--unkeep-ratio", "0",
        "--validation-share", "0", "--eval-steps", "0", "--logging-steps", "50", "--threads", "1", "--progress", "false"]


def test_rewrite_train_pointer_end_to_end(tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(dict(p, id=f"p-{i}"), ensure_ascii=False) for i, p in enumerate(PAIRS * 3)) + "\n",
                    encoding="utf-8")
    out = tmp_path / "model"
    assert train_main(["--data", str(data), "--output-dir", str(out), "--pointer", "--max-steps", "300",
                       "--save-steps", "150", *TINY]) == 0
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["pointer_generator"] is True
    be = Seq2SeqBackend(out, engine="auto", beams=2, min_score=float("-inf"), min_coverage=0.0)
    got = be.generate(["你的包裹到了 来领取吧", "你的护照到了 来领取吧"], n=1, channel="phone")
    assert be.engine == "hf"  # the copy head does not run on CTranslate2
    assert got[0] == ["您好，您的包裹已经到了，请您前来领取。"], got  # a pair it was trained on
    # 护照 was never in a reference: only the copy head can have written it.
    assert got[1] and "护" in got[1][0], got
    # Resume keeps the copy head.
    assert train_main(["--data", str(data), "--output-dir", str(out), "--pointer", "--max-steps", "305",
                       "--save-steps", "0", *TINY]) == 0
    assert json.loads((out / "run_info.json").read_text(encoding="utf-8"))["resumed_from"].endswith("checkpoint-300")
    assert is_pointer(load_model(out).config)


def test_base_model_gets_a_copy_head_and_export_refuses(tmp_path):
    from transformers import BartForConditionalGeneration

    from rewrite.engines.seq2seq.export import convert
    from rewrite.errors import RewriteError

    base = tmp_path / "base"
    BartForConditionalGeneration(_tiny_config()).save_pretrained(base)
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(dict(p, id=f"p-{i}"), ensure_ascii=False) for i, p in enumerate(PAIRS)) + "\n",
                    encoding="utf-8")
    out = tmp_path / "tuned"
    assert train_main(["--data", str(data), "--output-dir", str(out), "--base-model", str(base), "--pointer",
                       "--max-steps", "3", *TINY]) == 0
    assert is_pointer(load_model(out).config)
    pytest.importorskip("ctranslate2")
    with pytest.raises(RewriteError, match="pointer-generator"):
        convert(out)
