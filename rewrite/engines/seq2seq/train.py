"""``rewrite train``: train the seq2seq rewriter (a small BART from a config, or fine-tune a local
checkpoint) on draft → reference pairs, on CPU.

Reads top to bottom like ``run_summarization.py``: typed argument dataclasses (flags or one JSON
file), ``set_seed``, data → masked examples → character tokenizer → model, a training loop with a
progress bar, periodic validation (chrF, exact match, placeholder preservation), checkpoints with
resume from the last one, and ``all_results.json`` at the end.

Examples the model sees (see :func:`make_examples`):

* **pairs**: the draft masked with :func:`rewrite.protect.protect_for_model` (facts, ``keep`` spans,
  content words → placeholders), the reference with the same values replaced by the same
  placeholders (longest value first); the channel token in front. Pairs whose reference loses a
  fact are dropped (counted); content words the reference does not carry are unmasked.
* **denoising** (``--denoise-ratio``): a reference with casual noise (dropped/swapped characters,
  您→你, 请 dropped, 啊/呀/嘛 added, punctuation → spaces) → the clean reference, so the model
  learns to copy what protection leaves unmasked.
* **identity** (``--identity-ratio``): a reference → itself (already professional replies stay).
* **OOV** (``--oov-ratio``): a character shared by source and target replaced by ``<OOV1>`` in
  both, so the model learns to carry the backend's out-of-vocabulary placeholders.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from rewrite.errors import DataError, RewriteError
from rewrite.protect import PLACEHOLDER_RE, placeholder_problems, protect_for_model, restore

log = logging.getLogger("rewrite.engines.seq2seq.train")

DEFAULT_DATA = "rewrite/data/build/dataset"
CHECKPOINT_PREFIX = "checkpoint-"
STATE_FILE = "training_state.pt"


# ---------------------------------------------------------------------------------------------
# Arguments


@dataclass
class ModelArguments:
    """The model: a small BART from a config, or a local checkpoint to fine-tune."""

    base_model: Optional[str] = field(
        default=None,
        metadata={"help": "Local Hugging Face seq2seq checkpoint to fine-tune instead of a fresh model "
                  "(a directory written by save_pretrained; nothing is downloaded)."},
    )
    d_model: int = field(default=256, metadata={"help": "Hidden size."})
    encoder_layers: int = field(default=3, metadata={"help": "Encoder layers."})
    decoder_layers: int = field(default=2, metadata={"help": "Decoder layers."})
    attention_heads: int = field(default=4, metadata={"help": "Attention heads (encoder and decoder)."})
    ffn_dim: int = field(default=1024, metadata={"help": "Feed-forward size."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout."})
    max_positions: int = field(default=256, metadata={"help": "Longest sequence in tokens; longer examples are dropped."})
    pointer: bool = field(
        default=False,
        metadata={"help": "Give the model a copy mechanism (a pointer-generator head, see "
                  "rewrite/engines/seq2seq/pointer.py): a fresh model gets one, and a --base-model without one "
                  "gets a fresh copy head on its weights. Such a model runs on the transformers engine."},
    )


@dataclass
class DataArguments:
    """Where the pairs come from and how they are turned into examples."""

    data: str = field(
        default=DEFAULT_DATA,
        metadata={"help": "A datasets DatasetDict directory (`rewrite data build`), or a directory / file of "
                  "JSONL pairs (fields draft, reference, keep, channel)."},
    )
    vocab_texts: Optional[str] = field(
        default=None,
        metadata={"help": "Extra text files or directory whose characters join the vocabulary (e.g. the seed "
                  "documents). Never point this at eval/bench."},
    )
    validation_share: float = field(default=0.05, metadata={"help": "Share held out for validation when --data is JSONL."})
    denoise_ratio: float = field(default=0.3, metadata={"help": "Denoising examples per training pair (0 = none)."})
    identity_ratio: float = field(default=0.05, metadata={"help": "Identity examples per training pair."})
    oov_ratio: float = field(default=0.05, metadata={"help": "Share of examples given an <OOV1> character."})
    unkeep_ratio: float = field(default=0.3, metadata={"help": "Share of pairs also added masked without their keep list (as at inference)."})
    clause_data: Optional[str] = field(
        default=None,
        metadata={"help": "The clause-level split (`rewrite data build` writes clauses_train.jsonl): each draft clause "
                  "the corpus alignment maps to a reference clause joins training as its own pair, so the model "
                  "learns the local rewrite of an offending clause (None = whole replies only)."},
    )
    clause_ratio: float = field(default=1.0, metadata={"help": "Share of the aligned clause pairs used (seeded sample)."})
    max_train_samples: int = field(default=0, metadata={"help": "Use at most this many training pairs (0 = all)."})
    max_eval_samples: int = field(default=300, metadata={"help": "Validation pairs decoded at each evaluation."})


@dataclass
class TrainingArguments:
    """The loop: steps, optimiser, evaluation, checkpoints."""

    output_dir: str = field(metadata={"help": "Where the model, checkpoints and all_results.json go."})
    seed: int = field(default=42, metadata={"help": "Random seed (data order, noise, initialisation)."})
    max_steps: int = field(default=0, metadata={"help": "Stop after this many optimiser steps (0 = use --num-epochs)."})
    num_epochs: float = field(default=3.0, metadata={"help": "Epochs over the training examples when --max-steps is 0."})
    time_budget_min: float = field(default=0.0, metadata={"help": "Stop (and save) after this many minutes of training (0 = no limit)."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Peak learning rate (AdamW)."})
    warmup_steps: int = field(default=300, metadata={"help": "Linear warm-up steps, then linear decay to 10%% (or over the time budget)."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    label_smoothing: float = field(default=0.1, metadata={"help": "Label smoothing of the loss."})
    batch_size: int = field(default=64, metadata={"help": "Examples per step (batches are grouped by length)."})
    logging_steps: int = field(default=50, metadata={"help": "Log the loss every N steps."})
    eval_steps: int = field(default=500, metadata={"help": "Validate every N steps (0 = only at the end)."})
    save_steps: int = field(default=500, metadata={"help": "Checkpoint every N steps (0 = only at the end)."})
    save_total_limit: int = field(default=2, metadata={"help": "Checkpoints kept (oldest deleted)."})
    eval_beams: int = field(default=1, metadata={"help": "Beams when decoding validation pairs."})
    threads: int = field(default=2, metadata={"help": "torch CPU threads."})
    resume: bool = field(default=True, metadata={"help": "Resume from the last checkpoint in --output-dir if there is one."})
    overwrite_output_dir: bool = field(default=False, metadata={"help": "Start afresh even if --output-dir has checkpoints."})
    progress: bool = field(default=True, metadata={"help": "Show a tqdm progress bar."})


# ---------------------------------------------------------------------------------------------
# Data


def load_records(path: str, validation_share: float = 0.05, seed: int = 42) -> tuple[dict[str, list[dict]], str]:
    """``{"train": [...], "validation": [...]}`` from a DatasetDict directory or JSONL pairs, and
    a 12-hex sha256 of the records (the data signature)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"找不到训练数据 {p}：请先运行 `rewrite data build`，或用 --data 指向 JSONL 文件/目录。")
    splits: dict[str, list[dict]]
    if p.is_dir() and (p / "dataset_dict.json").is_file():
        from datasets import load_from_disk

        dd = load_from_disk(str(p))
        splits = {name: [dict(r) for r in dd[name]] for name in dd}
        if "validation" not in splits:
            splits = _split(splits.get("train", []), validation_share, seed)
    else:
        from rewrite.data.jsonl import read_jsonl

        files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
        if not files:
            raise DataError(f"{p} 里没有 .jsonl 文件。")
        rows: list[dict] = []
        for f in files:
            recs, problems = read_jsonl(f)
            if problems:
                raise DataError("训练数据有错误：\n" + "\n".join(str(x) for x in problems[:10]))
            rows += [{k: v for k, v in r.items() if not k.startswith("_")} for r in recs]
        splits = _split(rows, validation_share, seed)
    for name, rows in splits.items():
        for r in rows:
            if not isinstance(r.get("draft"), str) or not isinstance(r.get("reference"), str):
                raise DataError(f"{name} 中的记录缺少 draft 或 reference：{str(r)[:80]}")
    h = hashlib.sha256()
    for name in sorted(splits):
        for r in splits[name]:
            h.update(json.dumps([name, r.get("draft"), r.get("reference"), list(r.get("keep") or []), r.get("channel")], ensure_ascii=False).encode())
    return splits, h.hexdigest()[:12]


