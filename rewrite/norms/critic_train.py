"""``rewrite train-critic``: train the clause critic (:mod:`rewrite.norms.critic`) on the corpus.

Labels come from the corpus alignment (docs/DATA_SPEC.md, corpus v2):

* each draft clause that overlaps a ``must_fix`` span is an offence of that span's category;
* every other draft clause of an annotated pair is acceptable (the annotators marked what offends);
* every reference clause is acceptable.

Pairs whose draft (or a near copy) is a benchmark draft or a critic test-set reply are left out,
with the build's leak guard. The model is a ``BertForSequenceClassification`` built from a config
(or fine-tuned from a local checkpoint with ``--base_model``), trained with ``transformers.Trainer``
(resume with ``--resume``), then the flag threshold on p(ok) is tuned on validation for the best
F1 at precision ≥ ``--min_precision``, and the weights are exported to ``weights.npz`` for the
numpy inference.

    rewrite train-critic --output_dir rewrite/shipped/critic [--max_steps N] [--epochs E] ...
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from rewrite.errors import RewriteError
from rewrite.norms.critic import LABELS, MAX_LEN, SPECIALS, clause_spans, encode, ngram_probs, norm_chars

log = logging.getLogger("rewrite.norms.critic_train")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class CriticArguments:
    """Every knob of ``rewrite train-critic`` (flags, or one JSON file with these keys)."""

    output_dir: str = field(default="runs/critic", metadata={"help": "where the model, card numbers and checkpoints go"})
    written_dir: str = field(default=str(REPO / "rewrite" / "data" / "written"), metadata={"help": "corpus folder (*.jsonl and v2/*.jsonl)"})
    clause_set: str = field(default=str(REPO / "tests" / "cases" / "critic_clauses.jsonl"), metadata={"help": "labelled clause set kept out of training (measured at the end)"})
    base_model: str | None = field(default=None, metadata={"help": "local Hugging Face checkpoint to fine-tune instead of building from a config"})
    hidden_size: int = field(default=192, metadata={"help": "encoder width"})
    layers: int = field(default=3, metadata={"help": "encoder layers"})
    heads: int = field(default=4, metadata={"help": "attention heads"})
    intermediate_size: int = field(default=512, metadata={"help": "feed-forward width"})
    max_len: int = field(default=MAX_LEN, metadata={"help": "tokens per example: [CLS] clause [SEP] context [SEP]"})
    min_char_count: int = field(default=2, metadata={"help": "characters seen fewer times become [UNK]"})
    epochs: float = field(default=4.0, metadata={"help": "training epochs"})
    max_steps: int = field(default=-1, metadata={"help": "stop after this many steps (-1: epochs decide)"})
    batch_size: int = field(default=64, metadata={"help": "examples per step"})
    learning_rate: float = field(default=3e-4, metadata={"help": "peak learning rate (linear decay, warm-up 5 %%)"})
    validation_share: float = field(default=0.06, metadata={"help": "share of pairs held out for validation (by pair)"})
    min_precision: float = field(default=0.92, metadata={"help": "threshold tuning: best recall at this precision on validation"})
    seed: int = field(default=13, metadata={"help": "random seed"})
    resume: bool = field(default=False, metadata={"help": "resume from the last checkpoint in output_dir"})
    from_checkpoint: str | None = field(default=None, metadata={"help": "skip training: tune, export and measure this Trainer checkpoint (its vocab.json is output_dir's)"})
    limit_pairs: int = field(default=0, metadata={"help": "use only this many pairs (tests); 0 = all"})
    threads: int = field(default=0, metadata={"help": "torch threads (0: torch's default)"})
    ngram_buckets: int = field(default=1 << 18, metadata={"help": "hash buckets of the character n-gram model trained beside the encoder (0: encoder only)"})
    ngram_epochs: int = field(default=3, metadata={"help": "epochs of the n-gram model (Adagrad, seconds per epoch)"})
    ngram_mix: float = field(default=-1.0, metadata={"help": "the encoder's share when the two models' probabilities are mixed; -1: tuned on validation"})
    frame_augment: bool = field(default=False, metadata={"help": "also train on each offending draft inside a polite frame (非常抱歉，… 感谢您的理解。), so the critic hears an offence that a new opening surrounds"})
    splice_augment: bool = field(default=False, metadata={"help": "also train on one offending clause of each offending pair set inside the pair's own reference (after its first clause), labelled as in the draft: a polite reply around a clause must not launder it (色差这个真不算事儿 read p(ok) 0.36 alone in its draft and 0.99 once 亲，非常抱歉， stood before it)"})
    drop_unkept: bool = field(default=False, metadata={"help": "leave out (rather than take as acceptable) a draft clause of an offending pair that no must_fix span covers and that its reference does not keep (under half of its character bigrams, 你 read as 您, are in the reference): writers mark the worst spans, not every one (到时候APP上自己查 beside a marked 用不着天天打电话 was an acceptable example)"})
    rewrite_augment: bool = field(default=False, metadata={"help": "also train on the rules engine's rewrite of each offending draft: a clause that still holds a must-fix span (你/您 folded) keeps its category, a courtesy formula is acceptable, other clauses are left out; so the critic hears an offence that a partial rewrite leaves (请您自己到驿站拿)"})


# ----------------------------------------------------------------------------- data


def _spans_of(draft: str, spans: Sequence[str]) -> list[tuple[int, int, int]]:
    """``(start, end, k)`` of each must-fix span ``k`` in ``draft`` (every occurrence)."""
    out = []
    for k, s in enumerate(spans):
        start = draft.find(s)
        while s and start >= 0:
            out.append((start, start + len(s), k))
            start = draft.find(s, start + 1)
    return out


def kept_share(clause: str, reference: str) -> float:
    """Share of ``clause``'s character bigrams (Han, digits, Latin; 你 read as 您) found in
    ``reference``: how much of a draft clause the trainer's reference keeps."""
    from rewrite.data.audit import char_bigrams, content_key

    h = content_key(clause)
    grams = char_bigrams(h) or ([h] if h else [])
    ref = reference.replace("你", "您")
    return sum(g in ref for g in grams) / len(grams) if grams else 1.0


