"""The metrics of the eval harness as pure functions: lists in, numbers out, nothing loaded.

Every function here can be checked by hand on a two-line case table (``tests/test_metrics.py``
does). The harness (:mod:`rewrite.evaluation.harness`) gathers the lists: outputs, references, drafts,
finding counts, spans, timings.

Conventions:

* chrF and BLEU are sacrebleu's corpus scores in 0-100 (chrF2 on characters, whitespace ignored;
  BLEU with ``tokenize="zh"``: every CJK character is a token, Latin words and numbers stay whole).
* Shares are in 0-1; a share over nothing is ``None`` (shown as "-"), never 0 or 1.
* Corpus ratios (findings per 100 characters, length ratios) are totals over totals, so long
  replies weigh by their length, as in BLEU's length ratio.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

#: Resamples for the chrF bootstrap interval.
N_BOOTSTRAP = 1000
#: Two-sided confidence level of the bootstrap interval.
CONFIDENCE = 0.95


def _chrf_metric():
    from sacrebleu.metrics import CHRF

    return CHRF()  # chrF2: char_order=6, word_order=0, beta=2, whitespace ignored


def _bleu_metric():
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize="zh")


def _check_pairs(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} outputs but {len(refs)} references")


def chrf(hyps: Sequence[str], refs: Sequence[str]) -> float | None:
    """Corpus chrF2 (0-100) of ``hyps`` against one reference each; ``None`` for no items."""
    _check_pairs(hyps, refs)
    if not hyps:
        return None
    return float(_chrf_metric().corpus_score(list(hyps), [list(refs)]).score)


def sentence_chrf(hyp: str, ref: str) -> float:
    """chrF2 (0-100) of one output against its reference (used to sort examples worst first)."""
    return float(_chrf_metric().sentence_score(hyp, [ref]).score)


def bleu(hyps: Sequence[str], refs: Sequence[str]) -> float | None:
    """Corpus BLEU (0-100, ``tokenize="zh"``) against one reference each; ``None`` for no items."""
    _check_pairs(hyps, refs)
    if not hyps:
        return None
    return float(_bleu_metric().corpus_score(list(hyps), [list(refs)]).score)


def sacrebleu_signatures() -> dict[str, str]:
    """sacrebleu's own signature strings for the chrF and BLEU settings used here (one reference
    per item; sacrebleu learns the reference count from a scored corpus, hence the 1-item one)."""
    sigs = {}
    for key, label, metric in (("chrf", "chrF2", _chrf_metric()), ("bleu", "BLEU", _bleu_metric())):
        metric.corpus_score(["x"], [["x"]])
        sigs[key] = f"{label}|" + metric.get_signature().format()
    return sigs


def chrf_bootstrap(
    hyps: Sequence[str],
    refs: Sequence[str],
    *,
    n: int = N_BOOTSTRAP,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of corpus chrF: resample the items ``n`` times with
    replacement (numpy ``default_rng(seed)``), recompute corpus chrF from the per-item n-gram
    statistics, and return the ``(1-confidence)/2`` and ``(1+confidence)/2`` percentiles.

    Same inputs and seed give the same interval. ``None`` for no items.
    """
    _check_pairs(hyps, refs)
    if not hyps:
        return None
    import numpy as np

    metric = _chrf_metric()
    # sacrebleu's per-segment statistics ([hyp, ref, match] counts per n-gram order); the corpus
    # score is the F-score of their sum, so a resample is a sum over resampled rows.
    stats = np.asarray(metric._extract_corpus_statistics(list(hyps), [list(refs)]), dtype=np.int64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(hyps), size=(n, len(hyps)))
    scores = np.array([metric._compute_f_score(stats[row].sum(axis=0).tolist()) for row in idx])
    lo, hi = np.percentile(scores, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
    return float(lo), float(hi)


def share(flags: Sequence[bool]) -> float | None:
    """Share of true flags (0-1); ``None`` for no items."""
    return sum(bool(f) for f in flags) / len(flags) if flags else None


def compliance(finding_counts: Sequence[int | None]) -> float | None:
    """Share of texts with zero checker findings. ``None`` in the list is an output that does not
    exist (the system raised) and counts as not compliant."""
    return share([c == 0 for c in finding_counts])


def findings_per_100_chars(finding_counts: Sequence[int], texts: Sequence[str]) -> float | None:
    """Total findings per 100 characters of text (corpus ratio); ``None`` when there is no text."""
    if len(finding_counts) != len(texts):
        raise ValueError("one finding count per text")
    chars = sum(len(t) for t in texts)
    return 100.0 * sum(finding_counts) / chars if chars else None


def spans_preserved(span_lists: Sequence[Sequence[str]], outputs: Sequence[str]) -> tuple[int, int]:
    """``(preserved, total)``: how many of the spans (per output, duplicates counted once) appear
    verbatim in their output."""
    if len(span_lists) != len(outputs):
        raise ValueError("one span list per output")
    kept = total = 0
    for spans, out in zip(span_lists, outputs):
        for s in dict.fromkeys(spans):
            total += 1
            kept += s in out
    return kept, total


def ratio(num: int, den: int) -> float | None:
    """``num / den``; ``None`` when ``den`` is 0."""
    return num / den if den else None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters (insert, delete, substitute all cost 1)."""
    from rewrite.text import char_edit_distance

    return char_edit_distance(a, b)


def over_editing(drafts: Sequence[str], refs: Sequence[str], outputs: Sequence[str]) -> dict[str, Any]:
    """On the items whose reference equals the draft (already professional): their count ``n``,
    the share left exactly unchanged and the mean character edit distance from the draft."""
    if not (len(drafts) == len(refs) == len(outputs)):
        raise ValueError("drafts, references and outputs must have the same length")
    pro = [(d, o) for d, r, o in zip(drafts, refs, outputs) if d == r]
    dists = [edit_distance(d, o) for d, o in pro]
    return {
        "n": len(pro),
        "unchanged": share([d == o for d, o in pro]),
        "mean_edit_distance": sum(dists) / len(dists) if dists else None,
    }


def length_ratio(outputs: Sequence[str], bases: Sequence[str]) -> float | None:
    """Total output characters over total base characters (the drafts or the references)."""
    if len(outputs) != len(bases):
        raise ValueError("one base per output")
    den = sum(len(b) for b in bases)
    return sum(len(o) for o in outputs) / den if den else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between order statistics
    (numpy's default): rank ``(n-1)*q/100``. ``None`` for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def throughput(n_items: int, seconds: float) -> float | None:
    """Items per second; ``None`` when nothing was timed."""
    return n_items / seconds if n_items and seconds > 0 else None


# ----------------------------------------------------------------------------- what a reader sees

#: Tokens that must come back byte-identical: masked tokens and emoticon codes ([订单x], [呵呵],
#: #E-s[数字x]), URLs, and runs of Latin words (with the single spaces between them: "iPhone 15 Pro").
_TOKEN_RE = None


def _token_re():
    import re

    global _TOKEN_RE
    if _TOKEN_RE is None:
        _TOKEN_RE = re.compile(
            r"#E-[a-z]\[[^\[\]\s]{1,12}\]"          # emoticon codes with a masked index
            r"|\[[^\[\]\s]{1,12}\]"                 # [订单x], [呵呵], [姓名x]
            r"|(?:https?://|www\.)[A-Za-z0-9./?=&%_~:#+\-]+"   # URLs
            r"|[A-Za-z0-9][A-Za-z0-9.+_/'\-]*(?: [A-Za-z0-9][A-Za-z0-9.+_/'\-]*)*"  # Latin word runs
        )
    return _TOKEN_RE


def protected_tokens(text: str) -> list[str]:
    """The tokens of ``text`` that a rewrite must return byte-identical (see :data:`_TOKEN_RE`).
    Pure-digit runs are facts, counted by the fact metric, not here; a Latin run needs a letter."""
    out = []
    for m in _token_re().finditer(text):
        tok = m.group(0).rstrip(".'-/")
        if tok and (tok.startswith(("[", "#")) or any(c.isalpha() for c in tok)):
            out.append(tok)
    return list(dict.fromkeys(out))


def token_integrity(drafts: Sequence[str], outputs: Sequence[str]) -> tuple[list[bool], int]:
    """Per item that has protected tokens: whether every one is in the output verbatim.
    Returns ``(flags, items_without_tokens)``."""
    if len(drafts) != len(outputs):
        raise ValueError("one output per draft")
    flags: list[bool] = []
    skipped = 0
    for d, o in zip(drafts, outputs):
        toks = protected_tokens(d)
        if not toks:
            skipped += 1
            continue
        flags.append(all(t in o for t in toks))
    return flags, skipped


def fold_for_match(text: str) -> str:
    """The form must-fix spans are matched in: 你 folded to 您, punctuation and spaces removed
    (one definition, shared with the data audit)."""
    from rewrite.data.audit import fold

    return fold(text)


def offence_survival(must_fix: Sequence[Sequence[str]], outputs: Sequence[str]) -> list[bool]:
    """For each item that has must-fix spans: ``True`` when any span survives in the output
    (both folded by :func:`fold_for_match`). Items with no spans are left out."""
    if len(must_fix) != len(outputs):
        raise ValueError("one span list per output")
    flags = []
    for spans, out in zip(must_fix, outputs):
        folded_spans = [fold_for_match(s) for s in spans if fold_for_match(s)]
        if not folded_spans:
            continue
        o = fold_for_match(out)
        flags.append(any(s in o for s in folded_spans))
    return flags


def changed(drafts: Sequence[str], outputs: Sequence[str]) -> list[bool]:
    """Per item: whether the output differs from the draft at all."""
    if len(drafts) != len(outputs):
        raise ValueError("one output per draft")
    return [d != o for d, o in zip(drafts, outputs)]


def bootstrap_share(flags: Sequence[bool], *, n: int = N_BOOTSTRAP, seed: int = 0,
                    confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Percentile bootstrap interval of a share (resample the items ``n`` times with replacement,
    numpy ``default_rng(seed)``). ``None`` for no items."""
    if not flags:
        return None
    import numpy as np

    arr = np.asarray([bool(f) for f in flags], dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n, len(arr)))
    means = arr[idx].mean(axis=1)
    lo, hi = np.percentile(means, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
    return float(lo), float(hi)
