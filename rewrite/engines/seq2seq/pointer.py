"""A BART with a copy mechanism: a pointer-generator head (See et al. 2017) for the seq2seq rewriter.

Without pretrained weights, a small character model trained on a few thousand pairs writes
courteous Chinese but invents content: a draft about 年费 and 积分 comes back about 用户 and 入账.
The pointer-generator lets the decoder take a token from the source instead of generating it:

    a_t     = softmax((W_q d_t) · (W_k e_i) / √d)          over the source positions i
    c_t     = Σ_i a_t,i e_i                                  (the copy context)
    p_gen   = σ(w · [d_t; c_t] + b)
    P(w)    = p_gen · P_vocab(w) + (1 − p_gen) · Σ_{i: x_i = w} a_t,i

``d_t`` is the decoder's last hidden state, ``e_i`` the encoder's. The source and target share one
character vocabulary, so copying is a scatter of ``a_t`` onto the source ids; the channel and
special tokens are never copied. ``forward`` returns ``log P`` as its logits: a cross-entropy on
them is the negative log-likelihood (``log P`` is already normalised), and ``generate`` (greedy or
beam search) runs unchanged. It needs the source ids at every step; :func:`generate_kwargs`
passes them as ``src_ids``.

A pointer checkpoint is a ``save_pretrained`` directory whose ``config.json`` says
``"pointer_generator": true``; :func:`load_model` loads either kind. CTranslate2 cannot run the
copy head, so a pointer model runs on the transformers engine.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import BartConfig, BartForConditionalGeneration
from transformers.modeling_outputs import Seq2SeqLMOutput

from rewrite.engines.seq2seq.tokenizer import SPACE, SPECIALS

#: Source ids below this are never copied: pad, bos, eos, unk and the channel tokens, the
#: tokenizer's first specials (a space and a line break, the next two, are copied).
NO_COPY_BELOW = SPECIALS.index(SPACE)
#: p_gen at initialisation is σ(bias): 0.88, so a model grown from a plain checkpoint starts out
#: writing as that checkpoint did and learns when to copy.
GATE_BIAS = 2.0


def is_pointer(config: Any) -> bool:
    return bool(getattr(config, "pointer_generator", False))


class PointerBartForConditionalGeneration(BartForConditionalGeneration):
    """``BartForConditionalGeneration`` whose output distribution mixes generating and copying."""

    def __init__(self, config: BartConfig):
        super().__init__(config)
        config.pointer_generator = True
        d = config.d_model
        self.copy_query = nn.Linear(d, d, bias=False)
        self.copy_key = nn.Linear(d, d, bias=False)
        self.copy_gate = nn.Linear(2 * d, 1)
        self._init_copy_head()

    def _init_copy_head(self) -> None:
        std = getattr(self.config, "init_std", 0.02)
        with torch.no_grad():
            self.copy_query.weight.normal_(0.0, std)
            self.copy_key.weight.normal_(0.0, std)
            self.copy_gate.weight.zero_()
            self.copy_gate.bias.fill_(GATE_BIAS)

    @classmethod
    def from_plain(cls, plain: BartForConditionalGeneration) -> "PointerBartForConditionalGeneration":
        """A pointer model with ``plain``'s weights and a fresh copy head (p_gen ≈ 0.88)."""
        import copy

        from rewrite.errors import RewriteError

        if not isinstance(plain, BartForConditionalGeneration):
            raise RewriteError(f"复制机制（--pointer）只能加在 BART 结构的模型上，这个模型是 {type(plain).__name__}。")
        config = copy.deepcopy(plain.config)
        config.pointer_generator = True
        model = cls(config)
        missing, unexpected = model.load_state_dict(plain.state_dict(), strict=False)
        if unexpected or not all(k.startswith("copy_") for k in missing):
            raise RewriteError(f"无法给这个模型加复制头：权重不匹配（多出 {unexpected[:3]}，缺少 {missing[:3]}）。")
        model.generation_config = copy.deepcopy(plain.generation_config)
        return model

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, cache=None, inputs_embeds=None, decoder_inputs_embeds=None, labels=None,
                use_cache=None, src_ids=None, **kwargs):
        if src_ids is None:
            src_ids = input_ids
        if src_ids is None:
            raise ValueError("the pointer-generator needs the source ids (src_ids) to copy from")
        out = self.model(
            input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_input_ids,
            encoder_outputs=encoder_outputs, decoder_attention_mask=decoder_attention_mask, cache=cache,
            inputs_embeds=inputs_embeds, decoder_inputs_embeds=decoder_inputs_embeds, use_cache=use_cache, **kwargs,
        )
        dec = out.last_hidden_state  # B, T, d
        enc = out.encoder_last_hidden_state  # B, S, d
        p_vocab = torch.softmax((self.lm_head(dec) + self.final_logits_bias).float(), dim=-1)
        scores = torch.matmul(self.copy_query(dec), self.copy_key(enc).transpose(1, 2)) / math.sqrt(dec.shape[-1])
        allowed = src_ids >= NO_COPY_BELOW
        if attention_mask is not None:
            allowed = allowed & attention_mask.bool()
        scores = scores.float().masked_fill(~allowed[:, None, :], float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        attn = torch.nan_to_num(attn, nan=0.0)  # a source with nothing to copy
        ctx = torch.matmul(attn.to(enc.dtype), enc)
        p_gen = torch.sigmoid(self.copy_gate(torch.cat([dec, ctx], dim=-1)).float())  # B, T, 1
        p_gen = torch.where(allowed.any(dim=1)[:, None, None], p_gen, torch.ones_like(p_gen))
        index = src_ids[:, None, :].expand(-1, dec.shape[1], -1)
        p_copy = torch.zeros_like(p_vocab).scatter_add_(2, index, attn)
        logits = torch.log((p_gen * p_vocab + (1.0 - p_gen) * p_copy).clamp_min(1e-12))
        loss = None
        if labels is not None:
            loss = nn.functional.nll_loss(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        return Seq2SeqLMOutput(
            loss=loss, logits=logits, cache=out.cache,
            decoder_hidden_states=out.decoder_hidden_states, decoder_attentions=out.decoder_attentions,
            cross_attentions=out.cross_attentions, encoder_last_hidden_state=enc,
            encoder_hidden_states=out.encoder_hidden_states, encoder_attentions=out.encoder_attentions,
        )


def load_model(path: str | Path):
    """A ``save_pretrained`` directory as the right class: the pointer model when its config
    says ``pointer_generator``, else the plain seq2seq model."""
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    if is_pointer(config):
        return PointerBartForConditionalGeneration.from_pretrained(str(path), local_files_only=True)
    return AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)


def generate_kwargs(model, input_ids) -> dict[str, Any]:
    """Extra ``generate`` arguments the model needs (the source ids, for a pointer model)."""
    return {"src_ids": input_ids} if is_pointer(model.config) else {}