#: Below this :func:`kept_share`, an unmarked draft clause of an offending pair is not taken as
#: acceptable under ``--drop_unkept``.
MIN_KEPT_SHARE = 0.5


def clause_examples(pair: dict[str, Any], drop_unkept: bool = False) -> list[tuple[str, str, str]]:
    """``(clause, context, label)`` for the clauses of one annotated pair (see module doc). With
    ``drop_unkept``, a draft clause of an offending pair that no span covers and that the reference
    does not keep (:func:`kept_share` < :data:`MIN_KEPT_SHARE`) is left out: its label is unsure."""
    draft, ref = pair["draft"], pair["reference"]
    spans = pair.get("must_fix") or []
    cats = pair.get("categories") or ["curt"] * len(spans)
    located = _spans_of(draft, spans)
    out = []
    for s, e in clause_spans(draft):
        label = "ok"
        best = 0
        for ms, me, k in located:
            overlap = min(e, me) - max(s, ms)
            if overlap > best and k < len(cats) and cats[k] in LABELS:
                best, label = overlap, cats[k]
        if drop_unkept and label == "ok" and spans and ref != draft and kept_share(draft[s:e], ref) < MIN_KEPT_SHARE:
            continue
        out.append((draft[s:e], draft, label))
    if ref != draft:
        out += [(ref[s:e], ref, "ok") for s, e in clause_spans(ref)]
    return out


_FRAMES = (("非常抱歉，", "。感谢您的理解。"), ("您好，", "。"), ("非常理解您的心情，", "，请您谅解。"), ("亲，", "~"))
#: The clauses :data:`_FRAMES` add (acceptable whatever the draft).
_FRAME_PART = re.compile("|".join(re.escape(x.strip("，。~")) for f in _FRAMES for x in f if x.strip("，。~")))


def framed_examples(pair: dict[str, Any], k: int = 0, drop_unkept: bool = False) -> list[tuple[str, str, str]]:
    """The draft of an offending pair as a rules-style rewrite would frame it (你→您, spaces to
    commas, an opening and a close from :data:`_FRAMES`), its clauses labelled as in the draft:
    a polite frame must not hide the offence."""
    if not pair.get("must_fix"):
        return []
    head, tail = _FRAMES[k % len(_FRAMES)]
    body = "，".join(c for c in pair["draft"].replace("你", "您").split() if c)
    framed = dict(pair, draft=head + body + tail, reference=head + body + tail,
                  must_fix=[m.replace("你", "您") for m in pair["must_fix"]])
    out = clause_examples(framed)
    if drop_unkept:  # the framed draft is its own reference: judge keeping against the real one
        ref = pair["reference"]
        out = [ex for ex in out if ex[2] != "ok" or _FRAME_PART.fullmatch(ex[0]) or kept_share(ex[0], ref) >= MIN_KEPT_SHARE]
    return out


