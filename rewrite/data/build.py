"""``rewrite data build``: the reproducible training corpus, from the committed JSONL sources.

Steps (each one reports what it dropped and why, and the data card lists it):

1. load every ``rewrite/data/written/*.jsonl`` (and feedback stores given with
   ``--include-feedback``); any broken line fails the build with every ``file:line: why`` listed;
2. validate: every reference passes the checker with zero findings and every keep span is on both
   sides (``--strict``: a failure aborts; otherwise the pair is excluded and listed);
3. leak guard: no training draft equal to, or within character 5-gram Jaccard ≥ 0.8 of, a
   benchmark draft (``eval/bench/*.jsonl``), checked again on every augmented draft;
4. split the written pairs into train / validation (about 5 %, grouped: a pair's augmentations
   stay on its side);
5. augment (seeded): swap facts, casual noise on drafts, join 2–3 pairs of one domain and channel;
6. save ``<out>/dataset`` (``datasets.DatasetDict``), ``<out>/train.jsonl``,
   ``<out>/validation.jsonl``, ``<out>/build_info.json`` and the data card.

The same sources, seed and code give byte-identical JSONL files and card.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from rewrite.errors import DataError
from rewrite.data.jsonl import Problem, read_jsonl, read_pairs, strip_private

Pair = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = Path(__file__).resolve().parent
WRITTEN_DIR = DATA_DIR / "written"
DEFAULT_OUT = DATA_DIR / "build"
DEFAULT_CARD = DATA_DIR / "CARD.md"
BENCH_DIR = REPO_ROOT / "eval" / "bench"
#: The critic's labelled clause set (issue: a checker that hears tone); held out like a bench.
CRITIC_SET = REPO_ROOT / "tests" / "cases" / "critic_clauses.jsonl"
#: Probe sets of fresh drafts (``eval/probes/*/drafts*.jsonl``): written apart from the benches to
#: measure whether a change carries over to drafts nobody tuned on; kept out of training like them.
PROBE_DIR = REPO_ROOT / "eval" / "probes"

#: Version of the build recipe; bump when the output changes for the same sources and seed.
BUILD_VERSION = "1"
DEFAULT_SEED = 13
DEFAULT_TARGET = 50_000
VALIDATION_SHARE = 0.05
LEAK_JACCARD = 0.8
LEAK_N = 5
#: At most this many pairs (written + augmented) share one :func:`frame_key`.
MAX_PER_FRAME = 3
#: Share of augmentations that map a (joined, swapped) reference to itself, so that the set
#: keeps well over 10 % self-mapping pairs and the model learns not to over-edit.
SELF_MAP_SHARE = 0.13
#: Chance that an augmentation starts by joining 2–3 pairs of one domain and channel.
JOIN_SHARE = 0.3
#: Code whose bytes enter the build hash.
_CODE_FILES = ("build.py", "augment.py", "pools.py", "jsonl.py", "spec.py", "audit.py", "align.py")
_SHARED_CODE_FILES = ("protect.py", "norms/checker.py", "norms/critic.py", "text.py")

OUTPUT_FIELDS = ("id", "draft", "reference", "keep", "domain", "scenario", "channel", "source", "origin")


class BuildError(DataError):
    """The build cannot go on; ``problems`` lists every reason (``file:line: why``)."""

    def __init__(self, message: str, problems: Sequence[Problem | str] = ()) -> None:
        super().__init__(message)
        self.problems = [str(p) for p in problems]


# ---------------------------------------------------------------------------------------------
# Leak guard


@lru_cache(maxsize=1 << 17)  # the card's tables ask for the same training drafts' keys many times
def leak_key(text: str) -> str:
    """What the leak guard compares: normalised text without spaces and punctuation, lowercased,
    and 您 folded to 你, so that punctuation or politeness noise cannot sneak a benchmark draft
    past the guard."""
    import unicodedata

    from rewrite.text import normalise

    t = normalise(text).lower().replace("您", "你")
    return "".join(c for c in t if not c.isspace() and not unicodedata.category(c).startswith("P"))


def char_ngrams(text: str, n: int = LEAK_N) -> set[str]:
    """Character ``n``-grams of ``text``; a text shorter than ``n`` is its own single gram."""
    if len(text) < n:
        return {text} if text else set()
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0.0 for two empty sets)."""
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def nearest_similarity(queries: Sequence[str], corpus: Sequence[str], n: int = 5) -> list[float]:
    """For each query, the highest character ``n``-gram Jaccard with any corpus text (the leak
    guard's key: no spaces or punctuation, lower case)."""
    grams = [char_ngrams(leak_key(t), n) for t in corpus]
    index: dict[str, list[int]] = {}
    for i, g in enumerate(grams):
        for x in g:
            index.setdefault(x, []).append(i)
    out = []
    for q in queries:
        qg = char_ngrams(leak_key(q), n)
        counts: dict[int, int] = {}
        for x in qg:
            for i in index.get(x, ()):
                counts[i] = counts.get(i, 0) + 1
        best = max((c / (len(qg) + len(grams[i]) - c) for i, c in counts.items()), default=0.0)
        out.append(best)
    return out