def clause_records(path: str, ratio: float, seed: int) -> list[dict]:
    """Pairs from the clause-level split: a draft clause and the reference clause the alignment
    maps it to (fate ``kept`` or ``rewritten``; dropped clauses have no target). Keep spans that
    lie inside the clause come along."""
    from rewrite.data.jsonl import read_jsonl

    recs, problems = read_jsonl(Path(path))
    if problems:
        raise DataError("句子级数据有错误：\n" + "\n".join(str(x) for x in problems[:10]))
    rows = []
    for r in recs:
        clause, target = r.get("clause"), r.get("target")
        if r.get("fate") not in ("kept", "rewritten") or not isinstance(clause, str) or not isinstance(target, str) or not target:
            continue
        keep = [k for k in (r.get("keep") or []) if isinstance(k, str) and k in clause]
        rows.append({"draft": clause, "reference": target, "keep": keep, "channel": r.get("channel") or "phone"})
    rng = random.Random(f"{seed}:clauses")
    return [r for r in rows if rng.random() < ratio]


def _split(rows: list[dict], share: float, seed: int) -> dict[str, list[dict]]:
    """Deterministic split by a hash of the draft, so a draft never lands on both sides."""
    train, val = [], []
    for r in rows:
        key = hashlib.sha256(f"{seed}:{r.get('draft')}".encode()).digest()[0] / 256.0
        (val if key < share else train).append(r)
    return {"train": train, "validation": val}


