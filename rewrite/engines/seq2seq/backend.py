"""The default engine: the small seq2seq model this project trains (``rewrite train``).

The model sees masked chunks (facts and content words already placeholders, see
:mod:`rewrite.protect`) with a channel token in front, and returns beam candidates, best first.
Characters its vocabulary lacks are masked here as ``<OOV1>``… and put back after generation; a
candidate that loses or invents one is dropped (the pipeline falls back when none is left).

Two engines run the same weights: CTranslate2 int8 (``ct2``, one thread: fast on a plain PC) when
the package and the converted model (``ct2/`` inside the model directory) are present, else
transformers ``generate`` (``hf``). Everything loads on first use, never at import.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any, Sequence

from rewrite.errors import BackendUnavailableError, ModelNotFoundError
from rewrite.text import repeats

#: Environment variable naming another model directory (a trainer's own model).
MODEL_DIR_ENV = "REWRITE_MODEL_DIR"
#: Sub-directory of a model directory holding the CTranslate2 conversion.
CT2_SUBDIR = "ct2"
ENGINES = ("auto", "ct2", "hf")
#: Generated tokens allowed per source token (plus a constant), so a reply can grow but not run on.
LENGTH_RATIO, LENGTH_EXTRA = 2.0, 20
#: A candidate must carry at least this share of the draft's content characters (see
#: :func:`content_coverage`); below it the candidate has lost what the draft said and is dropped.
MIN_COVERAGE = 0.7
#: A candidate whose mean log-probability per token is below this is dropped: the model is
#: unsure, and on validation pairs its unsure outputs scored below the rules backend. A model
#: directory can set its own gates in ``inference.json`` (``min_score``, ``min_coverage``).
MIN_SCORE = -0.3
INFERENCE_FILE = "inference.json"
#: Sources with fewer content characters than this are not judged by coverage.
MIN_CONTENT_CHARS = 3
#: Order candidates by coverage (stable, beam order within ties of equal coverage) when True.
SORT_BY_COVERAGE = False
#: Characters that carry no content of their own: particles, pronouns, fillers, light verbs.
#: Negations (不, 没, 别) are content and are not listed.
_FUNCTION_CHARS = frozenset(
    "的了吧啊呢吗呀嘛哈哦喔噢喂嗯唉哎诶啦咯么你您我他她它们这那哪个些是在有就都也还又再要会能可以"
    "得地着过把被让跟和与及或但而且很太挺真好行对啥什怎样说讲问去来给下上一呗哟亲"
)
_PLACEHOLDER_TOKEN = re.compile(r"<[A-Z]+\d+>")


def content_chars(text: str) -> set[str]:
    """The CJK characters of ``text`` that carry content (placeholders and function words out)."""
    return {c for c in _PLACEHOLDER_TOKEN.sub("", text) if "\u4e00" <= c <= "\u9fff" and c not in _FUNCTION_CHARS}


def content_coverage(source: str, candidate: str) -> float:
    """Share of the source's content characters that the candidate still contains (1.0 when the
    source has none). Paraphrase keeps most of them (不能重复开 → 无法重复开具); a candidate that
    snapped to another reply keeps few."""
    need = content_chars(source)
    if len(need) < MIN_CONTENT_CHARS:
        return 1.0  # too little content to judge ("喂 说吧什么事" → "您好，请问有什么可以帮您？")
    have = set(candidate)
    return sum(c in have for c in need) / len(need)


def shipped_model_dir() -> Path:
    """``rewrite/shipped``: the model that ``pip install`` carries."""
    return Path(__file__).resolve().parents[2] / "shipped"


def default_model_dir() -> Path:
    env = os.environ.get(MODEL_DIR_ENV)
    return Path(env) if env else shipped_model_dir()


#: Environment variable naming another clause generator directory (see :func:`clause_generator`).
CLAUSE_DIR_ENV = "REWRITE_CLAUSE_MODEL_DIR"


def clause_model_dir() -> Path:
    """``$REWRITE_CLAUSE_MODEL_DIR`` or ``rewrite/shipped/clause``: the clause generator."""
    env = os.environ.get(CLAUSE_DIR_ENV)
    return Path(env) if env else shipped_model_dir() / "clause"


def clause_generator() -> "Seq2SeqBackend | None":
    """The clause generator of the plan engine: a seq2seq model trained on clause pairs only
    (``docs/recipes/clause-gen.sh``), or ``None`` when its directory has no weights. Every clause it
    is given was heard to offend, so none is passed over as already polished; its gates come from
    its own ``inference.json``, and the plan engine adds the strict clause gates
    (:data:`rewrite.engines.plan.MIN_CLAUSE_GEN_COVERAGE`)."""
    d = clause_model_dir()
    if not d.is_dir() or weights_file(d) is None:
        return None
    gen = Seq2SeqBackend(model_dir=d, keep_polished=False)
    gen.clause_model = True  # the plan engine holds its rewrites to the strict clause gates
    return gen


def weights_hash(path: Path) -> str:
    """sha256 of a weights file, first 12 hex digits (the ``model`` field of eval signatures)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def weights_file(model_dir: Path) -> Path | None:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (model_dir / name).is_file():
            return model_dir / name
    return None