class LeakGuard:
    """Finds benchmark drafts near a training draft via an inverted index over character 5-grams.

    Only benchmark drafts that share a gram with the query are scored, so a query costs
    about (grams in the query × postings per gram), not (benchmark size).
    """

    def __init__(self, bench: Iterable[tuple[str, str]], threshold: float = LEAK_JACCARD, n: int = LEAK_N) -> None:
        self.threshold = threshold
        self.n = n
        self.ids: list[str] = []
        self.sizes: list[int] = []
        self.exact: dict[str, int] = {}
        self.index: dict[str, list[int]] = {}
        for bid, draft in bench:
            key = leak_key(draft)
            grams = char_ngrams(key, n)
            if not grams:
                continue
            i = len(self.ids)
            self.ids.append(bid)
            self.sizes.append(len(grams))
            self.exact.setdefault(key, i)
            for g in grams:
                self.index.setdefault(g, []).append(i)

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, draft: str) -> tuple[str, float] | None:
        """``(benchmark id, jaccard)`` of the closest benchmark draft at or above the threshold."""
        key = leak_key(draft)
        if key in self.exact:
            return self.ids[self.exact[key]], 1.0
        grams = char_ngrams(key, self.n)
        counts: dict[int, int] = {}
        for g in grams:
            for i in self.index.get(g, ()):
                counts[i] = counts.get(i, 0) + 1
        best: tuple[str, float] | None = None
        for i, inter in counts.items():
            j = inter / (len(grams) + self.sizes[i] - inter)
            if j >= self.threshold and (best is None or j > best[1]):
                best = (self.ids[i], j)
        return best


class ClauseLeakGuard:
    """Finds a clause of a written text that is an offending clause of the critic's clause set, or a
    close variant of one: the set's clause inside it (at least 4 characters, 你 read as 您,
    punctuation and spaces ignored), or character-bigram Jaccard ≥ ``threshold``. Corpus v2's round
    five was written from prompts that quoted clause-set wording, so its pairs pass this guard
    (``tests/test_corpus.py``); the whole-reply :class:`LeakGuard` would not see one copied clause."""

    def __init__(self, path: Path = CRITIC_SET, threshold: float = 0.6) -> None:
        from rewrite.data.audit import char_bigrams, content_key

        self._key, self._bigrams = content_key, char_bigrams
        self.threshold = threshold
        rows = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()] \
            if Path(path).is_file() else []
        bad = {self._key(r["clause"]) for r in rows if r.get("label") != "ok"}
        self.clauses = sorted(c for c in bad if len(c) >= 4)
        self.grams = [(g, c) for c in sorted(bad) for g in [self._grams(c)] if len(g) >= 4]

    def _grams(self, key: str) -> set[str]:
        return set(self._bigrams(key))

    def match(self, text: str) -> str | None:
        """The clause-set clause that a clause of ``text`` holds or nearly repeats, else ``None``."""
        from rewrite.norms.critic import clause_spans

        for s, e in clause_spans(text):
            key = self._key(text[s:e])
            if len(key) >= 4:
                for c in self.clauses:
                    if c in key or (key in c and len(key) >= 0.6 * len(c)):
                        return c
            g = self._grams(key)
            if len(g) >= 4:
                for cg, c in self.grams:
                    inter = len(g & cg)
                    if inter and inter / len(g | cg) >= self.threshold:
                        return c
        return None


# ---------------------------------------------------------------------------------------------
# Loading


def written_files(written_dir: Path = WRITTEN_DIR) -> list[Path]:
    """The written pair files: ``written/*.jsonl`` then ``written/v2/*.jsonl``, each sorted."""
    d = Path(written_dir)
    return sorted(d.glob("*.jsonl")) + sorted(d.glob("v2/*.jsonl"))


def bench_files(bench_dir: Path = BENCH_DIR) -> list[Path]:
    """The sets the leak guard protects, sorted by name: the benchmarks and, for the default
    folder, the critic's labelled clause set (its replies are held out like bench drafts) and the
    probe sets' drafts (``eval/probes``)."""
    files = sorted(Path(bench_dir).glob("*.jsonl")) if Path(bench_dir).is_dir() else []
    if Path(bench_dir) == BENCH_DIR and CRITIC_SET.is_file():
        files.append(CRITIC_SET)
    if Path(bench_dir) == BENCH_DIR and PROBE_DIR.is_dir():
        files += sorted(PROBE_DIR.glob("*/drafts*.jsonl"))
    return files


