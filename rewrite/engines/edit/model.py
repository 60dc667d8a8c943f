"""The edit model: a small transformers encoder that tags the rules backend's output with edits.

Why: a seq2seq model trained from scratch on a few thousand written pairs learns the frames of
professional replies but not to copy; on drafts worded in ways it has never seen it writes a fluent
reply about something else (see the model card of ``rewrite/shipped``). The edit model cannot do
that: every character of its output is either carried over from its input or comes from a closed
list of phrases mined from the training pairs (openings, closings, 请/为您, …).

How (LaserTagger / GECToR style):

* input: the rules backend's rewrite of the masked chunk (placeholders for facts and content words,
  forbidden phrasing already replaced), with the channel token in front and ``</s>`` at the end;
* per input token one label = (keep or delete the token) × (phrase to insert before it, or none);
  the label on ``</s>`` is the phrase appended at the end;
* labels come from aligning that input with the masked reference (:func:`edit_labels`); only what
  the model may do is taught: insertions from the phrase list and deletions of fillers;
* at inference only fillers and spaces (:data:`DELETABLE`) are ever deleted, and insertions go only
  between words (see :meth:`EditTagger.edit`).

``rewrite train-edit`` trains it (flags or one JSON file); :class:`EditTagger` loads and runs it.
"""
from __future__ import annotations

import collections
import difflib
import json
import logging
import math
import random
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from rewrite.errors import RewriteError
from rewrite.protect import PLACEHOLDER_RE

log = logging.getLogger("rewrite.engines.edit.model")

PHRASES_FILE = "edit_phrases.json"
NONE = ""  # phrase id 0: insert nothing
#: The only tokens the model may delete at inference: fillers, interjections and spaces. Anything
#: else (content, pronouns, punctuation, placeholders, negations) stays where it is.
DELETABLE = frozenset("啊呀嘛哈哦喔噢喂嗯唉哎诶啦咯哟呗额呃▁")


def _source(tok, text: str, channel: str) -> list[str]:
    """Channel token, the text's tokens (unknown characters kept as text), ``</s>``."""
    from rewrite.engines.seq2seq.tokenizer import CHANNEL_TOKENS, EOS

    return [CHANNEL_TOKENS.get(channel, CHANNEL_TOKENS["phone"]), *tok.pieces(text), EOS]


# ---------------------------------------------------------------------------------------------
# Labels