@dataclass
class Example:
    """One model example: masked source and target, channel, the slots to restore, its kind."""

    source: str
    target: str
    channel: str
    slots: dict[str, str]
    kind: str
    reference: str = ""


def mask_pair(draft: str, reference: str, keep: Iterable[str] = ()) -> tuple[Example | None, str]:
    """Mask a pair for the model. Returns ``(example, "")`` or ``(None, why_dropped)``.

    The reference gets the draft's placeholders for the same values (longest value first).
    Content words (ENT from the segmenter) the reference does not carry are unmasked in the
    source; a fact the reference loses, or carries twice, drops the pair.
    """
    p = protect_for_model(draft, list(keep))
    slots = dict(p.slots)
    src, tgt = p.masked, reference
    missing_ent = []
    for ph, value in sorted(slots.items(), key=lambda kv: -len(kv[1])):
        if value in tgt:
            tgt = tgt.replace(value, ph)
        elif ph.startswith("<ENT"):
            missing_ent.append(ph)
        else:
            return None, "lost_fact"
    for ph in missing_ent:
        src = src.replace(ph, slots.pop(ph))
    if placeholder_problems(tgt, slots):
        return None, "duplicated"
    src, tgt, slots = _renumber(src, tgt, slots)
    return Example(src, tgt, "", slots, "pair", reference), ""


def _renumber(src: str, tgt: str, slots: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    """Number placeholders 1, 2, … per type in order of appearance in ``src`` (as at inference)."""
    mapping: dict[str, str] = {}
    counters: dict[str, int] = {}
    for m in PLACEHOLDER_RE.finditer(src):
        ph = m.group(0)
        if ph not in mapping:
            counters[m.group(1)] = counters.get(m.group(1), 0) + 1
            mapping[ph] = f"<{m.group(1)}{counters[m.group(1)]}>"
    if all(k == v for k, v in mapping.items()):
        return src, tgt, slots
    sub = lambda s: PLACEHOLDER_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), s)  # noqa: E731
    return sub(src), sub(tgt), {mapping[k]: v for k, v in slots.items() if k in mapping}


_PUNCT_TO_SPACE = re.compile(r"[，。！？；、,.!?;]")
_PARTICLES = ("啊", "呀", "嘛", "哈", "哦", "吧")