def load_training_sources(files: Sequence[Path], feedback: Sequence[Path] = ()) -> list[Pair]:
    """Every valid pair of ``files`` and ``feedback``; raises :class:`BuildError` listing every
    broken line if there is any, so nothing trains on half the data."""
    if not files and not feedback:
        raise BuildError(f"没有找到任何训练数据文件（{WRITTEN_DIR}/*.jsonl）。")
    seen: dict[str, str] = {}
    pairs, problems = read_pairs(files, training=True, seen_ids=seen)
    if feedback:
        fb, fb_problems = read_pairs(feedback, training=True, seen_ids=seen)
        pairs += fb
        problems += fb_problems
    if problems:
        raise BuildError(f"训练数据有 {len(problems)} 处错误，构建已停止（请逐条修正）：", problems)
    for p in pairs:
        p.setdefault("source", "written:team")
    return pairs


def load_bench_drafts(files: Sequence[Path]) -> list[tuple[str, str]]:
    """``(id, draft)`` of every benchmark record; unreadable lines fail the build (a draft we cannot
    read is a draft we cannot keep out of training)."""
    return [(bid, d) for bid, d, _ in load_bench(files)]


def load_bench(files: Sequence[Path]) -> list[tuple[str, str, str]]:
    """``(id, draft, reference)`` of every benchmark record (reference ``""`` when absent);
    unreadable lines raise :class:`BuildError`."""
    out: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    for f in files:
        records, probs = read_jsonl(f)
        problems += probs
        for r in records:
            d = r.get("draft", r.get("context"))  # the critic set holds whole replies as context
            if not isinstance(d, str) or not d.strip():
                problems.append(Problem(r["_file"], r["_line"], "缺少 draft 或 draft 为空"))
                continue
            ref = r.get("reference")
            out.append((str(r.get("id") or f"{Path(f).name}:{r['_line']}"), d, ref if isinstance(ref, str) else ""))
    if problems:
        raise BuildError(f"评测集有 {len(problems)} 处无法读取，防泄漏检查无法进行：", problems)
    return out


# ---------------------------------------------------------------------------------------------
# Checker


def get_checker() -> Callable[[str], list[str]] | None:
    """A cached function ``text → findings`` (as ``rule_id: text`` strings) from the project's
    checker, or ``None`` when ``rewrite.norms.checker`` does not exist yet."""
    import importlib.util

    if importlib.util.find_spec("rewrite.norms.checker") is None:
        return None
    from rewrite.norms.checker import check

    cache: dict[str, list[str]] = {}

    def findings(text: str) -> list[str]:
        if text not in cache:
            report = check(text)
            cache[text] = [f"{f.rule_id}:「{f.text}」" for f in report.findings]
        return cache[text]

    return findings


def keep_problems(pair: Pair) -> list[str]:
    """The keep spans of ``pair`` missing from a side, as messages."""
    out = []
    for span in pair.get("keep") or []:
        for side in ("draft", "reference"):
            if span not in pair[side]:
                out.append(f"keep 片段「{span}」不在 {side} 中")
    return out


# ---------------------------------------------------------------------------------------------
# Split and augmentation


def split_pairs(pairs: Sequence[Pair], seed: int, share: float = VALIDATION_SHARE) -> tuple[list[Pair], list[Pair]]:
    """Train / validation by written pair, about ``share`` of each domain in validation."""
    rng = random.Random(f"{seed}:split")
    by_domain: dict[str, list[Pair]] = {}
    for p in pairs:
        by_domain.setdefault(p["domain"], []).append(p)
    val_ids: set[str] = set()
    for domain in sorted(by_domain):
        group = sorted(by_domain[domain], key=lambda p: p["id"])
        k = round(len(group) * share)
        val_ids.update(p["id"] for p in rng.sample(group, k))
    train = [p for p in pairs if p["id"] not in val_ids]
    val = [p for p in pairs if p["id"] in val_ids]
    return train, val


@dataclass
class AugmentStats:
    """What the augmentation tried and why candidates were rejected."""

    attempts: int = 0
    kept: int = 0
    rejected: Counter = field(default_factory=Counter)
    leaks: list[tuple[str, str, float]] = field(default_factory=list)


def frame_key(pair: Pair) -> tuple[str, str]:
    """The pair as a fact-masking model sees it: facts and keep spans replaced by their
    placeholder type (``<AMT>``), numbering dropped."""
    from rewrite.protect import PLACEHOLDER_RE, protect_for_model

    keep = list(pair.get("keep") or [])

    def side(t: str) -> str:
        return PLACEHOLDER_RE.sub(lambda m: f"<{m.group(1)}>", protect_for_model(t, keep, content=False).masked)

    return side(pair["draft"]), side(pair["reference"])


