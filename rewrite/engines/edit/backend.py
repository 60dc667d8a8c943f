"""The edit engine: the rules backend's rewrite, then the trained edit model (:mod:`rewrite.engines.edit.model`)
polishes it with learned edits (openings, closings, 请/为您, fillers out).

Every character of the result is carried over from the rules rewrite or from the model's closed
phrase list, so it cannot write about something the draft did not say, and only fillers are ever
deleted. Candidates go through the pipeline's checks like any backend's, and a chunk whose
candidates fail falls back to the plain rules rewrite (and the result says so).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Sequence

from rewrite.errors import ModelNotFoundError

#: Environment variable naming another edit model directory.
EDIT_MODEL_DIR_ENV = "REWRITE_EDIT_MODEL_DIR"


def shipped_edit_dir() -> Path:
    """``rewrite/shipped/edit``: the edit model that ``pip install`` carries."""
    return Path(__file__).resolve().parents[2] / "shipped" / "edit"


def default_edit_dir() -> Path:
    env = os.environ.get(EDIT_MODEL_DIR_ENV)
    return Path(env) if env else shipped_edit_dir()


def edit_model_available(model_dir: str | Path | None = None) -> bool:
    """Whether the edit model's files are there (checked without loading anything)."""
    from rewrite.engines.edit.model import PHRASES_FILE

    from rewrite.engines.seq2seq.backend import weights_file

    d = Path(model_dir) if model_dir else default_edit_dir()
    return all((d / x).is_file() for x in ("config.json", PHRASES_FILE)) and weights_file(d) is not None


class EditBackend:
    """Rules rewrite + learned edits. ``model_dir`` defaults to ``$REWRITE_EDIT_MODEL_DIR`` or the
    shipped edit model; loading happens on first use and raises :class:`ModelNotFoundError` with
    the fix when the files are missing. ``quantize``: run the linear layers in dynamic int8
    (``engine`` says ``numpy-int8``), else float32 (``numpy``). ``runtime``: ``numpy`` (default;
    imports neither torch nor transformers) or ``torch`` (``torch-int8`` / ``torch``), which give
    the same texts (:mod:`rewrite.engines.edit.runtime`)."""

    name = "edit"
    use_fallback = True
    #: The pipeline's note when a chunk gets no candidate: too long for the model.
    empty_reason = "片段超出编辑模型的长度上限"
    wants_positions = True

    def __init__(self, model_dir: str | Path | None = None, threads: int = 1, quantize: bool = True,
                 runtime: str = "numpy", **_: Any):
        self.model_dir = Path(model_dir) if model_dir else default_edit_dir()
        self.quantize = bool(quantize)
        self.runtime = runtime
        self.engine: str | None = None
        self.threads = max(1, int(threads))
        self._tagger: Any = None
        self._rules: Any = None
        self._lock = threading.Lock()
        self._hash: str | None = None

    def load(self) -> "EditBackend":
        with self._lock:
            if self._tagger is None:
                from rewrite.engines.edit.model import PHRASES_FILE, EditTagger
                from rewrite.engines.seq2seq.tokenizer import TOKENIZER_FILE
                from rewrite.engines.rules import RulesBackend
                from rewrite.engines.seq2seq.backend import weights_file

                d = self.model_dir
                fix = f"请先训练：`rewrite train-edit --output_dir {d}`（或设置环境变量 {EDIT_MODEL_DIR_ENV} 指向已训练的编辑模型目录）。"
                if not d.is_dir():
                    raise ModelNotFoundError(f"找不到编辑模型目录 {d}。{fix}")
                missing = [x for x in ("config.json", TOKENIZER_FILE, PHRASES_FILE) if not (d / x).is_file()]
                if weights_file(d) is None:
                    missing.append("model.safetensors")
                if missing:
                    raise ModelNotFoundError(f"编辑模型目录 {d} 缺少文件：{'、'.join(missing)}。{fix}")
                if self.runtime == "torch":
                    import torch

                    torch.set_num_threads(self.threads)
                else:
                    from rewrite.engines.edit.runtime import limit_blas_threads

                    limit_blas_threads(self.threads)
                self._tagger = EditTagger(d, runtime=self.runtime)
                self.engine = f"{self.runtime}-int8" if self.quantize and self._tagger.quantize() else self.runtime
                self._rules = RulesBackend()
        return self

    @property
    def model_hash(self) -> str:
        """sha256 of the weights file, first 12 hex digits (for eval signatures)."""
        if self._hash is None:
            from rewrite.engines.seq2seq.backend import weights_file, weights_hash

            w = weights_file(self.model_dir)
            if w is None:
                raise ModelNotFoundError(f"编辑模型目录 {self.model_dir} 缺少 model.safetensors。")
            self._hash = weights_hash(w)
        return self._hash

    def generate(
        self,
        chunks: Sequence[str],
        *,
        n: int = 1,
        channel: str = "phone",
        positions: Sequence[tuple[bool, bool]] | None = None,
    ) -> list[list[str]]:
        """Per masked chunk: the model's edit of the rules rewrite, then the same with only its
        opening and close (see :meth:`rewrite.engines.edit.model.EditTagger.edit`). An already professional chunk gets only the rules' tidying; a chunk too
        long for the model gets no candidate (the pipeline falls back to the rules rewrite)."""
        if not chunks:
            return []
        self.load()
        from rewrite.engines.rules import _is_polished

        pos = list(positions) if positions is not None else [(True, True)] * len(chunks)
        ruled = [c[0] for c in self._rules.generate(chunks, n=1, channel=channel, positions=pos)]
        todo = [i for i, c in enumerate(chunks) if not _is_polished(c.strip(), channel, None)]
        out: list[list[str]] = [[r] for r in ruled]
        if not todo:
            return out
        inputs = [ruled[i] for i in todo]
        flags = [pos[i] for i in todo]
        for i, pair in zip(todo, self._tagger.edit(inputs, channel, positions=flags)):
            out[i] = [c for c in dict.fromkeys(pair) if c] if pair else []
        return out
