"""A character tokenizer for the seq2seq rewriter, built from the corpus and saved with the model.

Every character is one token; placeholders (``<AMT1>``, ``<ENT3>``, backend-internal ``<OOV1>``),
the channel tokens ``<phone>`` / ``<chat>`` and pad/bos/eos/unk are single tokens too. A space is
the token ``▁`` and a newline ``<nl>`` so every token is a visible, non-empty string (CTranslate2
takes tokens as strings).

Characters the vocabulary does not know never reach the model: :meth:`CharTokenizer.mask_oov`
replaces each run of them with ``<OOV1>``, ``<OOV2>``… and the backend puts them back after
generation, so nothing turns into ``<unk>`` in the output.
"""
from __future__ import annotations

import collections
import json
import re
from pathlib import Path
from typing import Iterable, Sequence

from rewrite.errors import ModelNotFoundError
from rewrite.protect import TYPES

#: File name inside a model directory.
TOKENIZER_FILE = "char_tokenizer.json"

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
CHANNEL_TOKENS = {"phone": "<phone>", "chat": "<chat>"}
SPACE, NEWLINE = "▁", "<nl>"
#: Placeholder indices that get their own token (1..MAX_INDEX) for every type.
MAX_INDEX = 20
OOV_TYPE = "OOV"

SPECIALS = [PAD, BOS, EOS, UNK, CHANNEL_TOKENS["phone"], CHANNEL_TOKENS["chat"], SPACE, NEWLINE]
PLACEHOLDER_TOKENS = [f"<{t}{i}>" for t in (*TYPES, OOV_TYPE) for i in range(1, MAX_INDEX + 1)]

_TOKEN_RE = re.compile(r"<(?:" + "|".join((*TYPES, OOV_TYPE)) + r")\d+>|<phone>|<chat>|.", re.DOTALL)
_OOV_RE = re.compile(r"<OOV(\d+)>")


class CharTokenizer:
    """Maps text to token ids and back. Build with :meth:`build`, persist with :meth:`save`."""

    def __init__(self, tokens: Sequence[str]):
        if list(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError("tokenizer file does not start with the special tokens")
        self.tokens: list[str] = list(tokens)
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = (self.index[t] for t in (PAD, BOS, EOS, UNK))

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> "CharTokenizer":
        """Vocabulary = specials + placeholders + every character seen ``min_count`` times or more
        (most frequent first, ties by code point so the result is deterministic)."""
        counts: collections.Counter[str] = collections.Counter()
        for t in texts:
            counts.update(tok for tok in _TOKEN_RE.findall(t) if len(tok) == 1)
        fixed = set(SPECIALS) | set(PLACEHOLDER_TOKENS)
        chars = sorted(
            (c for c, n in counts.items() if n >= min_count and c not in (" ", "\n") and c not in fixed),
            key=lambda c: (-counts[c], c),
        )
        return cls(SPECIALS + PLACEHOLDER_TOKENS + chars)

    def extended(self, texts: Iterable[str]) -> "CharTokenizer":
        """A copy that keeps every existing id and appends the new characters of ``texts``."""
        new = CharTokenizer.build(texts)
        extra = [t for t in new.tokens if t not in self.index]
        return CharTokenizer(self.tokens + extra)

    @classmethod
    def load(cls, model_dir: str | Path) -> "CharTokenizer":
        path = Path(model_dir) / TOKENIZER_FILE
        if not path.is_file():
            raise ModelNotFoundError(f"找不到分词表 {path}：请用 `rewrite train --output-dir {model_dir}` 训练模型。")
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["tokens"])

    def save(self, model_dir: str | Path) -> Path:
        path = Path(model_dir) / TOKENIZER_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"version": 1, "kind": "char", "tokens": self.tokens}, ensure_ascii=False), encoding="utf-8")
        return path

    def __len__(self) -> int:
        return len(self.tokens)

    # -- text <-> tokens ----------------------------------------------------------------------
    def tokenize(self, text: str) -> list[str]:
        """Token strings of ``text`` (unknown characters become ``<unk>``: mask them first)."""
        return [tok if tok in self.index else UNK for tok in self.pieces(text)]

    @staticmethod
    def pieces(text: str) -> list[str]:
        """Token strings of ``text`` with unknown characters kept as they are (:meth:`ids` maps
        them to ``<unk>``): for a model that copies its input rather than generating it."""
        return [SPACE if t == " " else NEWLINE if t == "\n" else t for t in _TOKEN_RE.findall(text)]

    def source_tokens(self, text: str, channel: str) -> list[str]:
        """What the encoder reads: channel token, the text, ``</s>``."""
        return [CHANNEL_TOKENS.get(channel, CHANNEL_TOKENS["phone"]), *self.tokenize(text), EOS]

    def encode(self, text: str) -> list[int]:
        return [self.index[t] for t in self.tokenize(text)]

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.index.get(t, self.unk_id) for t in tokens]

    def detokenize(self, tokens: Iterable[str]) -> str:
        """Text of token strings; pad/bos/eos/channel tokens are dropped."""
        skip = {PAD, BOS, EOS, *CHANNEL_TOKENS.values()}
        out = []
        for t in tokens:
            if t in skip:
                continue
            out.append(" " if t == SPACE else "\n" if t == NEWLINE else t)
        return "".join(out)

    def decode(self, ids: Iterable[int]) -> str:
        return self.detokenize(self.tokens[i] if 0 <= i < len(self.tokens) else UNK for i in ids)

    # -- out-of-vocabulary carry-through ------------------------------------------------------
    def mask_oov(self, text: str) -> tuple[str, dict[str, str]]:
        """Replace each run of characters the vocabulary lacks with ``<OOV1>``, ``<OOV2>``…

        Returns the masked text and the slots to :meth:`restore_oov` with. The same run always
        gets the same placeholder; past ``MAX_INDEX`` runs the text is returned partly unmasked
        (the remaining characters become ``<unk>`` and the backend rejects such candidates).
        """
        slots: dict[str, str] = {}
        by_value: dict[str, str] = {}
        out: list[str] = []
        run: list[str] = []

        def flush() -> None:
            if not run:
                return
            value = "".join(run)
            run.clear()
            ph = by_value.get(value)
            if ph is None and len(by_value) < MAX_INDEX:
                ph = by_value[value] = f"<{OOV_TYPE}{len(by_value) + 1}>"
                slots[ph] = value
            out.append(ph or value)

        for tok in _TOKEN_RE.findall(text):
            known = len(tok) > 1 or tok in (" ", "\n") or tok in self.index
            if known:
                flush()
                out.append(tok)
            else:
                run.append(tok)
        flush()
        return "".join(out), slots

    @staticmethod
    def restore_oov(text: str, slots: dict[str, str]) -> str:
        return _OOV_RE.sub(lambda m: slots.get(m.group(0), m.group(0)), text)

    @staticmethod
    def oov_ok(candidate: str, slots: dict[str, str]) -> bool:
        """True when ``candidate`` carries every OOV slot exactly once and invents none."""
        found = _OOV_RE.findall(candidate)
        found_ph = [f"<{OOV_TYPE}{i}>" for i in found]
        return sorted(found_ph) == sorted(slots)