def augment(
    origins: Sequence[Pair],
    n_target: int,
    rng: random.Random,
    accept: Callable[[Pair], str | None],
    seen: set[tuple[str, str]],
    frames: dict[tuple[str, str], int],
    id_prefix: str,
    stats: AugmentStats,
    progress: bool = True,
) -> list[Pair]:
    """``n_target`` new pairs derived from ``origins`` (fewer if the attempts run out).

    Origins are visited round-robin in a shuffled order so every written pair contributes about
    equally. ``accept`` returns ``None`` for a good pair or the reason to reject it; ``seen``
    holds ``(draft, reference)`` keys already in the set and ``frames`` counts pairs per
    :func:`frame_key`: at most ``MAX_PER_FRAME`` pairs share one, so fact swaps (which a model
    that masks facts sees as the same pair) cannot crowd out noise and joins.
    """
    from rewrite.data.augment import add_noise, join_pairs, swap_facts

    out: list[Pair] = []
    if not origins or n_target <= 0:
        return out
    groups: dict[tuple[str, str], list[Pair]] = {}
    for p in origins:
        groups.setdefault((p["domain"], p["channel"]), []).append(p)
    order = list(origins)
    max_attempts = n_target * 30
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_target, desc=f"augment {id_prefix}", unit="pair", file=sys.stderr, leave=False)
    cursor = 0
    try:
        while len(out) < n_target and stats.attempts < max_attempts:
            if cursor % len(order) == 0:
                rng.shuffle(order)
            base = order[cursor % len(order)]
            cursor += 1
            stats.attempts += 1
            ops: list[str] = []
            origin_ids = [base["id"]]
            cand: Pair = base
            group = groups[(base["domain"], base["channel"])]
            if rng.random() < JOIN_SHARE and len(group) >= 3:
                k = rng.choice((2, 2, 3))
                others = rng.sample([p for p in group if p["id"] != base["id"]], k - 1)
                joined = join_pairs([base, *others], rng)
                if joined is None:
                    stats.rejected["join_too_long_or_order"] += 1
                    continue
                cand = joined
                origin_ids += [p["id"] for p in others]
                ops.append("join")
            if rng.random() < 0.75:
                swapped = swap_facts(cand, rng)
                if swapped is not None:
                    cand = swapped
                    ops.append("swap")
            if rng.random() < SELF_MAP_SHARE:
                # The professional reply as its own draft: teaches the model to leave good text be.
                if cand["draft"] != cand["reference"]:
                    cand = {**cand, "draft": cand["reference"]}
                    ops.append("self")
            elif rng.random() < 0.55 or not ops:
                noisy = add_noise(cand, rng)
                if noisy is not None:
                    cand, names = noisy
                    ops.append("noise(" + ",".join(names) + ")")
            if not ops:
                stats.rejected["no_op_applied"] += 1
                continue
            key = (cand["draft"], cand["reference"])
            if key in seen:
                stats.rejected["duplicate"] += 1
                continue
            fkey = frame_key(cand)
            if frames.get(fkey, 0) >= MAX_PER_FRAME:
                stats.rejected["frame_cap"] += 1
                continue
            rec = {
                "id": f"{id_prefix}-{len(out) + 1:06d}",
                "draft": cand["draft"],
                "reference": cand["reference"],
                "keep": list(cand.get("keep") or []),
                "domain": cand["domain"],
                "scenario": cand["scenario"],
                "channel": cand["channel"],
                "source": "augment:" + "+".join(ops),
                "origin": "+".join(origin_ids),
            }
            why = accept(rec)
            if why is not None:
                stats.rejected[why] += 1
                continue
            seen.add(key)
            frames[fkey] = frames.get(fkey, 0) + 1
            out.append(rec)
            stats.kept += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out


# ---------------------------------------------------------------------------------------------
# Diversity


def _frame_side(text: str, keep: Sequence[str], cache: dict[str, str]) -> str:
    from rewrite.protect import PLACEHOLDER_RE, protect_for_model

    # Facts and keep spans as the model sees them; content words are then covered by the POS
    # masking below (protect's own content-word pass would only add a slow second segmentation).
    masked = protect_for_model(text, list(keep), content=False).masked
    if masked in cache:
        return cache[masked]
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(60)
    out: list[str] = []
    pos = 0
    for m in [*PLACEHOLDER_RE.finditer(masked), None]:
        seg = masked[pos : m.start()] if m else masked[pos:]
        for w in pseg.lcut(seg, HMM=False) if seg else ():
            out.append(f"[{w.flag}]" if w.flag[:1] in ("n", "v") else w.word)
        if m:
            out.append(f"<{m.group(1)}>")
            pos = m.end()
    cache[masked] = "".join(out)
    return cache[masked]


def diversity(pairs: Sequence[Pair]) -> dict[str, int]:
    """Distinct frames (a pair with its facts masked by ``protect_for_model`` and its nouns and
    verbs replaced by their jieba POS tag) and distinct character 4-grams on each side."""
    cache: dict[str, str] = {}
    frames: set[tuple[str, str]] = set()
    draft_frames: set[str] = set()
    g_draft: set[str] = set()
    g_ref: set[str] = set()
    for p in pairs:
        keep = p.get("keep") or []
        fd = _frame_side(p["draft"], keep, cache)
        fr = _frame_side(p["reference"], keep, cache)
        frames.add((fd, fr))
        draft_frames.add(fd)
        for text, grams in ((p["draft"], g_draft), (p["reference"], g_ref)):
            grams.update(text[i : i + 4] for i in range(len(text) - 3))
    return {
        "pairs": len(pairs),
        "distinct_frames": len(frames),
        "distinct_draft_frames": len(draft_frames),
        "distinct_draft_4grams": len(g_draft),
        "distinct_reference_4grams": len(g_ref),
    }