class Seq2SeqBackend:
    """Beam candidates from the trained model.

    ``model_dir`` defaults to ``$REWRITE_MODEL_DIR`` or the shipped model; ``engine`` is ``auto``
    (ct2 when available, else hf), ``ct2`` or ``hf``; ``beams`` is the beam width (at least the
    number of candidates asked for). Raises :class:`ModelNotFoundError` on first use when the
    model files are missing.
    """

    name = "seq2seq"
    use_fallback = True
    #: What the pipeline's note says when a chunk comes back with no candidate: they were all
    #: dropped by the gates in :meth:`generate` (the beam always yields some).
    empty_reason = "模型的候选都被门槛拒绝：置信度、内容覆盖率或生僻字检查未通过"

    def __init__(self, model_dir: str | Path | None = None, engine: str = "auto", beams: int = 4, threads: int = 1,
                 min_coverage: float | None = None, rank_by_coverage: bool = SORT_BY_COVERAGE,
                 min_score: float | None = None, keep_polished: bool = True):
        if engine not in ENGINES:
            raise BackendUnavailableError(f"未知的推理引擎 {engine!r}，可选：{'、'.join(ENGINES)}。")
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        self.requested_engine = engine
        self.beams = max(1, int(beams))
        self.threads = max(1, int(threads))
        self._min_coverage = min_coverage
        self._min_score = min_score
        self.min_coverage, self.min_score = MIN_COVERAGE, MIN_SCORE
        self.rank_by_coverage = bool(rank_by_coverage)
        self.keep_polished = bool(keep_polished)
        self._rules_backend: Any = None
        self._lock = threading.Lock()
        self._loaded = False
        self._tok: Any = None
        self._model: Any = None
        self._translator: Any = None
        self.engine: str | None = None
        self._hash: str | None = None

    # -- loading --------------------------------------------------------------------------------
    def _check_files(self) -> None:
        d = self.model_dir
        fix = f"请先训练并导出模型：`rewrite train --output-dir {d}`（或设置环境变量 {MODEL_DIR_ENV} 指向已训练的模型目录）。"
        if not d.is_dir():
            raise ModelNotFoundError(f"找不到模型目录 {d}。{fix}")
        from rewrite.engines.seq2seq.tokenizer import TOKENIZER_FILE

        missing = [n for n in ("config.json", TOKENIZER_FILE) if not (d / n).is_file()]
        if weights_file(d) is None:
            missing.append("model.safetensors")
        if missing:
            raise ModelNotFoundError(f"模型目录 {d} 缺少文件：{'、'.join(missing)}。{fix}")

    def load(self) -> "Seq2SeqBackend":
        """Load the tokenizer and the engine now (otherwise the first ``generate`` does)."""
        with self._lock:
            if self._loaded:
                return self
            self._check_files()
            from rewrite.engines.seq2seq.tokenizer import CharTokenizer

            self._tok = CharTokenizer.load(self.model_dir)
            gates: dict[str, Any] = {}
            if (self.model_dir / INFERENCE_FILE).is_file():
                import json

                gates = json.loads((self.model_dir / INFERENCE_FILE).read_text(encoding="utf-8"))
            self.min_coverage = float(self._min_coverage if self._min_coverage is not None else gates.get("min_coverage", MIN_COVERAGE))
            self.min_score = float(self._min_score if self._min_score is not None else gates.get("min_score", MIN_SCORE))
            engine = self.requested_engine
            ct2_dir = self.model_dir / CT2_SUBDIR
            if engine == "auto":
                engine = "ct2" if (ct2_dir / "model.bin").is_file() and _has_ctranslate2() else "hf"
            if engine == "ct2":
                if not _has_ctranslate2():
                    raise BackendUnavailableError("未安装 ctranslate2：请 `pip install ctranslate2`，或改用 engine='hf'。")
                if not (ct2_dir / "model.bin").is_file():
                    raise ModelNotFoundError(f"找不到 CTranslate2 模型 {ct2_dir}：请运行 `python -m rewrite.engines.seq2seq.export {self.model_dir}`，或改用 engine='hf'。")
                import ctranslate2

                self._translator = ctranslate2.Translator(str(ct2_dir), device="cpu", compute_type="int8", intra_threads=self.threads, inter_threads=1)
            else:
                import torch

                from rewrite.engines.seq2seq.pointer import load_model

                self._model = load_model(self.model_dir)
                self._model.eval()
                self._torch = torch
            self.engine = engine
            self._loaded = True
        return self

    @property
    def model_hash(self) -> str:
        """sha256 of the weights file, first 12 hex digits (for eval signatures)."""
        if self._hash is None:
            self._check_files()
            self._hash = weights_hash(weights_file(self.model_dir))  # type: ignore[arg-type]
        return self._hash

    # -- generation -----------------------------------------------------------------------------
    def generate(self, chunks: Sequence[str], *, n: int = 1, channel: str = "phone") -> list[list[str]]:
        """Up to ``n`` candidates per masked chunk, best first (deterministic beam search).

        Dropped here, so a chunk can come back with fewer than ``n`` (or none: the pipeline then
        falls back to the rules backend and says so): candidates that lose, repeat or invent an
        out-of-vocabulary placeholder, and candidates that keep less than ``min_coverage`` of the
        draft's content characters (:func:`content_coverage`): the model said something else.
        """
        if not chunks:
            return []
        self.load()
        tok = self._tok
        n = max(1, int(n))
        beams = max(self.beams, n)
        # An already professional chunk is not given to the model: it can only make it worse.
        polished = [self._is_polished(c, channel) for c in chunks]
        todo = [i for i, p in enumerate(polished) if not p]
        masked, slots = zip(*(tok.mask_oov(chunks[i]) for i in todo)) if todo else ((), ())
        sources = [tok.source_tokens(m, channel) for m in masked]
        # The model has a fixed number of positions: a longer source would crash it ("No position
        # encodings"). The chunker keeps chunks far below it; anything longer is not sent, comes
        # back with no candidate, and the pipeline falls back for that chunk and says so.
        fits = [len(s) <= self._position_limit() for s in sources]
        if not all(fits):
            todo = [i for i, ok in zip(todo, fits) if ok]
            masked = tuple(m for m, ok in zip(masked, fits) if ok)
            slots = tuple(sl for sl, ok in zip(slots, fits) if ok)
            sources = [s for s, ok in zip(sources, fits) if ok]
        if not sources:
            raw = []
        elif self.engine == "ct2":
            raw = self._generate_ct2(sources, beams, beams)
        else:
            raw = self._generate_hf(sources, beams, beams)
        result: list[list[str]] = [[] for _ in chunks]
        done = [i for i, p in enumerate(polished) if p]
        if done:  # the rules backend only tidies such a chunk (punctuation), as it does alone
            for i, cands in zip(done, self._rules().generate([chunks[i] for i in done], n=1, channel=channel)):
                result[i] = list(cands)
        for i, cands in zip(todo, self._select(raw, slots, masked, n)):
            result[i] = cands
        return result

    def _rules(self):
        if self._rules_backend is None:
            from rewrite.engines.rules import RulesBackend

            self._rules_backend = RulesBackend()
        return self._rules_backend

    def _is_polished(self, chunk: str, channel: str) -> bool:
        if not self.keep_polished:
            return False
        from rewrite.engines.rules import _is_polished  # one definition of "already professional", shared with rules

        return _is_polished(chunk, channel, None)

    def _select(self, raw: list[list[tuple[str, float]]], slots: Sequence[dict[str, str]], masked: Sequence[str], n: int) -> list[list[str]]:
        """Apply the gates to the engine's hypotheses (see :meth:`generate`)."""
        tok = self._tok
        out: list[list[str]] = []
        for cands, sl, src_text in zip(raw, slots, masked):
            scored: list[tuple[float, str]] = []
            for c, logp in cands:
                if logp < self.min_score:
                    continue  # the model is unsure: the rules backend does better on such drafts
                if "<unk>" in c or not tok.oov_ok(c, sl):
                    continue
                cov = content_coverage(src_text, c)
                if cov < self.min_coverage:
                    continue  # lost what the draft said (or snapped to another reply)
                if repeats(src_text, c):
                    continue  # the model looped: it said the same stretch twice
                text = tok.restore_oov(c, sl)
                if text and all(text != t for _, t in scored):
                    scored.append((cov, text))
            if self.rank_by_coverage:
                scored.sort(key=lambda x: -x[0])  # stable: beam order among equals
            out.append([t for _, t in scored[:n]])
        return out

    def _position_limit(self) -> int:
        """Most tokens a source or an output may have (the model's positions, less BOS/EOS)."""
        if self._model is not None:
            return self._model.config.max_position_embeddings - 2
        return 254

    def _max_len(self, src_len: int) -> int:
        return min(self._position_limit(), int(src_len * LENGTH_RATIO) + LENGTH_EXTRA)

    def _generate_ct2(self, sources: list[list[str]], n: int, beams: int) -> list[list[tuple[str, float]]]:
        """Hypotheses with their mean log-probability per token (length_penalty 1)."""
        results = self._translator.translate_batch(
            sources,
            beam_size=beams,
            num_hypotheses=n,
            max_decoding_length=max(self._max_len(len(s)) for s in sources),
            max_batch_size=32,
            return_scores=True,
            disable_unk=True,
        )
        return [[(self._tok.detokenize(h), float(s)) for h, s in zip(r.hypotheses, r.scores)] for r in results]

    def _generate_hf(self, sources: list[list[str]], n: int, beams: int) -> list[list[tuple[str, float]]]:
        from rewrite.engines.seq2seq.pointer import generate_kwargs

        torch = self._torch
        tok = self._tok
        out: list[list[tuple[str, float]]] = []
        # Batches of similar length; the order of results follows the input.
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        by_index: dict[int, list[tuple[str, float]]] = {}
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            ids = [tok.ids(sources[i]) for i in idx]
            width = max(len(x) for x in ids)
            input_ids = torch.full((len(ids), width), tok.pad_id, dtype=torch.long)
            attn = torch.zeros((len(ids), width), dtype=torch.long)
            for row, x in enumerate(ids):
                input_ids[row, : len(x)] = torch.tensor(x)
                attn[row, : len(x)] = 1
            with torch.no_grad():
                gen = self._model.generate(
                    input_ids=input_ids,
                    attention_mask=attn,
                    num_beams=beams,
                    num_return_sequences=n,
                    max_new_tokens=self._max_len(width),
                    do_sample=False,
                    early_stopping=True,
                    length_penalty=1.0,
                    output_scores=True,
                    return_dict_in_generate=True,
                    bad_words_ids=[[tok.unk_id]],
                    **generate_kwargs(self._model, input_ids),
                )
            seqs, scores = gen.sequences, gen.sequences_scores
            for row, i in enumerate(idx):
                by_index[i] = [(tok.decode(seqs[k].tolist()), float(scores[k])) for k in range(row * n, (row + 1) * n)]
        for i in range(len(sources)):
            out.append(by_index[i])
        return out


def _has_ctranslate2() -> bool:
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True