def _opcodes(src: Sequence[str], tgt: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes, with one-token coincidences between two edits folded into one replacement
    (a paraphrase shares stray characters with its draft; those are not edits worth learning)."""
    ops = [list(o) for o in difflib.SequenceMatcher(None, list(src), list(tgt), autojunk=False).get_opcodes()]
    merged: list[list] = []
    for k, op in enumerate(ops):
        short_equal = (
            op[0] == "equal" and op[2] - op[1] < 2 and 0 < k < len(ops) - 1
            and not PLACEHOLDER_RE.fullmatch(src[op[1]])
        )
        if merged and merged[-1][0] != "equal" and (op[0] != "equal" or short_equal):
            merged[-1] = ["replace", merged[-1][1], op[2], merged[-1][3], op[4]]
        elif short_equal:
            merged.append(["replace", op[1], op[2], op[3], op[4]])
        else:
            merged.append(op)
    for op in merged:  # a replacement with an empty side is an insert / delete
        if op[0] == "replace" and op[1] == op[2]:
            op[0] = "insert"
        elif op[0] == "replace" and op[3] == op[4]:
            op[0] = "delete"
    return [tuple(o) for o in merged]  # type: ignore[misc]


def align(src: Sequence[str], tgt: Sequence[str]) -> tuple[list[bool], list[str], list[tuple[str, int, int, int, int]]]:
    """Edit script from ``src`` to ``tgt`` (token lists): per source token keep/delete, per gap
    (before token i, and after the last) the inserted text, and the opcodes."""
    keep = [True] * len(src)
    ins = [""] * (len(src) + 1)
    ops = _opcodes(src, tgt)
    for op, i1, i2, j1, j2 in ops:
        if op in ("delete", "replace"):
            for i in range(i1, i2):
                keep[i] = False
        if op in ("insert", "replace"):
            ins[i1] += "".join(tgt[j1:j2])
    return keep, ins, ops


IGNORE = -100


def edit_labels(src: Sequence[str], tgt: Sequence[str], phrase_ids: dict[str, int]) -> tuple[list[int], bool]:
    """Labels for ``src`` + the end slot (``len(src) + 1`` of them): ``phrase_id * 2 + deleted``,
    or ``IGNORE`` where the pair teaches nothing safe.

    Only what the model may do is supervised: an insertion or replacement whose text is not a
    listed phrase is left unlabelled (``IGNORE``), and so is any deletion of a token outside
    :data:`DELETABLE` (fillers, interjections, spaces): a paraphrase may drop or reword content,
    the edit model must not. Returns the labels and whether every edit of the pair is supervised.
    """
    keep, ins, ops = align(src, tgt)
    n = len(src)
    known = [True] * (n + 1)
    for op, i1, i2, j1, j2 in ops:
        text = "".join(tgt[j1:j2])
        if op == "insert" and text not in phrase_ids:
            known[i1] = False
        elif op == "replace" and (text not in phrase_ids or any(src[i] not in DELETABLE for i in range(i1, i2))):
            for i in range(i1, i2):
                known[i] = False
        elif op == "delete" and any(src[i] not in DELETABLE for i in range(i1, i2)):
            for i in range(i1, i2):
                known[i] = False
    labels = []
    for i in range(n + 1):
        if not known[i] or ins[i] not in phrase_ids:
            labels.append(IGNORE)
            continue
        deleted = i < n and not keep[i]
        labels.append(phrase_ids[ins[i]] * 2 + int(deleted))
    return labels, all(x != IGNORE for x in labels)


def apply_labels(src: Sequence[str], labels: Sequence[int], phrases: Sequence[str]) -> str:
    """The text the labels describe (``IGNORE`` = keep, insert nothing)."""
    out: list[str] = []
    for i in range(len(src) + 1):
        pid, deleted = divmod(labels[i], 2) if labels[i] >= 0 else (0, 0)
        out.append(phrases[pid])
        if i < len(src) and not deleted:
            out.append(src[i])
    return tidy("".join(out).replace("▁", " ").replace("<nl>", "\n"))


_PUNCT_RUN = re.compile(r"([，。！？；、,.!?;])[，。、,.;；]+")
_LEAD_PUNCT = re.compile(r"^[，。、,.;；\s]+")


def tidy(text: str) -> str:
    """Collapse punctuation runs that edits can leave behind (``，。`` → ``，``)."""
    text = _PUNCT_RUN.sub(r"\1", text)
    text = _LEAD_PUNCT.sub("", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def mine_phrases(pairs: Iterable[tuple[list[str], list[str], str]], max_phrases: int, min_count: int, max_chars: int = 14) -> list[str]:
    """The insertion / replacement texts of ``(src, tgt, origin)`` triples that at least
    ``min_count`` distinct origins (written pairs) use, most frequent first (ties by text), at most
    ``max_phrases``, each at most ``max_chars`` characters; index 0 is the empty phrase. Counting origins, not pairs, keeps out the long
    spans one written pair repeats through its augmented copies."""
    seen: set[tuple[str, str]] = set()
    counts: collections.Counter[str] = collections.Counter()
    for src, tgt, origin in pairs:
        _, ins, _ = align(src, tgt)
        for x in ins:
            if x and (x, origin) not in seen:
                seen.add((x, origin))
                counts[x] += 1
    ranked = sorted(
        (p for p, c in counts.items() if c >= min_count and len(p) <= max_chars and not PLACEHOLDER_RE.search(p)),
        key=lambda p: (-counts[p], p),
    )
    return [NONE] + ranked[: max(0, max_phrases - 1)]


# ---------------------------------------------------------------------------------------------
# Arguments


@dataclass
class EditArguments:
    """Everything ``rewrite train-edit`` takes (flags, or one JSON file with the same keys)."""

    output_dir: str = field(metadata={"help": "Where the model, edit_phrases.json and all_results.json go."})
    data: str = field(default="rewrite/data/build/dataset", metadata={"help": "DatasetDict directory or JSONL pairs (as for `rewrite train`)."})
    base_model: Optional[str] = field(default=None, metadata={"help": "Local edit model directory (written by this command) to continue from."})
    vocab_texts: Optional[str] = field(default=None, metadata={"help": "Extra texts whose characters join the vocabulary (e.g. ../shared/seeds). Never eval/bench."})
    hidden_size: int = field(default=256, metadata={"help": "Hidden size."})
    layers: int = field(default=4, metadata={"help": "Encoder layers."})
    heads: int = field(default=4, metadata={"help": "Attention heads."})
    ffn_dim: int = field(default=1024, metadata={"help": "Feed-forward size."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout."})
    max_positions: int = field(default=256, metadata={"help": "Longest input in tokens; longer examples are dropped."})
    max_phrases: int = field(default=800, metadata={"help": "Size of the insertion phrase list."})
    min_phrase_count: int = field(default=4, metadata={"help": "A phrase must be inserted by this many distinct written pairs to be listed."})
    max_phrase_chars: int = field(default=14, metadata={"help": "Longest phrase listed (characters)."})
    validation_share: float = field(default=0.05, metadata={"help": "Share held out for validation when --data is JSONL."})
    denoise_ratio: float = field(default=0.2, metadata={"help": "Extra examples per pair: a noised reference (through the rules) → the reference."})
    max_train_samples: int = field(default=0, metadata={"help": "Use at most this many training pairs (0 = all)."})
    max_eval_samples: int = field(default=400, metadata={"help": "Validation pairs scored at each evaluation."})
    seed: int = field(default=42, metadata={"help": "Random seed."})
    max_steps: int = field(default=0, metadata={"help": "Stop after this many steps (0 = use num_epochs)."})
    num_epochs: float = field(default=3.0, metadata={"help": "Epochs when max_steps is 0."})
    time_budget_min: float = field(default=0.0, metadata={"help": "Stop (and save) after this many minutes (0 = no limit)."})
    learning_rate: float = field(default=5e-4, metadata={"help": "Peak learning rate (AdamW)."})
    warmup_steps: int = field(default=200, metadata={"help": "Linear warm-up steps, then linear decay to 10%%."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    batch_size: int = field(default=64, metadata={"help": "Examples per step."})
    eval_steps: int = field(default=1000, metadata={"help": "Validate and save every N steps (0 = only at the end)."})
    threads: int = field(default=2, metadata={"help": "torch CPU threads."})
    progress: bool = field(default=True, metadata={"help": "Show a tqdm progress bar."})


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class EditExample:
    tokens: list[str]  # channel token, input tokens, </s>
    target: str  # masked reference
    labels: list[int] | None = None
    reachable: bool = False
    kind: str = "pair"


def rules_input(masked: str, channel: str, rules=None) -> str:
    """What the edit model reads: the rules backend's rewrite of a masked chunk."""
    if rules is None:
        from rewrite.engines.rules import RulesBackend

        rules = RulesBackend()
    return rules.rewrite_chunk(masked, channel=channel)


def make_edit_examples(records: list[dict], args: EditArguments, rng: random.Random, *, train: bool) -> tuple[list[tuple[str, str, str, str, str]], dict[str, int]]:
    """``(input, target, channel, kind, origin)`` per example: input is the rules rewrite of the
    masked draft; origin names the written pair it comes from."""
    from rewrite.engines.rules import RulesBackend
    from rewrite.protect import protect_for_model
    from rewrite.engines.seq2seq.train import add_noise, mask_pair

    rules = RulesBackend()
    stats = {"pairs": len(records), "dropped": 0, "denoise": 0}
    out: list[tuple[str, str, str, str, str]] = []
    for r in records:
        channel = r.get("channel") if r.get("channel") in ("phone", "chat") else "phone"
        ex, why = mask_pair(r["draft"], r["reference"], list(r.get("keep") or []))
        if ex is None:
            stats["dropped"] += 1
            continue
        origin = str(r.get("origin") or r.get("id") or r["reference"])
        out.append((rules_input(ex.source, channel, rules), ex.target, channel, "pair", origin))
    if train and args.denoise_ratio > 0:
        refs = list(dict.fromkeys((r["reference"], r.get("channel") or "phone") for r in records))
        for _ in range(int(round(len(records) * args.denoise_ratio))):
            ref, channel = refs[rng.randrange(len(refs))]
            p = protect_for_model(ref)
            noisy = add_noise(p.masked, rng)
            if sorted(PLACEHOLDER_RE.findall(noisy)) != sorted(PLACEHOLDER_RE.findall(p.masked)):
                continue
            out.append((rules_input(noisy, channel, rules), p.masked, channel, "denoise", ref))
            stats["denoise"] += 1
    return out, stats


# ---------------------------------------------------------------------------------------------
# Model


def build_model(args: EditArguments, vocab_size: int, num_labels: int):
    from transformers import BertConfig, BertForTokenClassification

    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=args.hidden_size,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.ffn_dim,
        hidden_dropout_prob=args.dropout,
        attention_probs_dropout_prob=args.dropout,
        max_position_embeddings=args.max_positions,
        type_vocab_size=1,
        num_labels=num_labels,
        pad_token_id=0,
    )
    return BertForTokenClassification(config)