# ---------------------------------------------------------------------------------------------
# The build


@dataclass
class BuildConfig:
    """Settings of one build (the CLI flags)."""

    out: Path = DEFAULT_OUT
    seed: int = DEFAULT_SEED
    target_size: int = DEFAULT_TARGET
    include_feedback: list[Path] = field(default_factory=list)
    strict: bool = False
    written_dir: Path = WRITTEN_DIR
    bench: list[Path] | None = None  # None: eval/bench/*.jsonl
    card: Path | None = None  # None: rewrite/data/CARD.md for the default out, else <out>/CARD.md
    validation_share: float = VALIDATION_SHARE
    save_dataset: bool = True
    progress: bool = True
    diversity: bool = True


@dataclass
class BuildResult:
    """What a build produced (paths, counts, exclusions) for the card, the CLI and tests."""

    out: Path
    card: Path
    build_hash: str
    train: list[Pair]
    validation: list[Pair]
    written: list[Pair]
    excluded: list[tuple[str, str]]
    leaks: list[tuple[str, str, float]]
    stats: dict[str, AugmentStats]
    checker: bool
    bench_size: int
    seconds: float
    diversity: dict[str, dict[str, int]]
    warnings: list[str]
    ref_overlap: dict[str, int] = field(default_factory=dict)


def build_hash(sources: Sequence[Path], seed: int, target_size: int, extra: str = "") -> str:
    """sha256 over the source files (name and bytes), the seed, the target size, the build code
    and the norms; the first 16 hex digits."""
    h = hashlib.sha256()
    for p in sources:
        h.update(Path(p).name.encode() + b"\0" + Path(p).read_bytes() + b"\0")
    h.update(f"seed={seed};target={target_size};version={BUILD_VERSION};{extra}".encode())
    for name in _CODE_FILES:
        h.update((DATA_DIR / name).read_bytes())
    # The build also runs the package's fact protection, checker and text plumbing: a change there
    # changes the output, so it changes the hash.
    for name in _SHARED_CODE_FILES:
        h.update((DATA_DIR.parent / name).read_bytes())
    try:
        from rewrite.norms.load import norms_hash

        h.update(norms_hash().encode())
    except Exception:  # norms are optional for the hash when prompts/ is absent
        h.update(b"no-norms")
    return h.hexdigest()[:16]