def add_noise(text: str, rng: random.Random) -> str:
    """Make a professional reply look typed in a hurry (placeholders are never touched)."""
    parts = re.split(r"(<[A-Z]+\d+>)", text)
    out = []
    for part in parts:
        if PLACEHOLDER_RE.fullmatch(part) or not part:
            out.append(part)
            continue
        s = part
        if rng.random() < 0.7:
            s = s.replace("您", "你")
        if rng.random() < 0.5:
            s = s.replace("请", "", 1)
        if rng.random() < 0.4:
            s = _PUNCT_TO_SPACE.sub(lambda m: " " if rng.random() < 0.6 else m.group(0), s)
        chars = list(s)
        i = 0
        noisy = []
        while i < len(chars):
            c = chars[i]
            r = rng.random()
            if r < 0.03 and "\u4e00" <= c <= "\u9fff":
                i += 1  # drop
                continue
            if r < 0.05 and i + 1 < len(chars):
                noisy += [chars[i + 1], c]  # swap
                i += 2
                continue
            noisy.append(c)
            if c in "，。！？ " and rng.random() < 0.1:
                noisy.insert(len(noisy) - 1, rng.choice(_PARTICLES))
            i += 1
        out.append("".join(noisy))
    return "".join(out).strip() or text


def _with_oov(ex: Example, rng: random.Random) -> Example:
    """Replace one CJK character present in both source and target by ``<OOV1>``."""
    plain = lambda s: re.sub(r"<[A-Z]+\d+>", "", s)  # noqa: E731
    common = sorted(set(c for c in plain(ex.source) if "\u4e00" <= c <= "\u9fff") & set(plain(ex.target)))
    if not common:
        return ex
    c = rng.choice(common)
    return Example(ex.source.replace(c, "<OOV1>"), ex.target.replace(c, "<OOV1>"), ex.channel, ex.slots, ex.kind + "+oov", ex.reference)


def make_examples(records: list[dict], args: DataArguments, rng: random.Random, *, train: bool) -> tuple[list[Example], dict[str, int]]:
    """Masked examples for one split, and counts of what was kept, dropped and added."""
    stats = {"pairs": len(records), "dropped_lost_fact": 0, "dropped_duplicated": 0, "unkept": 0, "denoise": 0, "identity": 0, "oov": 0}
    out: list[Example] = []
    for r in records:
        channel = r.get("channel") if r.get("channel") in ("phone", "chat") else "phone"
        keep = list(r.get("keep") or [])
        ex, why = mask_pair(r["draft"], r["reference"], keep)
        if ex is None:
            stats[f"dropped_{why}"] += 1
            continue
        ex.channel = channel
        out.append(ex)
        if not train:
            continue
        if keep and rng.random() < args.unkeep_ratio:
            ex2, _ = mask_pair(r["draft"], r["reference"], ())
            if ex2 is not None and ex2.source != ex.source:
                ex2.channel = channel
                out.append(ex2)
                stats["unkept"] += 1
    if train:
        refs = list(dict.fromkeys((r["reference"], r.get("channel") or "phone", tuple(r.get("keep") or ())) for r in records))
        n_denoise = int(round(len(records) * args.denoise_ratio))
        n_ident = int(round(len(records) * args.identity_ratio))
        for i in range(n_denoise + n_ident):
            ref, channel, keep = refs[rng.randrange(len(refs))]
            p = protect_for_model(ref, list(keep))
            if i < n_denoise:
                src = add_noise(p.masked, rng)
                if sorted(PLACEHOLDER_RE.findall(src)) != sorted(PLACEHOLDER_RE.findall(p.masked)):
                    continue
                out.append(Example(src, p.masked, channel, p.slots, "denoise", ref))
                stats["denoise"] += 1
            else:
                out.append(Example(p.masked, p.masked, channel, p.slots, "identity", ref))
                stats["identity"] += 1
        for i, ex in enumerate(out):
            if rng.random() < args.oov_ratio and "<OOV" not in ex.source:
                out[i] = _with_oov(ex, rng)
                stats["oov"] += out[i] is not ex
    return out, stats