class EditTagger:
    """A trained edit model: ``tagger.edit(inputs, channel)`` → output texts (still masked).

    ``runtime``: ``numpy`` (default: :mod:`rewrite.engines.edit.runtime`, no torch or transformers
    imported, so the default engine's first rewrite stays quick) or ``torch`` (transformers'
    ``BertForTokenClassification``; the reference the NumPy runtime is tested against)."""

    RUNTIMES = ("numpy", "torch")

    def __init__(self, model_dir: str | Path, threads: int = 1, runtime: str = "numpy"):
        from rewrite.engines.seq2seq.tokenizer import CharTokenizer

        if runtime not in self.RUNTIMES:
            raise RewriteError(f"未知的编辑模型运行时 {runtime!r}，可选：{'、'.join(self.RUNTIMES)}。")
        self.model_dir = Path(model_dir)
        self.runtime = runtime
        self.tok = CharTokenizer.load(self.model_dir)
        self.phrases: list[str] = json.loads((self.model_dir / PHRASES_FILE).read_text(encoding="utf-8"))["phrases"]
        self.threads = threads
        self.int8 = False
        if runtime == "torch":
            import torch
            from transformers import BertForTokenClassification
            from transformers.utils import logging as hf_logging

            bars = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()  # no "Loading weights" bar in an agent's terminal
            try:
                self.model = BertForTokenClassification.from_pretrained(str(self.model_dir), local_files_only=True)
            finally:
                if bars:
                    hf_logging.enable_progress_bar()
            self.model.eval()
            self.torch = torch
        else:
            from rewrite.engines.edit.runtime import NumpyBertTagger

            self.model = NumpyBertTagger(self.model_dir, int8=False)
        self.max_len = int(json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))["max_position_embeddings"])
        gates = self.model_dir / "inference.json"
        # A phrase holding a placeholder would invent a fact: never inserted (older phrase lists).
        self._fact_phrases = [i for i, p in enumerate(self.phrases) if PLACEHOLDER_RE.search(p)]
        # An opening is a whole frame ending in a comma (您好，/ 非常抱歉，/ 亲，): a bare word in
        # front of a reply (这里是物流显示…, 经师傅…, 维修了三次…) garbles its first sentence.
        self._not_openings = {i for i, p in enumerate(self.phrases) if i and not _OPENING.search(p)}
        info = json.loads(gates.read_text(encoding="utf-8")) if gates.is_file() else {}
        self.min_insert_prob = float(info.get("min_insert_prob", 0.0))
        self.min_frame_prob = float(info.get("min_frame_prob", self.min_insert_prob))

    def quantize(self) -> bool:
        """Dynamic int8 quantization of the linear layers, for inference on CPU (about 1.7× faster
        in torch; on the 460 bench chunks 99.6 % of outputs equal float32's). The NumPy runtime
        reproduces torch's arithmetic. Returns False, leaving float32, where this torch has no such
        quantization."""
        if self.runtime == "numpy":
            from rewrite.engines.edit.runtime import NumpyBertTagger

            self.model = NumpyBertTagger(self.model_dir, int8=True)
            self.int8 = True
            return True
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.model = self.torch.ao.quantization.quantize_dynamic(self.model, {self.torch.nn.Linear}, dtype=self.torch.qint8)
        except Exception:  # noqa: BLE001 - deprecated API; float32 is always correct
            return False
        self.int8 = True
        return True

    def logits(self, token_lists: list[list[str]]):
        """Float32 NumPy array (batch, length, labels); the batch is padded to its longest input."""
        import numpy as np

        width = max(len(t) for t in token_lists)
        ids = np.zeros((len(token_lists), width), dtype=np.int64)
        attn = np.zeros((len(token_lists), width), dtype=np.int64)
        for row, toks in enumerate(token_lists):
            ids[row, : len(toks)] = self.tok.ids(toks)
            attn[row, : len(toks)] = 1
        if self.runtime == "numpy":
            return self.model.logits(ids, attn)
        torch = self.torch
        with torch.no_grad():
            return self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(attn)).logits.numpy()

    def edit(
        self,
        inputs: Sequence[str],
        channel: str = "phone",
        *,
        positions: Sequence[tuple[bool, bool]] | None = None,
    ) -> list[tuple[str, str] | None]:
        """Per input: ``(edited, frame_only)`` from one forward pass, or ``None`` when the input is
        too long for the model. ``frame_only`` keeps just the opening and the close.

        Constraints: only fillers and spaces (:data:`DELETABLE`) are ever deleted; nothing is
        inserted between a number or placeholder and the word after it (``23块`` stays whole); an
        insertion needs probability ``min_frame_prob`` at the start or end and ``min_insert_prob``
        inside (``inference.json``); ``positions`` (per input: does it start / end the reply?)
        allow an opening only at a start, a close only at an end."""
        pos = list(positions) if positions is not None else [(True, True)] * len(inputs)
        result: list[tuple[str, str] | None] = [None] * len(inputs)
        for i, scored in enumerate(self.score(inputs, channel, pos)):
            if scored is not None:
                result[i] = self.decode(*scored)
        return result

    def score(self, inputs: Sequence[str], channel: str, positions: Sequence[tuple[bool, bool]]):
        """Per input ``(tokens, log-probabilities)`` with the constraints applied (slot × phrase ×
        keep/delete), or ``None`` when too long: :meth:`decode` turns them into text."""
        import numpy as np

        token_lists = [_source(self.tok, x, channel) for x in inputs]
        out: list[Any] = [None] * len(inputs)
        todo = [i for i, t in enumerate(token_lists) if len(t) <= self.max_len]
        neg = float("-inf")
        for start in range(0, len(todo), 32):
            idx = todo[start : start + 32]
            logits = self.logits([token_lists[i] for i in idx])
            for row, i in enumerate(idx):
                toks = token_lists[i][1:-1]
                n = len(toks)
                lg = logits[row, 1 : n + 2].copy().reshape(n + 1, -1, 2)  # (slot, phrase, keep/delete)
                if self._fact_phrases:
                    lg[:, self._fact_phrases, :] = neg
                inside = _inside_words(toks)
                for j, t in enumerate(toks):
                    if t not in DELETABLE:
                        lg[j, :, 1] = neg
                    if j in inside or (j and _GLUED.match(toks[j - 1]) and not _BREAK.match(t)):
                        lg[j, 1:, :] = neg
                lg[n, :, 1] = neg
                starts, ends = positions[i]
                if not starts:
                    lg[0, 1:, :] = neg
                if not ends:
                    lg[n, 1:, :] = neg
                flat = lg.reshape(n + 1, -1)
                top = flat.max(-1, keepdims=True)
                out[i] = (toks, flat - top - np.log(np.exp(flat - top).sum(-1, keepdims=True)))  # log-softmax
        return out

    def decode(self, toks: list[str], logp, frame_prob: float | None = None, insert_prob: float | None = None) -> tuple[str, str]:
        """``(edited, frame_only)`` from :meth:`score`'s output and the insertion thresholds."""
        fp = self.min_frame_prob if frame_prob is None else frame_prob
        ip = self.min_insert_prob if insert_prob is None else insert_prob
        n = len(toks)
        best = logp.argmax(-1).tolist()
        labels = []
        for j in range(n + 1):
            lab = best[j]
            need = fp if j in (0, n) else ip
            if lab >= 2 and (need > 1.0 or math.exp(float(logp[j, lab])) < need):
                lab = int(logp[j, :2].argmax())  # not sure enough: insert nothing here
            elif j == 0 and lab // 2 in self._not_openings:
                lab = int(logp[j, :2].argmax())  # no whole frame: nothing rather than a stray word
            labels.append(lab)
        frame = [lab if j in (0, n) else lab % 2 for j, lab in enumerate(labels)]
        return apply_labels(toks, labels, self.phrases), apply_labels(toks, frame, self.phrases)