def run_build(cfg: BuildConfig) -> BuildResult:
    """Run every step; raises :class:`BuildError` on broken sources (or any failure with
    ``strict``)."""
    t0 = time.time()
    warnings: list[str] = []
    files = written_files(cfg.written_dir)
    feedback = [Path(p) for p in cfg.include_feedback]
    for p in feedback:
        if not p.exists():
            raise BuildError(f"反馈文件不存在：{p}")
    pairs = load_training_sources(files, feedback)
    bench_paths = bench_files() if cfg.bench is None else list(cfg.bench)
    bench_full = load_bench(bench_paths)
    bench = [(bid, d) for bid, d, _ in bench_full]
    if not bench:
        warnings.append("没有找到评测集（eval/bench/*.jsonl），防泄漏检查没有可比对的草稿。")
    guard = LeakGuard(bench)
    checker = get_checker()
    if checker is None:
        warnings.append("rewrite.norms.checker 尚不存在：跳过了参考答案的规范检查。")

    # 2. validate written pairs.
    excluded: list[tuple[str, str]] = []
    valid: list[Pair] = []
    for p in pairs:
        whys = keep_problems(p)
        if checker is not None:
            whys += [f"参考答案未通过检查：{f}" for f in checker(p["reference"])]
        if whys:
            excluded.append((f"{p['id']} ({p['_file'].rsplit('/', 1)[-1]}:{p['_line']})", "；".join(whys)))
        else:
            valid.append(p)
    if cfg.strict and excluded:
        raise BuildError(f"--strict：{len(excluded)} 条参考答案未通过检查：", [f"{i}: {w}" for i, w in excluded])

    # 3. leak guard on written pairs.
    leaks: list[tuple[str, str, float]] = []
    clean: list[Pair] = []
    for p in valid:
        hit = guard.match(p["draft"])
        if hit:
            leaks.append((p["id"], hit[0], hit[1]))
        else:
            clean.append(p)
    if cfg.strict and leaks:
        raise BuildError(f"--strict：{len(leaks)} 条训练草稿与评测集重合：", [f"{a} ≈ {b} (J={j:.2f})" for a, b, j in leaks])

    written = [{**strip_private(p), "origin": p["id"]} for p in clean]
    for p in written:
        p.setdefault("keep", [])
    train_w, val_w = split_pairs(written, cfg.seed, cfg.validation_share)

    # 5. augment.
    def accept(rec: Pair) -> str | None:
        if keep_problems(rec):
            return "keep_missing"
        if checker is not None and checker(rec["reference"]):
            return "checker_findings"
        hit = guard.match(rec["draft"])
        if hit:
            stats_now.leaks.append((rec["origin"], hit[0], hit[1]))
            return "leak"
        return None

    seen = {(p["draft"], p["reference"]) for p in written}
    frames: dict[tuple[str, str], int] = {}
    for p in written:
        fk = frame_key(p)
        frames[fk] = frames.get(fk, 0) + 1
    stats: dict[str, AugmentStats] = {}
    n_train_aug = max(0, cfg.target_size - len(train_w))
    share = cfg.validation_share
    n_val_aug = max(0, round(cfg.target_size * share / (1 - share)) - len(val_w)) if share > 0 else 0
    rng = random.Random(f"{cfg.seed}:augment")
    stats_now = stats.setdefault("train", AugmentStats())
    aug_train = augment(train_w, n_train_aug, rng, accept, seen, frames, "aug", stats_now, cfg.progress)
    stats_now = stats.setdefault("validation", AugmentStats())
    aug_val = augment(val_w, n_val_aug, rng, accept, seen, frames, "augv", stats_now, cfg.progress)
    if len(aug_train) < n_train_aug:
        warnings.append(f"增强只得到 {len(aug_train)} 条（目标 {n_train_aug}）：尝试次数用完。")

    train = train_w + aug_train
    validation = val_w + aug_val
    random.Random(f"{cfg.seed}:order").shuffle(train)
    random.Random(f"{cfg.seed}:order").shuffle(validation)

    # Not a guarantee, a diagnostic for evaluators: training targets near a benchmark reference
    # (the norms prescribe the same phrases, so some overlap is expected and worth knowing).
    ref_guard = LeakGuard([(bid, r) for bid, _, r in bench_full if r])
    ref_hits = [ref_guard.match(p["reference"]) for p in train]
    ref_overlap = {
        "train_pairs": sum(h is not None for h in ref_hits),
        "bench_references": len({h[0] for h in ref_hits if h is not None}),
        "bench_total": len(ref_guard),
    }

    div: dict[str, dict[str, int]] = {}
    if cfg.diversity:
        div["written"] = diversity(written)
        div["train"] = diversity(train)

    bhash = build_hash(
        [*files, *bench_paths, *feedback], cfg.seed, cfg.target_size, extra=f"val={cfg.validation_share}"
    )
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    card = cfg.card or (DEFAULT_CARD if out.resolve() == DEFAULT_OUT.resolve() else out / "CARD.md")
    result = BuildResult(
        out=out, card=Path(card), build_hash=bhash, train=train, validation=validation, written=written,
        excluded=excluded, leaks=leaks, stats=stats, checker=checker is not None, bench_size=len(guard),
        seconds=0.0, diversity=div, warnings=warnings, ref_overlap=ref_overlap,
    )
    _write_jsonl(out / "train.jsonl", train)
    _write_jsonl(out / "validation.jsonl", validation)
    # The clause-level split: every written pair's draft clauses, aligned, on the pair's side.
    from rewrite.data.align import clause_rows

    for name, rows in (("clauses_train.jsonl", train_w), ("clauses_validation.jsonl", val_w)):
        with open(out / name, "w", encoding="utf-8", newline="\n") as f:
            for r in clause_rows(rows, name.split("_")[1].split(".")[0]):
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if cfg.save_dataset:
        _save_dataset(out / "dataset", train, validation)
    Path(card).parent.mkdir(parents=True, exist_ok=True)
    Path(card).write_text(render_card(result, cfg), encoding="utf-8")
    result.seconds = time.time() - t0
    info = {
        "build_hash": bhash,
        "seed": cfg.seed,
        "target_size": cfg.target_size,
        "train": len(train),
        "validation": len(validation),
        "written": len(written),
        "excluded": len(excluded),
        "leaks_written": len(leaks),
        "reference_overlap": ref_overlap,
        "checker": result.checker,
        "bench_drafts": len(guard),
        "seconds": round(result.seconds, 1),
        "diversity": div,
        "warnings": warnings,
    }
    (out / "build_info.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


def _write_jsonl(path: Path, rows: Sequence[Pair]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps({k: r.get(k, "") for k in OUTPUT_FIELDS}, ensure_ascii=False) + "\n")


def _save_dataset(path: Path, train: Sequence[Pair], validation: Sequence[Pair]) -> None:
    import datasets

    features = datasets.Features(
        {k: datasets.List(datasets.Value("string")) if k == "keep" else datasets.Value("string") for k in OUTPUT_FIELDS}
    )

    def table(rows: Sequence[Pair]) -> "datasets.Dataset":
        return datasets.Dataset.from_dict(
            {k: [r.get(k, "") for r in rows] for k in OUTPUT_FIELDS}, features=features
        )

    datasets.DatasetDict({"train": table(train), "validation": table(validation)}).save_to_disk(str(path))


# ---------------------------------------------------------------------------------------------
# Data card


def _op_kind(source: str) -> str:
    if not source.startswith("augment:"):
        return source.split(":", 1)[0]
    return "augment:" + re.sub(r"\([^)]*\)", "", source.split(":", 1)[1])


def _table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines + [""]


def render_card(res: BuildResult, cfg: BuildConfig) -> str:
    """The data card (Markdown): counts, exclusions, diversity and the build hash."""
    from rewrite.data.pools import PLACES, PRODUCTS, SURNAMES

    written = res.written
    aug_train = [p for p in res.train if p["source"].startswith("augment:")]
    aug_val = [p for p in res.validation if p["source"].startswith("augment:")]
    cmd = "rewrite data build"
    if cfg.seed != DEFAULT_SEED:
        cmd += f" --seed {cfg.seed}"
    if cfg.target_size != DEFAULT_TARGET:
        cmd += f" --target-size {cfg.target_size}"
    for p in cfg.include_feedback:
        cmd += f" --include-feedback {p}"
    L: list[str] = [
        "# Data card: rewrite training corpus",
        "",
        "Generated by `rewrite data build` (rewrite/data/build.py); do not edit by hand.",
        "",
        f"- command: `{cmd}`",
        f"- build hash: `{res.build_hash}` (sha256 over the written/bench/feedback sources, seed, target size, build code and norms)",
        f"- seed: {cfg.seed}; target training size: {cfg.target_size}; validation share of written pairs: {cfg.validation_share}",
        f"- written pairs loaded: {len(written) + len(res.excluded) + len(res.leaks)}; used: {len(written)}",
        f"- train: {len(res.train)} pairs ({len(res.train) - len(aug_train)} written + {len(aug_train)} augmented)",
        f"- validation: {len(res.validation)} pairs ({len(res.validation) - len(aug_val)} written + {len(aug_val)} augmented; "
        "grouped by written pair, so no pair's augmentations cross the split)",
        f"- checker validation: {'on (every reference has zero findings)' if res.checker else 'OFF (rewrite.norms.checker missing)'}",
        f"- leak guard: {res.bench_size} benchmark drafts; training drafts equal to one or within character "
        f"{LEAK_N}-gram Jaccard ≥ {LEAK_JACCARD} of one are dropped (compared without spaces and punctuation)",
        f"- pools: {sum(map(len, PRODUCTS.values()))} products, {sum(map(len, PLACES.values()))} places, "
        f"{len(SURNAMES)} surnames; numbers, dates, times, IDs and phone numbers generated in the original format",
        "",
    ]
    for w in res.warnings:
        L.append(f"> 警告：{w}")
    if res.warnings:
        L.append("")

    def selfmap(rows: Sequence[Pair]) -> str:
        n = sum(p["draft"] == p["reference"] for p in rows)
        return f"{n} / {len(rows)} ({100 * n / max(1, len(rows)):.1f} %)"

    L += ["## Self-mapping (draft already professional, reference = draft)", ""]
    L += [f"- written: {selfmap(written)}", f"- train: {selfmap(res.train)}", f"- validation: {selfmap(res.validation)}", ""]

    L += ["## Counts", ""]
    for key in ("domain", "channel", "scenario"):
        cw = Counter(p[key] for p in written)
        ca = Counter(p[key] for p in aug_train)
        cv = Counter(p[key] for p in res.validation)
        names = sorted(set(cw) | set(ca) | set(cv))
        rows = [(n, cw[n], ca[n], cv[n]) for n in names]
        rows.append(("**total**", sum(cw.values()), sum(ca.values()), sum(cv.values())))
        L += _table(f"per {key}", rows, (key, "written", "augmented (train)", "validation (all)"))
    ops = Counter(_op_kind(p["source"]) for p in res.train)
    L += _table("per source / augmentation (train)", sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])), ("source", "pairs"))
    noise = Counter()
    for p in aug_train:
        for m in re.finditer(r"noise\(([^)]*)\)", p["source"]):
            noise.update(m.group(1).split(","))
    if noise:
        L += _table("noise operations (train)", sorted(noise.items(), key=lambda kv: (-kv[1], kv[0])), ("operation", "pairs"))

    L += ["## Excluded pairs", ""]
    L.append(f"- failing validation (checker findings or keep span missing): {len(res.excluded)}")
    L.append(f"- written drafts leaking a benchmark draft: {len(res.leaks)}")
    for name, st in res.stats.items():
        rej = ", ".join(f"{k} {v}" for k, v in sorted(st.rejected.items())) or "none"
        L.append(f"- augmentation ({name}): {st.attempts} attempts, {st.kept} kept; rejected: {rej}")
    L.append("")
    if res.excluded:
        L += _table("failing validation", [(i, w.replace("|", "/")) for i, w in res.excluded], ("pair", "why"))
    if res.leaks:
        L += _table("leaking written drafts", [(a, b, f"{j:.2f}") for a, b, j in res.leaks], ("pair", "benchmark draft", "Jaccard"))
    aug_leaks = [x for st in res.stats.values() for x in st.leaks]
    if aug_leaks:
        c = Counter((a, b) for a, b, _ in aug_leaks)
        L += _table(
            "augmented drafts dropped by the leak guard (by origin)",
            [(a, b, n) for (a, b), n in sorted(c.items())],
            ("origin", "benchmark draft", "dropped"),
        )

    ro = res.ref_overlap
    if ro:
        L += [
            "## Benchmark references near training targets (diagnostic, not dropped)",
            "",
            f"- {ro['train_pairs']} training pairs have a reference equal to, or within 5-gram Jaccard ≥ {LEAK_JACCARD} of, "
            f"one of {ro['bench_references']} benchmark references (of {ro['bench_total']}). The guarantee covers drafts; "
            "targets overlap where the norms prescribe the same phrase.",
            "",
        ]
    if res.diversity:
        L += ["## Diversity", ""]
        L.append(
            "A frame is a pair after masking facts and keep spans with `protect_for_model(text, keep, "
            "content=False)` and then replacing every jieba noun and verb (POS tags n*, v*; dictionary "
            "mode, which also covers the content words protect would mask) with its tag."
        )
        L.append("")
        rows = [
            (name, d["pairs"], d["distinct_frames"], d["distinct_draft_frames"], d["distinct_draft_4grams"], d["distinct_reference_4grams"])
            for name, d in res.diversity.items()
        ]
        L += _table("", rows, ("set", "pairs", "distinct frames (pairs)", "distinct draft frames", "distinct draft char 4-grams", "distinct reference char 4-grams"))[2:]
    from rewrite.data.align import card_lines

    L += card_lines(written, load_bench(bench_files() if cfg.bench is None else list(cfg.bench)), nearest_similarity)
    return "\n".join(L).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# CLI


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="rewrite data", description="构建训练语料（可复现）。")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="从 rewrite/data/written/*.jsonl 构建训练集与验证集")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT, help="输出目录（默认 rewrite/data/build/）")
    b.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子：相同种子得到逐字节相同的输出")
    b.add_argument("--target-size", type=int, default=DEFAULT_TARGET, help="训练集目标条数（含人工编写的句对）")
    b.add_argument("--include-feedback", type=Path, action="append", default=[], metavar="PATH",
                   help="并入反馈库 JSONL（可重复）")
    b.add_argument("--strict", action="store_true", help="任何参考答案未通过检查或泄漏都让构建失败")
    b.add_argument("--card", type=Path, default=None, help="数据卡路径（默认输出目录为默认值时写 rewrite/data/CARD.md）")
    b.add_argument("--no-dataset", action="store_true", help="不写 datasets 格式（只写 JSONL）")
    b.add_argument("--no-progress", action="store_true", help="不显示进度条")
    b.add_argument("--written-dir", type=Path, default=WRITTEN_DIR, help="人工编写句对所在目录（默认 rewrite/data/written/）")
    b.add_argument("--bench", type=Path, action="append", default=None, metavar="PATH",
                   help="防泄漏比对的评测集（可重复；默认 eval/bench/*.jsonl）")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """``rewrite data build [...]``; exit 0 ok, 2 broken sources or a failed ``--strict`` check."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("build", "-h", "--help"):
        print("用法：rewrite data build [--out DIR] [--seed N] [--target-size N] [--include-feedback PATH] [--strict]\n"
              "（rewrite data build --help 查看全部参数）", file=sys.stderr)
        return 2
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if args.target_size < 0:
        print("错误：--target-size 不能为负数。", file=sys.stderr)
        return 2
    cfg = BuildConfig(
        out=args.out, seed=args.seed, target_size=args.target_size, include_feedback=args.include_feedback,
        strict=args.strict, card=args.card, save_dataset=not args.no_dataset, progress=not args.no_progress,
        bench=args.bench, written_dir=args.written_dir,
    )
    try:
        res = run_build(cfg)
    except BuildError as e:
        print(f"错误：{e}", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return 2
    except DataError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    for w in res.warnings:
        print(f"警告：{w}", file=sys.stderr)
    print(
        f"构建完成：train {len(res.train)} 条，validation {len(res.validation)} 条；"
        f"排除 {len(res.excluded)} 条、泄漏 {len(res.leaks)} 条；hash {res.build_hash}；"
        f"用时 {res.seconds:.1f} 秒；输出 {res.out}，数据卡 {res.card}"
    )
    return 0
