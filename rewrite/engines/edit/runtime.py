"""The edit model's forward pass in NumPy: inference without importing torch or transformers.

Why: the default engine falls back to the edit engine on most drafts, and importing torch and
transformers for that cost a new CLI user about 2.5 s of every ``rewrite "草稿"`` (issue 16). The
edit model is a small ``BertForTokenClassification`` (4 layers, 256 wide); its forward pass is a
few matrix products, which NumPy does as fast as torch on one thread.

``int8=True`` reproduces torch's dynamic int8 quantization of the linear layers
(``torch.ao.quantization.quantize_dynamic`` on x86/fbgemm), which the shipped model was evaluated
with: weights per-tensor symmetric int8 (scale ``max|w| / 127.5``), activations quantized per call
to 7-bit unsigned (``reduce_range``) with the min/max of the whole input, integer products, and a
float rescale plus bias. ``tests/test_edit.py`` checks that the texts this runtime gives equal
torch's on the bench drafts; the logits agree to about 1e-5.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

#: Activations are quantized to [0, QMAX] (fbgemm's reduce_range: 7 bits, as torch does on x86).
QMAX = 127


#: Numerical Recipes' erfc fit (relative error below 1.2e-7), highest power first.
_ERFC = tuple(np.float32(c) for c in (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
                                       -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as torch's default, to about 1e-7, in float32 and in place."""
    z = np.abs(x) * np.float32(1.0 / np.sqrt(2.0))
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.5) * z)
    poly = np.full_like(t, _ERFC[0])
    for c in _ERFC[1:]:
        poly *= t
        poly += c
    z *= z
    poly -= z
    np.exp(poly, out=poly)
    poly *= t  # erfc(|x| / sqrt 2)
    # gelu = x * Phi(x): x * (1 - erfc / 2) for x >= 0, x * erfc / 2 below
    half = np.float32(0.5) * poly
    return np.where(x >= 0, x * (np.float32(1.0) - half), x * half)


def limit_blas_threads(n: int) -> bool:
    """Ask NumPy's OpenBLAS to use ``n`` threads (what ``torch.set_num_threads`` did for the torch
    runtime): on a busy two-core PC, a second BLAS thread that spins made each pass several times
    slower. Returns False, changing nothing, where NumPy's BLAS is not the bundled OpenBLAS."""
    import ctypes
    import glob
    import os

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(int(n))
                return True
    return False


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + np.float32(eps))) * w + b


class _Linear:
    """``x @ w.T + b``, in float32 or as torch's dynamic int8 linear."""

    def __init__(self, w: np.ndarray, b: np.ndarray, int8: bool):
        self.b = b.astype(np.float32)
        self.int8 = int8
        if not int8:
            self.wt = np.ascontiguousarray(w.T.astype(np.float32))
            return
        max_abs = np.float32(max(float(-min(w.min(), 0.0)), float(max(w.max(), 0.0))))
        scale = max(np.float32(max_abs / np.float32(127.5)), np.finfo(np.float32).eps)
        self.w_scale = np.float32(scale)
        q = np.clip(np.rint(w * (np.float32(1.0) / self.w_scale)), -128, 127)  # as ATen: times the inverse
        # The integer products run as float32 BLAS, exactly: every partial sum is an integer below
        # 127 * 128 * in_features, under 2^24 while in_features <= 1032.
        if w.shape[1] * 127 * 128 >= 1 << 24:
            raise ValueError(f"int8 emulation is exact only up to 1032 input features, not {w.shape[1]}")
        self.wq_t = np.ascontiguousarray(q.T.astype(np.float32))
        self.col_offsets = q.sum(axis=1).astype(np.float32)  # per output column, exact as well

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if not self.int8:
            return x @ self.wt + self.b
        lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
        scale = (hi - lo) / QMAX  # float64, as ATen's ChooseQuantizationParams
        if np.float32(scale) == 0.0 or np.isinf(np.float32(1.0) / np.float32(scale)):
            scale = 0.1
        zp_min, zp_max = 0 - lo / scale, QMAX - hi / scale
        err_min, err_max = 0 - abs(lo / scale), QMAX - abs(hi / scale)
        zp0 = zp_min if err_min < err_max else zp_max
        zp = 0 if zp0 < 0 else QMAX if zp0 > QMAX else int(np.rint(zp0))
        a_scale = np.float32(scale)
        inv = np.float32(1.0) / a_scale
        # fbgemm: one fused multiply-add in float32, then round half to even
        xq = np.clip(np.rint((x.astype(np.float64) * np.float64(inv) + zp).astype(np.float32)), 0, 255).astype(np.float32)
        acc = xq @ self.wq_t - np.float32(zp) * self.col_offsets
        return acc * (a_scale * self.w_scale) + self.b


class NumpyBertTagger:
    """``BertForTokenClassification`` from a model directory (``config.json`` +
    ``model.safetensors``); ``logits(ids, attention_mask)`` → float32 array (batch, length, labels)."""

    def __init__(self, model_dir: str | Path, int8: bool = True):
        from safetensors.numpy import load_file

        d = Path(model_dir)
        cfg: dict[str, Any] = json.loads((d / "config.json").read_text(encoding="utf-8"))
        if cfg.get("hidden_act", "gelu") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("NumpyBertTagger runs only BERT with gelu and absolute positions")
        w = load_file(str(d / "model.safetensors"))
        self.int8 = bool(int8)
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.max_positions = int(cfg["max_position_embeddings"])
        p = "bert.embeddings."
        self.word = w[p + "word_embeddings.weight"]
        self.pos = w[p + "position_embeddings.weight"]
        self.type0 = w[p + "token_type_embeddings.weight"][0]
        self.emb_ln = (w[p + "LayerNorm.weight"], w[p + "LayerNorm.bias"])
        self.layers = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"bert.encoder.layer.{i}."

            def lin(name: str) -> _Linear:
                return _Linear(w[p + name + ".weight"], w[p + name + ".bias"], self.int8)

            self.layers.append({
                "q": lin("attention.self.query"), "k": lin("attention.self.key"), "v": lin("attention.self.value"),
                "o": lin("attention.output.dense"),
                "ln1": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                "up": lin("intermediate.dense"), "down": lin("output.dense"),
                "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })
        self.classifier = _Linear(w["classifier.weight"], w["classifier.bias"], self.int8)

    def logits(self, ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        b, n = ids.shape
        h = self.word[ids] + self.pos[:n][None] + self.type0
        h = _layer_norm(h, *self.emb_ln, self.eps).astype(np.float32)
        d = h.shape[-1]
        dh = d // self.heads
        bias = np.where(attention_mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        for L in self.layers:
            flat = h.reshape(b * n, d)

            def split(x: np.ndarray) -> np.ndarray:
                return x.reshape(b, n, self.heads, dh).transpose(0, 2, 1, 3)

            q, k, v = split(L["q"](flat)), split(L["k"](flat)), split(L["v"](flat))
            s = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(dh)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            ctx = (s / s.sum(-1, keepdims=True)) @ v
            ctx = ctx.transpose(0, 2, 1, 3).reshape(b * n, d)
            h = _layer_norm(L["o"](ctx).reshape(b, n, d) + h, *L["ln1"], self.eps).astype(np.float32)
            up = _gelu(L["up"](h.reshape(b * n, d)))
            h = _layer_norm(L["down"](up).reshape(b, n, d) + h, *L["ln2"], self.eps).astype(np.float32)
        return self.classifier(h.reshape(b * n, d)).reshape(b, n, -1)