def spliced_examples(pair: dict[str, Any], k: int = 0) -> list[tuple[str, str, str]]:
    """One offending clause of an offending pair's draft (你→您), set inside the pair's reference
    after its first clause (even ``k``) or before its last (odd), with the draft's label for it; the reference's own clauses are not
    repeated (:func:`clause_examples` has them, acceptable, in the reference)."""
    if not pair.get("must_fix") or pair["reference"] == pair["draft"]:
        return []
    draft = pair["draft"]
    bad = [(c, label) for c, ctx, label in clause_examples(pair) if ctx == draft and label != "ok"]
    ref = pair["reference"]
    spans = clause_spans(ref)
    if not bad or not spans:
        return []
    clause, label = bad[k % len(bad)]
    clause = clause.replace("你", "您")
    if k % 2 and len(spans) > 1:  # before the reference's last clause
        at = spans[-1][0]
        text = ref[:at] + clause + "，" + ref[at:]
    else:  # after its first
        at = spans[0][1]
        text = ref[:at] + "，" + clause + ref[at:]
    return [(clause, text, label)]


def rewritten_examples(pair: dict[str, Any], rewrite_chunk: Any) -> list[tuple[str, str, str]]:
    """The rules engine's rewrite of an offending pair's draft (``rewrite_chunk(draft) -> text``),
    labelled where the label is sure: a clause that still holds a must-fix span (你/您 folded,
    trailing particles aside) takes that span's category; a courtesy formula
    (:data:`rewrite.norms.critic.FRAME_CLAUSE`) is acceptable; any other clause is left out, since
    the rewrite may or may not have repaired it."""
    from rewrite.data.audit import fold
    from rewrite.norms.critic import FRAME_CLAUSE
    from rewrite.pipeline import _core  # a span as the pipeline tells that it survives

    spans = pair.get("must_fix") or []
    if not spans:
        return []
    cats = pair.get("categories") or ["curt"] * len(spans)
    cores = [(_core(m), cats[k] if k < len(cats) else "curt") for k, m in enumerate(spans)]
    text = rewrite_chunk(pair["draft"])
    if not text or fold(text) == fold(pair["draft"]):
        return []  # the rules left it as it was: the plain example already covers it
    out = []
    for s, e in clause_spans(text):
        c = text[s:e]
        hit = [cat for core, cat in cores if len(core) >= 2 and core in fold(c) and cat in LABELS]
        if hit:
            out.append((c, text, hit[0]))
        elif FRAME_CLAUSE.match(c):
            out.append((c, text, "ok"))
    return out if any(label != "ok" for _, _, label in out) else []


def load_pairs(args: CriticArguments) -> tuple[list[dict[str, Any]], int]:
    """Annotated corpus pairs (with ``must_fix``), minus those near a benchmark draft or a
    critic test-set reply; returns them and how many the leak guard dropped."""
    from rewrite.data.build import LeakGuard, bench_files, load_bench_drafts
    from rewrite.data.jsonl import read_jsonl

    files = sorted(Path(args.written_dir).rglob("*.jsonl"))
    if not files:
        raise RewriteError(f"没有找到语料：{args.written_dir}")
    guard_items = load_bench_drafts(bench_files())
    if Path(args.clause_set).is_file():
        recs, _ = read_jsonl(Path(args.clause_set))
        guard_items += [(r.get("id", "?"), r["context"]) for r in recs if isinstance(r.get("context"), str)]
    guard = LeakGuard(guard_items)
    pairs, dropped = [], 0
    for f in files:
        recs, problems = read_jsonl(f)
        if problems:
            raise RewriteError(f"{f} 有无法读取的行：{problems[0]}")
        for r in recs:
            if "must_fix" not in r or not isinstance(r.get("draft"), str) or not isinstance(r.get("reference"), str):
                continue
            if guard.match(r["draft"]) or guard.match(r["reference"]):
                dropped += 1
                continue
            pairs.append(r)
    return pairs, dropped