def _vocab_texts(path: str | None) -> list[str]:
    if not path:
        return []
    p = Path(path)
    if not p.exists():
        from rewrite.errors import DataError

        raise DataError(f"--vocab-texts {path} 不存在：请指向种子文档目录（例如 ../shared/seeds）或去掉该参数。")
    files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
    texts = []
    for f in files:
        try:
            texts.append(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    return texts


# ---------------------------------------------------------------------------------------------
# Model


def build_model(margs: ModelArguments, tok) -> Any:
    """A fresh BART from ``margs``, or ``--base-model`` loaded and resized to the tokenizer."""
    from transformers import BartConfig, BartForConditionalGeneration

    from rewrite.engines.seq2seq.pointer import PointerBartForConditionalGeneration, is_pointer, load_model

    if margs.base_model:
        base = Path(margs.base_model)
        if not (base / "config.json").is_file():
            raise RewriteError(f"--base-model {base} 不是模型目录（缺少 config.json）：请指向 save_pretrained 保存的目录。")
        model = load_model(base)
        if model.get_input_embeddings().num_embeddings != len(tok):
            model.resize_token_embeddings(len(tok))
        if margs.pointer and not is_pointer(model.config):
            model = PointerBartForConditionalGeneration.from_plain(model)
    else:
        config = BartConfig(
            vocab_size=len(tok),
            d_model=margs.d_model,
            encoder_layers=margs.encoder_layers,
            decoder_layers=margs.decoder_layers,
            encoder_attention_heads=margs.attention_heads,
            decoder_attention_heads=margs.attention_heads,
            encoder_ffn_dim=margs.ffn_dim,
            decoder_ffn_dim=margs.ffn_dim,
            max_position_embeddings=margs.max_positions,
            dropout=margs.dropout,
            attention_dropout=0.0,
            activation_function="gelu",
            scale_embedding=True,
            pad_token_id=tok.pad_id,
            bos_token_id=tok.bos_id,
            eos_token_id=tok.eos_id,
            decoder_start_token_id=tok.bos_id,
            forced_eos_token_id=tok.eos_id,
        )
        model = (PointerBartForConditionalGeneration if margs.pointer else BartForConditionalGeneration)(config)
    for key, value in (("pad_token_id", tok.pad_id), ("bos_token_id", tok.bos_id), ("eos_token_id", tok.eos_id), ("decoder_start_token_id", tok.bos_id)):
        setattr(model.config, key, value)
        setattr(model.generation_config, key, value)
    model.generation_config.forced_bos_token_id = None
    model.generation_config.forced_eos_token_id = tok.eos_id
    return model


def encode_batch(tok, examples: list[Example], max_len: int) -> dict[str, Any]:
    """Padded tensors for a batch: input_ids/attention_mask, decoder_input_ids, labels (-100 pad)."""
    import torch

    srcs = [tok.ids(tok.source_tokens(ex.source, ex.channel))[:max_len] for ex in examples]
    tgts = [tok.encode(ex.target)[: max_len - 1] for ex in examples]
    S = max(len(s) for s in srcs)
    T = max(len(t) for t in tgts) + 1
    input_ids = torch.full((len(examples), S), tok.pad_id, dtype=torch.long)
    attn = torch.zeros((len(examples), S), dtype=torch.long)
    dec = torch.full((len(examples), T), tok.pad_id, dtype=torch.long)
    labels = torch.full((len(examples), T), -100, dtype=torch.long)
    for i, (s, t) in enumerate(zip(srcs, tgts)):
        input_ids[i, : len(s)] = torch.tensor(s)
        attn[i, : len(s)] = 1
        dec[i, : len(t) + 1] = torch.tensor([tok.bos_id] + t)
        labels[i, : len(t) + 1] = torch.tensor(t + [tok.eos_id])
    return {"input_ids": input_ids, "attention_mask": attn, "decoder_input_ids": dec, "labels": labels}


def batches_for_epoch(examples: list[Example], lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Index batches for one epoch: shuffled, grouped by length within pools of 50 batches."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(examples)))
    rng.shuffle(order)
    pool = batch_size * 50
    out = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda j: lengths[j])
        out += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def evaluate(model, tok, examples: list[Example], *, beams: int = 1, batch_size: int = 64) -> dict[str, float]:
    """chrF (sacrebleu, restored text vs reference), exact match and placeholder preservation."""
    import torch
    from sacrebleu.metrics import CHRF

    from rewrite.engines.seq2seq.pointer import generate_kwargs

    if not examples:
        return {}
    model.eval()
    preds: list[str] = []
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            batch = examples[i : i + batch_size]
            enc = encode_batch(tok, batch, model.config.max_position_embeddings)
            max_new = min(model.config.max_position_embeddings - 2, int(enc["input_ids"].shape[1] * 2) + 20)
            out = model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], num_beams=beams, max_new_tokens=max_new,
                                 do_sample=False, **generate_kwargs(model, enc["input_ids"]))
            preds += [tok.decode(seq.tolist()) for seq in out]
    model.train()
    ok = [not placeholder_problems(p, ex.slots) for p, ex in zip(preds, examples)]
    hyps = [restore(p, ex.slots) for p, ex in zip(preds, examples)]
    refs = [ex.reference or restore(ex.target, ex.slots) for ex in examples]
    chrf = CHRF().corpus_score(hyps, [refs])
    return {
        "chrf": round(chrf.score, 2),
        "exact_match": round(100.0 * sum(h == r for h, r in zip(hyps, refs)) / len(refs), 2),
        "placeholders_ok": round(100.0 * sum(ok) / len(ok), 2),
        "n": len(examples),
    }


