"""The clause critic: a small learned model that judges the tone of each clause of a reply in its
context, the way a trainer does, and names the category when the clause offends.

It sits beside the rule library (:mod:`rewrite.norms.checker`): the rules catch fixed words
(喂, 不知道, 你), the critic hears tone without a keyword (您签了字的, 又不是我们的问题, 晚两天很正常).

* Model: a BERT-style encoder built from a config and trained here (``rewrite train-critic``,
  :mod:`rewrite.norms.critic_train`). Input: ``[CLS] clause [SEP] reply [SEP]`` over characters.
  Beside it, a hashed character n-gram linear model (:func:`ngram_features`) trained on the same
  examples; the two probability vectors are mixed (``config.ngram.mix`` is the encoder's share).
  The n-gram model generalises better to wording the corpus spells differently; the encoder hears
  the clause in its reply. The mix and the threshold are tuned on validation.
* Inference runs in numpy from ``weights.npz`` (no torch import, so ``rewrite check`` stays light
  and fast); ``tests/test_critic.py`` checks it against the transformers forward pass.
* A clause is flagged when the model's probability that it is acceptable falls below the
  threshold tuned on validation (``critic.json``).
* A missing or corrupt model never raises mid-request: :func:`load_critic` returns ``None`` with
  the reason in :func:`critic_status`, and the checker falls back to rules only and says so.
"""
from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

#: Labels, in the model's output order: ``ok`` then the categories of ``prompts/critic.yaml``.
LABELS: tuple[str, ...] = ("ok", "blame", "deflect", "command", "rhetorical", "impatience", "refuse",
                           "curt", "slang", "overpromise", "contradict")
PAD, UNK, CLS, SEP = "[PAD]", "[UNK]", "[CLS]", "[SEP]"
SPECIALS = (PAD, UNK, CLS, SEP)
MAX_CLAUSE = 40
MAX_LEN = 128
CRITIC_DIR_ENV = "REWRITE_CRITIC_DIR"

# A clause ends at a full or half-width mark, a space or a line break; the mark stays outside.
_CLAUSE_BREAK = re.compile(r"[，,。！!？?；;：:~～…\s、]+")
_DIGIT = re.compile(r"[0-9]")


def shipped_critic_dir() -> Path:
    """``rewrite/shipped/critic``: the critic that ``pip install`` carries."""
    return Path(__file__).resolve().parents[1] / "shipped" / "critic"


def critic_dir() -> Path:
    env = os.environ.get(CRITIC_DIR_ENV)
    return Path(env) if env else shipped_critic_dir()