def split(pairs: list[dict[str, Any]], share: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validation by a hash of the pair id: stable across runs and corpus growth."""
    train, val = [], []
    for p in pairs:
        h = int(hashlib.sha256(str(p.get("id")).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (val if h < share else train).append(p)
    return train, val


def build_vocab(texts: Sequence[str], min_count: int) -> dict[str, int]:
    counts = Counter(ch for t in texts for ch in norm_chars(t))
    chars = sorted(ch for ch, n in counts.items() if n >= min_count and not ch.isspace())
    return {tok: i for i, tok in enumerate(list(SPECIALS) + chars)}


class _Dataset:
    def __init__(self, vocab: dict[str, int], examples: Sequence[tuple[str, str, str]], max_len: int = MAX_LEN):
        self.rows = []
        for clause, ctx, label in examples:
            ids, types = encode(vocab, clause, ctx, max_len=max_len)
            self.rows.append({"input_ids": ids, "token_type_ids": types, "labels": LABELS.index(label)})

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]


def _collate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    L = max(len(r["input_ids"]) for r in rows)
    ids = torch.zeros((len(rows), L), dtype=torch.long)
    types = torch.zeros((len(rows), L), dtype=torch.long)
    mask = torch.zeros((len(rows), L), dtype=torch.long)
    for k, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[k, :n] = torch.tensor(r["input_ids"])
        types[k, :n] = torch.tensor(r["token_type_ids"])
        mask[k, :n] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
            "labels": torch.tensor([r["labels"] for r in rows], dtype=torch.long)}


# ----------------------------------------------------------------------------- export and tuning


def train_ngram(examples: Sequence[tuple[str, str, str]], buckets: int, epochs: int, seed: int, lr: float = 0.2):
    """A multinomial logistic regression over hashed character n-grams
    (:func:`rewrite.norms.critic.ngram_features`), trained with Adagrad; returns ``(W, b)`` as
    numpy arrays (``W`` is ``buckets × len(LABELS)``)."""
    import numpy as np
    import torch

    from rewrite.norms.critic import ngram_features

    feats = [ngram_features(c, ctx, buckets) for c, ctx, _ in examples]
    y = torch.tensor([LABELS.index(lab) for _, _, lab in examples])
    emb = torch.nn.EmbeddingBag(buckets, len(LABELS), mode="sum")
    torch.nn.init.zeros_(emb.weight)
    bias = torch.nn.Parameter(torch.zeros(len(LABELS)))
    opt = torch.optim.Adagrad(list(emb.parameters()) + [bias], lr=lr)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(feats), generator=g).tolist()
        for s in range(0, len(order), 256):
            rows = order[s:s + 256]
            idx = torch.tensor([i for r in rows for i in feats[r]])
            offsets = torch.tensor(np.cumsum([0] + [len(feats[r]) for r in rows[:-1]]))
            loss = torch.nn.functional.cross_entropy(emb(idx, offsets) + bias, y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return emb.weight.detach().numpy().astype(np.float32), bias.detach().numpy().astype(np.float32)


def export_npz(model, path: Path, extra: dict[str, Any] | None = None) -> None:
    """The encoder's weights under the short names :mod:`rewrite.norms.critic` reads (plus
    ``extra`` arrays, e.g. the n-gram model's ``ng.w``/``ng.b``)."""
    import numpy as np

    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    W = {"emb.word": sd["bert.embeddings.word_embeddings.weight"],
         "emb.pos": sd["bert.embeddings.position_embeddings.weight"],
         "emb.type": sd["bert.embeddings.token_type_embeddings.weight"],
         "emb.ln.w": sd["bert.embeddings.LayerNorm.weight"], "emb.ln.b": sd["bert.embeddings.LayerNorm.bias"],
         "pool.w": sd["bert.pooler.dense.weight"].T, "pool.b": sd["bert.pooler.dense.bias"],
         "cls.w": sd["classifier.weight"].T, "cls.b": sd["classifier.bias"]}
    for i in range(model.config.num_hidden_layers):
        p = f"bert.encoder.layer.{i}."
        for short, name in (("q", "attention.self.query"), ("k", "attention.self.key"), ("v", "attention.self.value"),
                            ("o", "attention.output.dense"), ("i", "intermediate.dense"), ("f", "output.dense")):
            W[f"l{i}.{short}.w"] = sd[p + name + ".weight"].T
            W[f"l{i}.{short}.b"] = sd[p + name + ".bias"]
        W[f"l{i}.ln1.w"], W[f"l{i}.ln1.b"] = sd[p + "attention.output.LayerNorm.weight"], sd[p + "attention.output.LayerNorm.bias"]
        W[f"l{i}.ln2.w"], W[f"l{i}.ln2.b"] = sd[p + "output.LayerNorm.weight"], sd[p + "output.LayerNorm.bias"]
    W.update(extra or {})
    np.savez_compressed(path, **{k: v.astype(np.float16) if k in ("emb.word", "ng.w") else v for k, v in W.items()})


def tune_threshold(p_ok: Sequence[float], offending: Sequence[bool], min_precision: float) -> dict[str, float]:
    """The threshold on p(ok) (flag when below) with the best recall at precision ≥
    ``min_precision``; when none reaches it, the one with the best F1."""
    best, best_f1 = None, None
    for t in [x / 100 for x in range(5, 100)]:
        flags = [p < t for p in p_ok]
        tp = sum(f and o for f, o in zip(flags, offending))
        fp = sum(f and not o for f, o in zip(flags, offending))
        fn = sum((not f) and o for f, o in zip(flags, offending))
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        row = {"threshold": t, "precision": prec, "recall": rec, "f1": f1}
        if prec >= min_precision and (best is None or rec > best["recall"]):
            best = row
        if best_f1 is None or f1 > best_f1["f1"]:
            best_f1 = row
    return best or best_f1  # type: ignore[return-value]


#: Bounds tried for the cascade (skip the encoder when the n-gram model's p(ok) is at least this).
CASCADE_BOUNDS = (0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)


def tune_cascade(enc_probs, ng_probs, mix: float, threshold: float, max_changed: float = 0.002) -> dict[str, Any] | None:
    """The lowest bound of :data:`CASCADE_BOUNDS` at which skipping the encoder changes the flag of
    at most ``max_changed`` of the validation clauses, with the share of clauses that still go to
    the encoder; ``None`` when no bound is that safe."""
    import numpy as np

    full = (mix * enc_probs + (1 - mix) * ng_probs)[:, 0] < threshold
    for b in CASCADE_BOUNDS:
        skip = ng_probs[:, 0] >= b
        cas = np.where(skip, ng_probs[:, 0] < threshold, full)
        changed = float((cas != full).mean())
        if changed <= max_changed:
            return {"skip_encoder_above": b, "changed": round(changed, 5), "encoder_share": round(float(1 - skip.mean()), 4)}
    return None


def measure(model_dir: Path, clause_set: Path) -> dict[str, Any]:
    """The critic (numpy inference, as shipped) on the labelled clause set: precision, recall
    overall and per category, false alarms on acceptable clauses (overall and real-style), and
    how many offending clauses carry no rule keyword and are caught."""
    from rewrite.data.jsonl import read_jsonl
    from rewrite.norms.checker import find
    from rewrite.norms.critic import load_model

    m = load_model(model_dir)
    recs, _ = read_jsonl(clause_set)
    probs = m.probs([(r["clause"], r["context"]) for r in recs])
    flagged = [float(p[0]) < m.threshold for p in probs]
    pred_cat = [LABELS[int(p[1:].argmax()) + 1] for p in probs]
    off = [r["label"] != "ok" for r in recs]
    tp = sum(f and o for f, o in zip(flagged, off))
    fp = sum(f and not o for f, o in zip(flagged, off))
    per_cat = {}
    for cat in LABELS[1:]:
        idx = [i for i, r in enumerate(recs) if r["label"] == cat]
        per_cat[cat] = {"n": len(idx), "recall": round(sum(flagged[i] for i in idx) / len(idx), 3) if idx else None,
                        "category_right": round(sum(flagged[i] and pred_cat[i] == cat for i in idx) / len(idx), 3) if idx else None}
    ok_idx = [i for i, r in enumerate(recs) if r["label"] == "ok"]
    real_ok = [i for i in ok_idx if recs[i].get("style", "plain") != "plain"]
    no_kw = [i for i, r in enumerate(recs) if r["label"] != "ok" and not find(r["clause"])]
    return {
        "clauses": len(recs), "offending": sum(off), "acceptable": len(ok_idx),
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / sum(off), 3) if sum(off) else None,
        "false_alarms": round(sum(flagged[i] for i in ok_idx) / len(ok_idx), 3) if ok_idx else None,
        "false_alarms_real_style": round(sum(flagged[i] for i in real_ok) / len(real_ok), 3) if real_ok else None,
        "real_style_acceptable": len(real_ok),
        "no_keyword_offending": len(no_kw),
        "no_keyword_recall": round(sum(flagged[i] for i in no_kw) / len(no_kw), 3) if no_kw else None,
        "per_category": per_cat,
        "model": m.hash, "threshold": m.threshold,
    }