# ---------------------------------------------------------------------------------------------
# Checkpoints


def last_checkpoint(output_dir: Path) -> Path | None:
    cks = [p for p in output_dir.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir() and (p / STATE_FILE).is_file()]
    return max(cks, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]), default=None)


def save_model(model, tok, directory: Path, extra: dict[str, Any] | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(directory))
    tok.save(directory)
    if extra is not None:
        (directory / "rewrite_train.json").write_text(json.dumps(extra, ensure_ascii=False, indent=2), encoding="utf-8")


def _save_checkpoint(model, tok, optimizer, scheduler, output_dir: Path, step: int, epoch: int, batch_in_epoch: int, history: list, limit: int) -> None:
    import torch

    ck = output_dir / f"{CHECKPOINT_PREFIX}{step}"
    save_model(model, tok, ck)
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "step": step, "epoch": epoch,
                "batch_in_epoch": batch_in_epoch, "torch_rng": torch.get_rng_state()}, ck / STATE_FILE)
    (ck / "trainer_state.json").write_text(json.dumps({"step": step, "epoch": epoch, "log_history": history}, ensure_ascii=False, indent=1), encoding="utf-8")
    cks = sorted((p for p in output_dir.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir()), key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]))
    for old in cks[: max(0, len(cks) - max(1, limit))]:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> tuple[ModelArguments, DataArguments, TrainingArguments]:
    from transformers import HfArgumentParser

    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments), prog="rewrite train",
                              description="Train the seq2seq rewriter (flags, or one JSON file with the same keys).")
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and argv[0].endswith(".json"):
        return parser.parse_json_file(os.path.abspath(argv[0]))
    return parser.parse_args_into_dataclasses(args=argv, look_for_args_file=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rewrite train``. Returns an exit code (0 = trained and saved)."""
    try:
        margs, dargs, targs = parse_args(argv)
    except SystemExit as e:  # argparse: --help or a bad flag
        return int(e.code or 0)
    try:
        results = train(margs, dargs, targs)
    except RewriteError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


def train(margs: ModelArguments, dargs: DataArguments, targs: TrainingArguments) -> dict[str, Any]:
    """Train and save; returns the metrics also written to ``all_results.json``."""
    import torch
    from tqdm.auto import tqdm
    from transformers import set_seed

    from rewrite.engines.seq2seq.tokenizer import CharTokenizer

    import transformers

    transformers.utils.logging.disable_progress_bar()
    t_start = time.time()
    torch.set_num_threads(max(1, targs.threads))
    set_seed(targs.seed)
    out_dir = Path(targs.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    resume_from = None if targs.overwrite_output_dir or not targs.resume else last_checkpoint(out_dir)
    if targs.overwrite_output_dir:
        for ck in out_dir.glob(f"{CHECKPOINT_PREFIX}*"):
            shutil.rmtree(ck, ignore_errors=True)

    splits, data_hash = load_records(dargs.data, dargs.validation_share, targs.seed)
    train_records = splits.get("train", [])
    if dargs.max_train_samples:
        train_records = train_records[: dargs.max_train_samples]
    if not train_records:
        raise DataError(f"{dargs.data} 中没有训练样本。")
    n_clauses = 0
    if dargs.clause_data:
        extra = clause_records(dargs.clause_data, dargs.clause_ratio, targs.seed)
        n_clauses = len(extra)
        train_records = train_records + extra
        h = hashlib.sha256(data_hash.encode())
        for r in extra:
            h.update(json.dumps([r["draft"], r["reference"], r["keep"], r["channel"]], ensure_ascii=False).encode())
        data_hash = h.hexdigest()[:12]
    rng = random.Random(targs.seed)
    train_ex, train_stats = make_examples(train_records, dargs, rng, train=True)
    val_ex, val_stats = make_examples(splits.get("validation", []), dargs, rng, train=False)
    val_ex = val_ex[: dargs.max_eval_samples]
    train_stats["clause_pairs"] = n_clauses
    log.info("examples: train %d %s, validation %d %s", len(train_ex), train_stats, len(val_ex), val_stats)

    if resume_from is not None:
        tok = CharTokenizer.load(resume_from)
        from rewrite.engines.seq2seq.pointer import load_model

        model = load_model(resume_from)
    else:
        texts = [t for ex in train_ex for t in (ex.source, ex.target)] + [ex.source for ex in val_ex] + _vocab_texts(dargs.vocab_texts)
        base_tok = Path(margs.base_model) if margs.base_model else None
        if base_tok is not None and (base_tok / "char_tokenizer.json").is_file():
            tok = CharTokenizer.load(base_tok).extended(texts)
        else:
            tok = CharTokenizer.build(texts)
        model = build_model(margs, tok)
    max_len = model.config.max_position_embeddings
    keep_idx = [i for i, ex in enumerate(train_ex)
                if len(tok.tokenize(ex.source)) + 2 <= max_len and len(tok.tokenize(ex.target)) + 1 <= max_len]
    train_stats["dropped_too_long"] = len(train_ex) - len(keep_idx)
    train_ex = [train_ex[i] for i in keep_idx]
    lengths = [len(ex.source) + len(ex.target) for ex in train_ex]

    steps_per_epoch = math.ceil(len(train_ex) / targs.batch_size)
    total_steps = targs.max_steps or max(1, int(steps_per_epoch * targs.num_epochs))
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": targs.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=targs.learning_rate)
    warm = max(1, targs.warmup_steps)

    budget_s = targs.time_budget_min * 60.0
    t_loop = time.time()

    def lr_lambda(s: int) -> float:
        """Linear warm-up, then linear decay to 10 % over the steps or the time budget,
        whichever runs out first (so a run cut by its budget still ends with a low rate)."""
        if s < warm:
            return (s + 1) / warm
        progress = (s - warm) / max(1, total_steps - warm)
        if budget_s:
            progress = max(progress, (time.time() - t_loop) / budget_s)
        return max(0.1, 1.0 - 0.9 * min(1.0, progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    step, epoch, batch_in_epoch = 0, 0, 0
    history: list[dict[str, Any]] = []
    if resume_from is not None:
        state = torch.load(resume_from / STATE_FILE, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        # The peak rate is this run's --learning-rate (a resumed run may lower it on purpose).
        scheduler.base_lrs = [targs.learning_rate for _ in scheduler.base_lrs]
        step, epoch, batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        torch.set_rng_state(state["torch_rng"])
        ts = json.loads((resume_from / "trainer_state.json").read_text(encoding="utf-8"))
        history = ts.get("log_history", [])
        log.info("resumed from %s at step %d", resume_from, step)
    n_params = sum(p.numel() for p in model.parameters())
    build_hash = None
    info_path = Path(dargs.data).parent / "build_info.json"
    if info_path.is_file():
        build_hash = json.loads(info_path.read_text(encoding="utf-8")).get("build_hash")
    run_info = {
        "data": dargs.data, "data_hash": data_hash, "build_hash": build_hash, "train_examples": len(train_ex), "validation_examples": len(val_ex),
        "train_stats": train_stats, "validation_stats": val_stats, "vocab_size": len(tok), "parameters": n_params,
        "model_args": asdict(margs), "data_args": asdict(dargs), "training_args": asdict(targs),
        "resumed_from": str(resume_from) if resume_from else None,
    }
    (out_dir / "run_info.json").write_text(json.dumps(run_info, ensure_ascii=False, indent=1), encoding="utf-8")

    model.train()
    bar = tqdm(total=total_steps, initial=step, desc="train", disable=not targs.progress, mininterval=1.0 if sys.stderr.isatty() else 30.0)
    t_loop = time.time()
    loss_sum, loss_n, tokens_seen = 0.0, 0, 0
    stopped_by = "steps"
    last_eval: dict[str, float] = {}
    while step < total_steps:
        plan = batches_for_epoch(train_ex, lengths, targs.batch_size, targs.seed, epoch)
        while batch_in_epoch < len(plan) and step < total_steps:
            idx = plan[batch_in_epoch]
            batch_in_epoch += 1
            enc = encode_batch(tok, [train_ex[i] for i in idx], max_len)
            logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], decoder_input_ids=enc["decoder_input_ids"]).logits
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), enc["labels"].reshape(-1), ignore_index=-100, label_smoothing=targs.label_smoothing
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            loss_sum += loss.item()
            loss_n += 1
            tokens_seen += int(enc["attention_mask"].sum()) + int((enc["labels"] != -100).sum())
            if targs.logging_steps and step % targs.logging_steps == 0:
                rec = {"step": step, "epoch": epoch, "loss": round(loss_sum / loss_n, 4), "lr": scheduler.get_last_lr()[0],
                       "tokens_per_s": round(tokens_seen / max(1e-9, time.time() - t_loop), 1), "elapsed_min": round((time.time() - t_start) / 60, 2)}
                history.append(rec)
                bar.set_postfix(loss=rec["loss"])
                log.info("%s", rec)
                loss_sum, loss_n = 0.0, 0
            if targs.eval_steps and step % targs.eval_steps == 0:
                last_eval = evaluate(model, tok, val_ex, beams=targs.eval_beams)
                history.append({"step": step, **{f"eval_{k}": v for k, v in last_eval.items()}})
                log.info("eval at %d: %s", step, last_eval)
                bar.write(f"eval step {step}: {last_eval}")
            if targs.save_steps and step % targs.save_steps == 0:
                _save_checkpoint(model, tok, optimizer, scheduler, out_dir, step, epoch, batch_in_epoch, history, targs.save_total_limit)
            if budget_s and time.time() - t_loop > budget_s:
                stopped_by = "time_budget"
                break
        if stopped_by == "time_budget":
            break
        if batch_in_epoch >= len(plan):
            epoch += 1
            batch_in_epoch = 0
    bar.close()
    train_s = time.time() - t_loop
    _save_checkpoint(model, tok, optimizer, scheduler, out_dir, step, epoch, batch_in_epoch, history, targs.save_total_limit)
    final_eval = evaluate(model, tok, val_ex, beams=targs.eval_beams)
    results = {
        "step": step, "epoch": epoch, "stopped_by": stopped_by, "train_wall_s": round(train_s, 1), "total_wall_s": round(time.time() - t_start, 1),
        "train_loss": next((h["loss"] for h in reversed(history) if "loss" in h), None),
        **{f"eval_{k}": v for k, v in final_eval.items()},
        "data_hash": data_hash, "build_hash": build_hash, "vocab_size": len(tok), "parameters": n_params,
    }
    save_model(model, tok, out_dir, extra={**run_info, "results": results})
    (out_dir / "all_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "trainer_state.json").write_text(json.dumps({"step": step, "log_history": history}, ensure_ascii=False, indent=1), encoding="utf-8")
    return results