def clause_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each clause of ``text``: the stretches between punctuation marks and
    spaces (empty ones dropped). A single space inside a Latin run ("Wi-Fi 6", "iPhone 15 Pro")
    does not break a clause. Offsets index ``text``."""
    spans, pos = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.group() == " " and spans is not None and 0 < m.start() and m.end() < len(text) \
                and text[m.start() - 1].isascii() and text[m.start() - 1].isalnum() \
                and text[m.end()].isascii() and text[m.end()].isalnum():
            continue
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def norm_chars(text: str) -> str:
    """What the model reads: Latin lower-cased, every digit as 0 (the amount never sets the tone)."""
    return _DIGIT.sub("0", text.lower())


def encode(vocab: dict[str, int], clause: str, context: str, *, max_len: int = MAX_LEN) -> tuple[list[int], list[int]]:
    """Token ids and token-type ids for ``[CLS] clause [SEP] context [SEP]``. The context is cut
    around the clause when the reply is long, so the clause's neighbours are kept."""
    unk = vocab[UNK]
    c = norm_chars(clause)[:MAX_CLAUSE]
    room = max_len - len(c) - 3
    ctx = norm_chars(context)
    if len(ctx) > room:
        at = max(0, ctx.find(c[:10]))
        start = max(0, min(at - room // 2, len(ctx) - room))
        ctx = ctx[start:start + room]
    ids = [vocab[CLS]] + [vocab.get(ch, unk) for ch in c] + [vocab[SEP]]
    types = [0] * len(ids)
    ids += [vocab.get(ch, unk) for ch in ctx] + [vocab[SEP]]
    types += [1] * (len(ctx) + 1)
    return ids, types


def ngram_features(clause: str, context: str, buckets: int) -> list[int]:
    """Hashed feature ids of a clause in its reply: the clause's character 1–4-grams, its 2–3-grams
    with start/end marks, the 1–2-grams of the eight characters either side of it, and the reply's
    character bigrams. Shared by training and inference, so the two cannot drift apart."""
    import zlib

    c, x = norm_chars(clause), norm_chars(context)
    feats = ["c" + c[i:i + n] for n in (1, 2, 3, 4) for i in range(len(c) - n + 1)]
    cc = "^" + c + "$"
    feats += ["b" + cc[i:i + n] for n in (2, 3) for i in range(len(cc) - n + 1)]
    k = x.find(c)
    left = x[max(0, k - 8):k] if k > 0 else ""
    right = x[k + len(c):k + len(c) + 8] if k >= 0 else ""
    feats += ["l" + left[i:i + n] for n in (1, 2) for i in range(len(left) - n + 1)]
    feats += ["r" + right[i:i + n] for n in (1, 2) for i in range(len(right) - n + 1)]
    feats += ["x" + x[i:i + 2] for i in range(len(x) - 1)]
    return [zlib.crc32(f.encode("utf-8")) % buckets for f in feats] or [0]


def ngram_probs(W, b, pairs: Sequence[tuple[str, str]], buckets: int):
    """Softmax of the n-gram model (weights ``W``: buckets × labels, bias ``b``) for
    ``(clause, context)`` pairs: each row's logits are the sum of its hashed feature rows. Used by
    inference and by training's threshold tuning alike."""
    import numpy as np

    logits = np.stack([W[ngram_features(c, ctx, buckets)].sum(0) for c, ctx in pairs]) + b
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# ----------------------------------------------------------------------------- numpy forward


def _layer_norm(x, w, b, eps):
    import numpy as np

    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu_tanh(x):
    """transformers' ``gelu_new`` (the tanh approximation the critic is trained with)."""
    import numpy as np

    inner = x * x
    inner *= 0.044715 * 0.7978845608028654
    inner += 0.7978845608028654
    inner *= x
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= x
    inner *= 0.5
    return inner


@dataclass
class CriticModel:
    """The encoder's weights as numpy arrays plus its vocabulary and threshold."""

    weights: dict[str, Any]
    vocab: dict[str, int]
    config: dict[str, Any]
    threshold: float
    hash: str
    #: Verdicts already given, per text (:func:`judge`, :func:`prime`); the pipeline empties it at
    #: the start of each call, so no timed call is helped by an earlier one.
    memo: dict[str, list] = field(default_factory=dict, repr=False, compare=False)

    def probs(self, pairs: Sequence[tuple[str, str]], *, cascade: bool = True):
        """``(n, len(LABELS))`` probabilities for ``(clause, context)`` pairs: the encoder's, mixed
        with the n-gram model's when the critic carries one.

        With ``cascade`` and a ``ngram.skip_encoder_above`` in the config, a clause the n-gram model
        alone finds acceptable with p(ok) at or above that bound takes the n-gram probabilities and
        skips the encoder (nearly all of the cost); its verdict is "acceptable" either way unless the
        encoder would put p(ok) near 0, and ``critic_report`` counts how often that happens."""
        ng = self.config.get("ngram")
        if not (ng and "ng.w" in self.weights and len(pairs)):
            return self.encoder_probs(pairs)
        import numpy as np

        mix = float(ng["mix"])
        ngp = self.ngram_probs(pairs)
        skip = ng.get("skip_encoder_above") if cascade else None
        run = np.arange(len(pairs)) if skip is None else np.flatnonzero(ngp[:, 0] < float(skip))
        probs = ngp.copy()
        if len(run):
            probs[run] = mix * self.encoder_probs([pairs[i] for i in run]) + (1.0 - mix) * ngp[run]
        return probs

    def encoder_probs(self, pairs: Sequence[tuple[str, str]]):
        """The encoder's softmax probabilities alone."""
        import numpy as np

        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        enc = [encode(self.vocab, c, ctx, max_len=self.config["max_len"]) for c, ctx in pairs]
        n, L = len(enc), max(len(i) for i, _ in enc)
        ids = np.zeros((n, L), dtype=np.int64)
        types = np.zeros((n, L), dtype=np.int64)
        mask = np.zeros((n, L), dtype=np.float32)
        for k, (i, t) in enumerate(enc):
            ids[k, : len(i)] = i
            types[k, : len(t)] = t
            mask[k, : len(i)] = 1.0
        return self._forward(ids, types, mask)

    def ngram_probs(self, pairs: Sequence[tuple[str, str]]):
        """The n-gram model's ``(n, len(LABELS))`` probabilities."""
        return ngram_probs(self.weights["ng.w"], self.weights["ng.b"], pairs, int(self.config["ngram"]["buckets"]))

    def _forward(self, ids, types, mask):
        import numpy as np

        W, cfg = self.weights, self.config
        eps = cfg["layer_norm_eps"]
        heads = cfg["num_attention_heads"]
        pos = np.arange(ids.shape[1])
        x = W["emb.word"][ids] + W["emb.pos"][pos][None] + W["emb.type"][types]
        x = _layer_norm(x, W["emb.ln.w"], W["emb.ln.b"], eps)
        n, L, H = x.shape
        d = H // heads
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(cfg["num_hidden_layers"]):
            p = f"l{i}."
            q = (x @ W[p + "q.w"] + W[p + "q.b"]).reshape(n, L, heads, d).transpose(0, 2, 1, 3)
            k = (x @ W[p + "k.w"] + W[p + "k.b"]).reshape(n, L, heads, d).transpose(0, 2, 3, 1)
            v = (x @ W[p + "v.w"] + W[p + "v.b"]).reshape(n, L, heads, d).transpose(0, 2, 1, 3)
            att = q @ k / np.sqrt(d) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, L, H)
            x = _layer_norm(ctx @ W[p + "o.w"] + W[p + "o.b"] + x, W[p + "ln1.w"], W[p + "ln1.b"], eps)
            h = x @ W[p + "i.w"] + W[p + "i.b"]
            h = _gelu_tanh(h)
            x = _layer_norm(h @ W[p + "f.w"] + W[p + "f.b"] + x, W[p + "ln2.w"], W[p + "ln2.b"], eps)
        pooled = np.tanh(x[:, 0] @ W["pool.w"] + W["pool.b"])
        logits = pooled @ W["cls.w"] + W["cls.b"]
        logits = logits - logits.max(-1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(-1, keepdims=True)


@dataclass(frozen=True)
class ClauseVerdict:
    """The critic's word on one clause: ``label`` is ``ok`` or a category id."""

    start: int
    end: int
    text: str
    label: str
    confidence: float
    p_ok: float


#: A clause that is only a courtesy formula: a greeting, an apology, thanks, the offer of more help,
#: a goodbye. It carries no content, so it is no context for the tone of the clauses beside it.
FRAME_CLAUSE = re.compile(
    r"^(?:您好|你好|亲爱的|亲亲?|好的|(?:非常|十分|很)?抱歉|对不起|不好意思|(?:非常)?理解您的心情|"
    r"(?:非常)?感谢您的(?:理解|耐心等待|耐心|支持|来电|配合)|谢谢(?:您)?(?:的理解|的配合|的耐心等待)?|"
    r"请问(?:您)?还有(?:什么|其他|别的)(?:问题)?(?:可以|需要)(?:帮|为)您(?:的吗|服务的吗|的|吗)?|"
    r"还请(?:您)?谅解|请您谅解|祝您生活愉快|祝您愉快|再见|(?:非常抱歉)?让您久等了)$")


def contexts(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The context each clause is judged in: ``text`` without its courtesy formulas
    (:data:`FRAME_CLAUSE`), for every clause that is not one itself. A polite frame must not
    launder the clause it surrounds: judged with 请问还有什么可以帮您？ after it, 嫌吵可以换别家 read
    as acceptable (p 0.91), and as offending (0.45) without it. A formula is judged in the whole
    reply, and a reply that is all formulas (or has none) is every clause's context."""
    frames = [bool(FRAME_CLAUSE.match(text[s:e])) for s, e in spans]
    if all(frames) or not any(frames):
        return [text] * len(spans)
    parts = [text[: spans[0][0]]]
    for i, (s, _) in enumerate(spans):
        if not frames[i]:
            parts.append(text[s: spans[i + 1][0] if i + 1 < len(spans) else len(text)])
    stripped = "".join(parts)
    return [text if f else stripped for f in frames]


#: The most texts :attr:`CriticModel.memo` holds before it is emptied.
MEMO_MAX = 4096


def judge(model: CriticModel, text: str) -> list[ClauseVerdict]:
    """One verdict per clause of ``text``, each in its :func:`contexts`. A clause is flagged when
    ``p(ok) < threshold``; its label is then the most probable category and its confidence
    ``1 - p(ok)``. A text judged before (since the memo was last emptied) is not judged again."""
    got = model.memo.get(text)
    return list(got if got is not None else prime(model, [text])[0])


def prime(model: CriticModel, texts: Sequence[str]) -> list[list[ClauseVerdict]]:
    """Judge every text of ``texts`` not judged yet, all their clauses in one pass of the model
    (a batch's chunks at once, where one call per chunk paid the model's overhead each time), and
    remember the verdicts; returns the verdicts of the texts judged now, in order."""
    todo = list(dict.fromkeys(t for t in texts if t not in model.memo))
    if not todo:
        return []
    if len(model.memo) + len(todo) > MEMO_MAX:
        model.memo.clear()
    spans = [clause_spans(t) for t in todo]
    pairs = [(t[s:e], ctx) for t, sp in zip(todo, spans) for (s, e), ctx in zip(sp, contexts(t, sp))]
    probs = model.probs(pairs) if pairs else []
    k = 0
    judged = []
    for t, sp in zip(todo, spans):
        out = []
        for s, e in sp:
            p_ok = float(probs[k][0])
            if p_ok < model.threshold:
                lab = int(probs[k][1:].argmax()) + 1
                out.append(ClauseVerdict(s, e, t[s:e], LABELS[lab], 1.0 - p_ok, p_ok))
            else:
                out.append(ClauseVerdict(s, e, t[s:e], "ok", p_ok, p_ok))
            k += 1
        model.memo[t] = out
        judged.append(out)
    return judged


# ----------------------------------------------------------------------------- loading

_LOCK = threading.Lock()
_CACHE: dict[str, tuple[CriticModel | None, str]] = {}


def load_model(directory: Path) -> CriticModel:
    """Load ``weights.npz``, ``vocab.json`` and ``critic.json`` from ``directory``; raises
    ``OSError``/``ValueError``/``KeyError`` when a file is missing or corrupt."""
    import hashlib

    import numpy as np

    raw = (directory / "weights.npz").read_bytes()
    with np.load(directory / "weights.npz") as z:
        weights = {k: z[k].astype(np.float32) for k in z.files}
    vocab = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
    meta = json.loads((directory / "critic.json").read_text(encoding="utf-8"))
    cfg = meta["config"]
    if tuple(meta["labels"]) != LABELS:
        raise ValueError("critic labels differ from rewrite.norms.critic.LABELS")
    for k in ("emb.word", "cls.w", f"l{cfg['num_hidden_layers'] - 1}.f.w"):
        if k not in weights:
            raise KeyError(f"weights.npz lacks {k}")
    if weights["emb.word"].shape[0] != len(vocab) or weights["cls.w"].shape[1] != len(LABELS):
        raise ValueError("weights.npz does not match vocab.json / labels")
    if cfg.get("ngram") and ("ng.w" not in weights or weights["ng.w"].shape != (int(cfg["ngram"]["buckets"]), len(LABELS))):
        raise ValueError("weights.npz lacks the n-gram model that critic.json names")
    return CriticModel(weights, vocab, cfg, float(meta["threshold"]), hashlib.sha256(raw).hexdigest()[:12])


def load_critic(directory: Path | None = None) -> CriticModel | None:
    """The critic in ``directory`` (default: ``$REWRITE_CRITIC_DIR`` or the shipped one), loaded
    once; ``None`` when it is missing or corrupt (the reason is in :func:`critic_status`)."""
    d = directory or critic_dir()
    key = str(d)
    with _LOCK:
        if key not in _CACHE:
            try:
                _CACHE[key] = (load_model(d), "")
            except FileNotFoundError:
                _CACHE[key] = (None, f"找不到语气评审模型（{d}），只用规则检查。")
            except Exception as e:  # corrupt: never raise mid-request
                _CACHE[key] = (None, f"语气评审模型无法加载（{type(e).__name__}），只用规则检查。")
        return _CACHE[key][0]


def critic_status(directory: Path | None = None) -> dict[str, Any]:
    """``{"available": bool, "model": hash or None, "reason": str}`` for health checks."""
    m = load_critic(directory)
    reason = _CACHE.get(str(directory or critic_dir()), (None, ""))[1]
    return {"available": m is not None, "model": m.hash if m else None, "reason": reason}


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