# ----------------------------------------------------------------------------- training


def train(args: CriticArguments) -> dict[str, Any]:
    import numpy as np
    import torch
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments, set_seed

    if args.threads:
        torch.set_num_threads(args.threads)
    set_seed(args.seed)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    pairs, dropped = load_pairs(args)
    if args.limit_pairs:
        random.Random(args.seed).shuffle(pairs)
        pairs = pairs[: args.limit_pairs]
    tr_pairs, va_pairs = split(pairs, args.validation_share)
    tr = [ex for p in tr_pairs for ex in clause_examples(p, args.drop_unkept)]
    if args.frame_augment:
        tr += [ex for k, p in enumerate(tr_pairs) for ex in framed_examples(p, k, args.drop_unkept)]
    if args.splice_augment:
        n0 = len(tr)
        tr += [ex for k, p in enumerate(tr_pairs) for ex in spliced_examples(p, k)]
        log.info("splice augmentation: %d clauses", len(tr) - n0)
    if args.rewrite_augment:
        from rewrite import load_rewriter

        rules = load_rewriter("rules")

        def rewrite_draft(d: str) -> str:
            try:
                return rules.rewrite(d, channel="phone").target
            except RewriteError:  # empty or over-long: no example
                return ""

        n0 = len(tr)
        tr += [ex for p in tr_pairs for ex in rewritten_examples(p, rewrite_draft)]
        log.info("rewrite augmentation: %d clauses", len(tr) - n0)
    va = [ex for p in va_pairs for ex in clause_examples(p, args.drop_unkept)]
    if not tr or not va:
        raise RewriteError("训练或验证样本为空：语料里需要带 must_fix 的句对。")
    log.info("pairs %d (leak-dropped %d) -> clauses train %d, validation %d", len(pairs), dropped, len(tr), len(va))

    if args.from_checkpoint and (out / "vocab.json").is_file():
        vocab = json.loads((out / "vocab.json").read_text(encoding="utf-8"))
        model = BertForSequenceClassification.from_pretrained(args.from_checkpoint)
    elif args.base_model:
        model = BertForSequenceClassification.from_pretrained(args.base_model, num_labels=len(LABELS))
        vocab_path = Path(args.base_model) / "vocab.json"
        vocab = json.loads(vocab_path.read_text(encoding="utf-8")) if vocab_path.is_file() else build_vocab([t for ex in tr for t in ex[:2]], args.min_char_count)
    else:
        vocab = build_vocab([t for ex in tr for t in ex[:2]], args.min_char_count)
        config = BertConfig(vocab_size=len(vocab), hidden_size=args.hidden_size, num_hidden_layers=args.layers,
                            num_attention_heads=args.heads, intermediate_size=args.intermediate_size,
                            max_position_embeddings=args.max_len, type_vocab_size=2, num_labels=len(LABELS),
                            hidden_act="gelu_new", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
        model = BertForSequenceClassification(config)
    model.config.id2label = dict(enumerate(LABELS))
    model.config.label2id = {label: i for i, label in enumerate(LABELS)}
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")

    targs = TrainingArguments(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=128, learning_rate=args.learning_rate, num_train_epochs=args.epochs,
        max_steps=args.max_steps, warmup_steps=0.05, weight_decay=0.01, lr_scheduler_type="linear",
        logging_steps=50, save_steps=500, save_total_limit=1, eval_strategy="no", report_to=[],
        seed=args.seed, use_cpu=True, dataloader_num_workers=0, disable_tqdm=not sys.stderr.isatty(),
    )
    trainer = Trainer(model=model, args=targs, train_dataset=_Dataset(vocab, tr, args.max_len), data_collator=_collate)
    last = None
    if args.resume:
        from transformers.trainer_utils import get_last_checkpoint

        last = get_last_checkpoint(str(out / "checkpoints")) if (out / "checkpoints").is_dir() else None
    if args.from_checkpoint:
        model = BertForSequenceClassification.from_pretrained(args.from_checkpoint)
        steps = int(json.loads((Path(args.from_checkpoint) / "trainer_state.json").read_text())["global_step"])
    else:
        steps = trainer.train(resume_from_checkpoint=last).global_step
    model.eval()

    # validation: p(ok) per clause, then the threshold
    ds = _Dataset(vocab, va, args.max_len)
    chunks = []
    with torch.no_grad():
        for i in range(0, len(ds), 256):
            batch = _collate(ds.rows[i : i + 256])
            batch.pop("labels")
            chunks.append(torch.softmax(model(**batch).logits, -1).numpy())
    enc_probs = np.concatenate(chunks)
    offending = [ex[2] != "ok" for ex in va]
    extra, ngram_cfg, mixes = {}, None, {}
    probs = enc_probs
    if args.ngram_buckets:
        t1 = time.time()
        ng_w, ng_b = train_ngram(tr, args.ngram_buckets, args.ngram_epochs, args.seed)
        ng_probs = ngram_probs(ng_w, ng_b, [(c, ctx) for c, ctx, _ in va], args.ngram_buckets)
        # the encoder's share: fixed, or the one with the best validation recall at the precision bar
        for mix in ([args.ngram_mix] if args.ngram_mix >= 0 else [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0]):
            mixed = mix * enc_probs + (1 - mix) * ng_probs
            mixes[mix] = tune_threshold(mixed[:, 0].tolist(), offending, args.min_precision)
        mix = max(mixes, key=lambda m: (mixes[m]["precision"] >= args.min_precision, mixes[m]["recall"], mixes[m]["f1"]))
        probs = mix * enc_probs + (1 - mix) * ng_probs
        extra = {"ng.w": ng_w, "ng.b": ng_b}
        ngram_cfg = {"buckets": args.ngram_buckets, "mix": mix, "seconds": round(time.time() - t1, 1)}
        log.info("n-gram model: %.0f s; encoder share %.1f", time.time() - t1, mix)
    p_ok = probs[:, 0].tolist()
    pred = (probs[:, 1:].argmax(-1) + 1).tolist()
    tuned = tune_threshold(p_ok, offending, args.min_precision)
    cat_right = [LABELS[p] == ex[2] for p, ex, o in zip(pred, va, offending) if o]

    model.save_pretrained(str(out / "hf"))
    export_npz(model, out / "weights.npz", extra)
    cfg = {"max_len": args.max_len, "num_hidden_layers": model.config.num_hidden_layers,
           "num_attention_heads": model.config.num_attention_heads, "layer_norm_eps": model.config.layer_norm_eps,
           "hidden_size": model.config.hidden_size}
    cascade = None
    if ngram_cfg:
        cfg["ngram"] = {"buckets": ngram_cfg["buckets"], "mix": ngram_cfg["mix"]}
        cascade = tune_cascade(enc_probs, ng_probs, ngram_cfg["mix"], tuned["threshold"])
        if cascade is not None:
            cfg["ngram"]["skip_encoder_above"] = cascade["skip_encoder_above"]
    meta = {"labels": list(LABELS), "threshold": tuned["threshold"], "config": cfg,
            "trained": {"pairs": len(pairs), "leak_dropped": len(pairs) and dropped, "train_clauses": len(tr),
                        "validation_clauses": len(va), "train_label_counts": dict(Counter(ex[2] for ex in tr)),
                        "steps": steps, "seconds": round(time.time() - t0, 1),
                        "parameters": sum(p.numel() for p in model.parameters()), "args": asdict(args)},
            "mix_tuning": {str(m): {k: round(v, 4) for k, v in r.items()} for m, r in mixes.items()},
            "cascade": cascade,
            "validation": {k: round(v, 4) for k, v in tuned.items()} | {
                "category_accuracy_on_flagged_truth": round(sum(cat_right) / len(cat_right), 4) if cat_right else None}}
    (out / "critic.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    results = {"validation": meta["validation"], "trained": {k: v for k, v in meta["trained"].items() if k != "args"}}
    if Path(args.clause_set).is_file():
        results["clause_set"] = measure(out, Path(args.clause_set))
    (out / "all_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    del np
    return results


def parse_args(argv: list[str] | None) -> CriticArguments:
    from rewrite.train_cli import parse_dataclass

    return parse_dataclass(CriticArguments, "rewrite train-critic",
                           "训练语气评审模型（逐句判断语气是否得体）。参数可用命令行给出，或用一个 JSON 文件。", argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rewrite train-critic``."""
    from rewrite.train_cli import run_training

    return run_training(parse_args, train, argv)