def _inside_words(toks: Sequence[str]) -> set[int]:
    """Token positions that continue a word (jieba, with the project's lexicon): nothing is
    inserted there, so a phrase never lands inside 打错 or 杂音."""
    from rewrite.protect import _segmenter

    text = "".join("某" if len(t) > 1 and t != "<nl>" else "\n" if t == "<nl>" else " " if t == "▁" else t for t in toks)
    inside: set[int] = set()
    pos = 0
    for word in _segmenter().pos.tokenizer.cut(text, HMM=True):
        inside.update(range(pos + 1, pos + len(word)))
        pos += len(word)
    return inside


_OPENING = re.compile(r"^(?:您好|亲|好的|非常抱歉|很抱歉|抱歉|对不起|不好意思|感谢|谢谢)[^，,]{0,6}[，,]")
_GLUED = re.compile(r"<[A-Z]+\d+>|[0-9A-Za-z.%]$")
_BREAK = re.compile(r"[，。！？；、,.!?;:：▁]|<nl>$")


# ---------------------------------------------------------------------------------------------
# Training


def parse_args(argv: list[str] | None) -> EditArguments:
    from rewrite.train_cli import parse_dataclass

    return parse_dataclass(EditArguments, "rewrite train-edit", "Train the edit model (flags, or one JSON file with the same keys).", argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rewrite train-edit``."""
    from rewrite.train_cli import run_training

    return run_training(parse_args, train, argv)


def _encode(tok, examples: list[EditExample], phrase_ids: dict[str, int]) -> None:
    for ex in examples:
        tgt = tok.pieces(ex.target)
        ex.labels, ex.reachable = edit_labels(ex.tokens[1:-1], tgt, phrase_ids)


def evaluate(tagger_model, tok, phrases: list[str], examples: list[EditExample]) -> dict[str, float]:
    """Label accuracy, exact match of the edited text with the reachable target, and chrF of the
    edited text against the (masked) reference."""
    import torch
    from sacrebleu.metrics import CHRF

    if not examples:
        return {"n": 0}
    tagger_model.eval()
    outs, refs, correct, total, exact, n_reach = [], [], 0, 0, 0, 0
    for start in range(0, len(examples), 64):
        batch = examples[start : start + 64]
        ids, attn = _tensors(tok, batch)
        with torch.no_grad():
            logits = tagger_model(input_ids=ids, attention_mask=attn).logits
        for row, ex in enumerate(batch):
            n = len(ex.tokens) - 2
            pred = logits[row, 1 : n + 2].argmax(-1).tolist()
            correct += sum(int(p == g) for p, g in zip(pred, ex.labels) if g >= 0)
            total += sum(g >= 0 for g in ex.labels)
            text = apply_labels(ex.tokens[1:-1], pred, phrases)
            outs.append(text)
            refs.append(ex.target)
            if ex.reachable:
                n_reach += 1
                exact += int(text == apply_labels(ex.tokens[1:-1], ex.labels, phrases))
    tagger_model.train()
    return {
        "label_accuracy": round(100.0 * correct / max(1, total), 2),
        "exact_reachable": round(100.0 * exact / max(1, n_reach), 2),
        "chrf": round(CHRF().corpus_score(outs, [refs]).score, 2),
        "chrf_input": round(CHRF().corpus_score([tidy("".join(ex.tokens[1:-1]).replace("▁", " ")) for ex in examples], [refs]).score, 2),
        "n": len(examples),
    }


def _tensors(tok, batch: list[EditExample]):
    import torch

    width = max(len(ex.tokens) for ex in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    attn = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ex in enumerate(batch):
        ids[row, : len(ex.tokens)] = torch.tensor(tok.ids(ex.tokens))
        attn[row, : len(ex.tokens)] = 1
    return ids, attn


def _label_tensor(batch: list[EditExample], width: int):
    import torch

    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, ex in enumerate(batch):
        labels[row, 1 : len(ex.labels) + 1] = torch.tensor(ex.labels)
    return labels


def train(args: EditArguments) -> dict[str, Any]:
    import torch
    from tqdm.auto import tqdm
    from transformers import BertForTokenClassification, set_seed

    from rewrite.engines.seq2seq.tokenizer import CharTokenizer
    from rewrite.engines.seq2seq.train import _vocab_texts, load_records

    t_start = time.time()
    set_seed(args.seed)
    torch.set_num_threads(max(1, args.threads))
    rng = random.Random(args.seed)
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    splits, data_hash = load_records(args.data, args.validation_share, args.seed)
    train_recs = splits["train"]
    if args.max_train_samples:
        train_recs = train_recs[: args.max_train_samples]
    val_recs = splits.get("validation", [])[: args.max_eval_samples]
    raw_train, stats = make_edit_examples(train_recs, args, rng, train=True)
    raw_val, _ = make_edit_examples(val_recs, args, rng, train=False)
    log.info("examples: %d train, %d validation (%s)", len(raw_train), len(raw_val), stats)

    if args.base_model:
        base = Path(args.base_model)
        if not (base / PHRASES_FILE).is_file():
            raise RewriteError(f"--base-model {base} 不是编辑模型目录（缺少 {PHRASES_FILE}）。")
        tok = CharTokenizer.load(base)
        phrases = json.loads((base / PHRASES_FILE).read_text(encoding="utf-8"))["phrases"]
        model = BertForTokenClassification.from_pretrained(str(base), local_files_only=True)
    else:
        tok = CharTokenizer.build([x for a, b, *_ in raw_train for x in (a, b)] + _vocab_texts(args.vocab_texts))
        phrases = mine_phrases(((tok.pieces(a), tok.pieces(b), o) for a, b, _, _, o in raw_train), args.max_phrases, args.min_phrase_count, args.max_phrase_chars)
        model = build_model(args, len(tok), 2 * len(phrases))
    phrase_ids = {p: i for i, p in enumerate(phrases)}

    def examples(raw):
        exs = [EditExample(_source(tok, a, ch), b, kind=kind) for a, b, ch, kind, _ in raw]
        exs = [e for e in exs if len(e.tokens) <= args.max_positions]
        _encode(tok, exs, phrase_ids)
        return exs

    train_ex, val_ex = examples(raw_train), examples(raw_val)
    if not train_ex:
        from rewrite.errors import DataError

        raise DataError(f"{args.data} 里没有可用的训练样本（全部被过滤或划入验证集）：请检查数据，或多给一些 draft/reference 对。")
    reach = sum(e.reachable for e in train_ex) / max(1, len(train_ex))
    log.info("phrases: %d; reachable training targets: %.1f%%", len(phrases), 100 * reach)

    n_params = sum(p.numel() for p in model.parameters())
    steps_per_epoch = math.ceil(len(train_ex) / args.batch_size)
    max_steps = args.max_steps or int(math.ceil(args.num_epochs * steps_per_epoch))
    opt = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)

    def lr_at(step: int) -> float:
        if step < args.warmup_steps:
            return (step + 1) / max(1, args.warmup_steps)
        if args.time_budget_min and not args.max_steps:
            frac = (time.time() - t_train) / (60.0 * args.time_budget_min)
        else:
            frac = (step - args.warmup_steps) / max(1, max_steps - args.warmup_steps)
        return max(0.1, 1.0 - 0.9 * min(1.0, frac))

    def save(directory: Path, extra: dict[str, Any]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(directory))
        tok.save(directory)
        (directory / PHRASES_FILE).write_text(json.dumps({"phrases": phrases}, ensure_ascii=False, indent=0), encoding="utf-8")
        (directory / "train_config.json").write_text(json.dumps(asdict(args), ensure_ascii=False, indent=1), encoding="utf-8")
        (directory / "all_results.json").write_text(json.dumps(extra, ensure_ascii=False, indent=1), encoding="utf-8")

    model.train()
    history: list[dict[str, Any]] = []
    step, epoch, loss_avg = 0, 0, None
    t_train = time.time()
    bar = tqdm(total=max_steps, desc="train-edit", disable=not args.progress)
    stop = False
    while not stop:
        order = sorted(range(len(train_ex)), key=lambda i: (len(train_ex[i].tokens) + rng.random() * 8))
        batches = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]
        rng.shuffle(batches)
        for b in batches:
            batch = [train_ex[i] for i in b]
            ids, attn = _tensors(tok, batch)
            labels = _label_tensor(batch, ids.shape[1])
            for g in opt.param_groups:
                g["lr"] = args.learning_rate * lr_at(step)
            loss = model(input_ids=ids, attention_mask=attn, labels=labels).loss
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            loss_avg = loss.item() if loss_avg is None else 0.98 * loss_avg + 0.02 * loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{loss_avg:.3f}")
            budget_hit = args.time_budget_min and (time.time() - t_train) > 60.0 * args.time_budget_min
            if args.eval_steps and step % args.eval_steps == 0 and step < max_steps and not budget_hit:
                m = evaluate(model, tok, phrases, val_ex)
                history.append({"step": step, "loss": round(loss_avg, 4), **m})
                log.info("step %d: %s", step, m)
                save(out_dir, {"history": history, "partial": True})
            if step >= max_steps or budget_hit:
                stop = True
                break
        epoch += 1
    bar.close()
    train_s = time.time() - t_train
    final = evaluate(model, tok, phrases, val_ex)
    history.append({"step": step, "loss": round(loss_avg or 0.0, 4), **final})
    results = {
        "steps": step,
        "epochs": round(step / max(1, steps_per_epoch), 2),
        "train_seconds": round(train_s, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "parameters": n_params,
        "phrases": len(phrases),
        "train_examples": len(train_ex),
        "reachable_train": round(100 * reach, 1),
        "data_hash": data_hash,
        "data_stats": stats,
        "validation": final,
        "history": history,
    }
    save(out_dir, results)
    if raw_val:
        results["inference"] = tune_insert_prob(out_dir, raw_val)
        save(out_dir, results)
    return results


#: Insertion thresholds tried by :func:`tune_insert_prob` (above 1: never insert there).
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def tune_insert_prob(model_dir: str | Path, raw_val: list[tuple[str, str, str, str, str]]) -> dict[str, Any]:
    """Pick ``min_frame_prob`` (openings and closes) and ``min_insert_prob`` (inside) on
    validation examples: chrF of the edited text against the masked reference, ties to the more
    cautious pair. Writes ``inference.json`` and returns what it wrote."""
    from sacrebleu.metrics import CHRF

    model_dir = Path(model_dir)
    gates = model_dir / "inference.json"
    gates.unlink(missing_ok=True)
    tagger = EditTagger(model_dir)
    refs = [b for _, b, *_ in raw_val]
    scored = [tagger.score([a], ch, [(True, True)])[0] for a, _, ch, *_ in raw_val]
    grid: dict[str, float] = {}
    for fp in THRESHOLDS:
        for ip in THRESHOLDS:
            outs = [tagger.decode(*sc, frame_prob=fp, insert_prob=ip)[0] if sc else a for sc, (a, *_) in zip(scored, raw_val)]
            grid[f"{fp}/{ip}"] = round(CHRF().corpus_score(outs, [refs]).score, 2)
    fp, ip = max(((f, i) for f in THRESHOLDS for i in THRESHOLDS), key=lambda x: (grid[f"{x[0]}/{x[1]}"], x[1], x[0]))
    inputs_only = grid[f"{THRESHOLDS[-1]}/{THRESHOLDS[-1]}"]
    info = {"min_frame_prob": fp, "min_insert_prob": ip, "validation_chrf": grid[f"{fp}/{ip}"],
            "validation_chrf_no_insertions": inputs_only, "grid": grid,
            "tuned_on": f"{len(raw_val)} validation pairs of the training data (never eval/bench)"}
    gates.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return info
