"""The norms checker: ``check(text)`` finds every breach of ``prompts/forbidden.yaml``.

Each finding carries its span, rule id, category, severity, a one-line Chinese explanation and
suggested phrasings; the report carries a 0-100 score (100 = no finding; each finding deducts the
points ``scoring`` gives its severity).

The rules are contextual regexes (see the header of ``forbidden.yaml``): a hit is dropped when it
lies inside an allowed word (``not_within``: 喂养, 哈尔滨, 迷你) or when its clause/sentence matches
an exception (``unless_clause``: 请问 for 什么意思; ``unless_sentence``: 对不起 for 他不在).
The compiled rules are cached until the file changes, so a check costs well under a millisecond.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rewrite.errors import InvalidDraftError
from rewrite.norms.load import ForbiddenNorms, Rule, load_forbidden, prompts_dir
from rewrite.types import CheckReport, Finding

_CLAUSE_MARKS = "，。！？、；：,.!?;:…\n~～"
_SENTENCE_MARKS = "。！？!?\n"


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    patterns: tuple[re.Pattern[str], ...]
    within: re.Pattern[str] | None
    unless_clause: re.Pattern[str] | None
    unless_sentence: re.Pattern[str] | None


@dataclass(frozen=True)
class _Compiled:
    norms: ForbiddenNorms
    rules: tuple[_CompiledRule, ...]


def _alternation(norms: ForbiddenNorms, regexes: tuple[str, ...]) -> re.Pattern[str] | None:
    if not regexes:
        return None
    return re.compile("|".join(f"(?:{norms.expand(r)})" for r in regexes))


@lru_cache(maxsize=8)
def _compile(path: str, mtime: float) -> _Compiled:
    norms = load_forbidden(Path(path).parent)
    rules = []
    for r in norms.rules:
        within = re.compile("|".join(re.escape(w) for w in sorted(r.not_within, key=len, reverse=True))) if r.not_within else None
        rules.append(
            _CompiledRule(
                rule=r,
                patterns=tuple(re.compile(norms.expand(p)) for p in r.patterns),
                within=within,
                unless_clause=_alternation(norms, r.unless_clause),
                unless_sentence=_alternation(norms, r.unless_sentence),
            )
        )
    return _Compiled(norms, tuple(rules))


def compiled_norms(directory: Path | None = None) -> _Compiled:
    """The compiled rules (cached until ``forbidden.yaml`` changes)."""
    path = (directory or prompts_dir()) / "forbidden.yaml"
    load_forbidden(directory)  # raises NormsError with the fix when missing or malformed
    return _compile(str(path), path.stat().st_mtime)


def _bounds(text: str, start: int, end: int, marks: str) -> tuple[int, int]:
    lo = start
    while lo > 0 and text[lo - 1] not in marks:
        lo -= 1
    hi = end
    while hi < len(text) and text[hi] not in marks:
        hi += 1
    return lo, hi


def _allowed(cr: _CompiledRule, text: str, s: int, e: int) -> bool:
    """True when the hit ``text[s:e]`` is an exception of its rule."""
    if cr.within is not None:
        for m in cr.within.finditer(text):
            if m.start() <= s and e <= m.end():
                return True
    if cr.unless_clause is not None:
        lo, hi = _bounds(text, s, e, _CLAUSE_MARKS)
        if cr.unless_clause.search(text, lo, hi):
            return True
    if cr.unless_sentence is not None:
        lo, hi = _bounds(text, s, e, _SENTENCE_MARKS)
        if cr.unless_sentence.search(text, lo, hi):
            return True
    return False


def _typo_fix(text: str, s: int, e: int, directory: Path | None = None) -> tuple[str, ...] | None:
    """The correction of the typo at ``text[s:e]`` (配和 → 配合): the ``typo.*`` step of
    ``replacements.yaml`` (which the tidy-up applies) that matches exactly there; else ``None``."""
    import re

    from rewrite.norms.load import load_replacements  # the norms, not the rules engine: no import cycle

    reps = load_replacements(directory)
    for step in (st for st in reps.steps if st.id.startswith("typo.")):
        rx, repl = re.compile(reps.expand(step.pattern)), step.replace  # re caches the compiled patterns
        for m in rx.finditer(text, max(0, s - 2)):
            if m.span() == (s, e):
                return (m.expand(repl),)
            if m.start() > s:
                break
    return None


def find(text: str, *, channel: str | None = None, directory: Path | None = None) -> list[Finding]:
    """Every finding in ``text``, ordered by position. ``channel`` (phone/chat) enables the rules
    that only apply to one channel (e.g. 亲 is fine in chat, not on the phone)."""
    if not isinstance(text, str):
        raise InvalidDraftError(f"待检查的内容必须是文本，收到的是 {type(text).__name__}。")
    comp = compiled_norms(directory)
    out: list[tuple[int, int, int, Finding]] = []
    for order, cr in enumerate(comp.rules):
        r = cr.rule
        if r.channels and channel not in r.channels:
            continue
        spans: list[tuple[int, int]] = []
        for rx in cr.patterns:
            for m in rx.finditer(text):
                if "hit" in rx.groupindex and m.group("hit") is not None:
                    s, e = m.span("hit")
                else:
                    s, e = m.span()
                if s == e or any(s < pe and ps < e for ps, pe in spans):
                    continue
                if _allowed(cr, text, s, e):
                    continue
                spans.append((s, e))
                tips = _typo_fix(text, s, e, directory) if r.id.startswith("typo.") else None
                out.append(
                    (s, order, e, Finding(r.id, r.category, r.severity, s, e, text[s:e], r.explanation, tips or r.suggestions))
                )
    out.sort(key=lambda t: (t[0], t[1], t[2]))
    return [f for _, _, _, f in out]


def score(findings: list[Finding], directory: Path | None = None) -> float:
    """0-100: 100 minus the deduction of each finding's severity, floored at 0."""
    weights = compiled_norms(directory).norms.scoring
    return max(0.0, 100.0 - sum(weights.get(f.severity, 0.0) for f in findings))


def check(text: str, *, channel: str | None = None, directory: Path | None = None, critic: bool = False) -> CheckReport:
    """Check ``text`` against the norms: every finding with its span, rule and fix, and a score.

    ``channel`` is optional: without it the channel-specific rules are skipped (so a check never
    flags what is fine on one of the channels). With ``critic`` the learned clause critic adds
    its findings (``source="model"``) beside the rule findings (``source="rule"``); a missing or
    corrupt critic model leaves the rules alone and says so in ``notes``. Raises
    :class:`~rewrite.errors.NormsError` when ``prompts/forbidden.yaml`` is missing or malformed.
    """
    findings = find(text, channel=channel, directory=directory)
    notes: list[str] = []
    if critic:
        extra, notes = critic_findings(text, channel=channel, directory=directory)
        findings = sorted(findings + extra, key=lambda f: (f.start, f.source != "rule", f.end))
    return CheckReport(text=text, findings=findings, score=score(findings, directory), notes=notes)


@lru_cache(maxsize=4)
def _critic_norms(directory: Path | None) -> tuple[dict[str, dict], dict[str, list[tuple[str, tuple[str, ...]]]]]:
    """``prompts/critic.yaml`` categories, and the phrasebook phrasings (text, channels) per scenario."""
    from rewrite.norms.load import load_critic_categories, load_phrasebook

    cats = load_critic_categories(directory)
    book = load_phrasebook(directory)
    phrases = {sc.id: [(p.text, tuple(p.channels)) for p in sc.phrases] for sc in book.scenarios}
    return cats, phrases


#: A text with at most this many Chinese characters is an acknowledgement or a one-word answer
#: (在吗, 是的, 没问题, 您说). On two or three characters the critic guesses (是的 read as
#: contradicting the customer and came back 如有疑问，我可以为您再次核对。; 在吗 came back 非常抱歉。),
#: so it abstains there unless a rule finds something too (喂?什么?, 不知道, the particle of 好的啊).
MAX_ACK_HAN = 3
_HAN = re.compile(r"[\u4e00-\u9fff]")


def critic_abstains(text: str, directory: Path | None = None) -> bool:
    """Whether the critic has no say on ``text``: an acknowledgement of at most
    :data:`MAX_ACK_HAN` Chinese characters in which no rule finds anything."""
    return len(_HAN.findall(text)) <= MAX_ACK_HAN and not find(text, directory=directory)


def critic_findings(text: str, *, channel: str | None = None, directory: Path | None = None) -> tuple[list[Finding], list[str]]:
    """The clause critic's findings on ``text`` and the notes (why there are none, when the model
    is unavailable). Never raises for a missing or corrupt model. None on an acknowledgement
    (:func:`critic_abstains`)."""
    from rewrite.norms.critic import judge, load_critic

    if critic_abstains(text, directory):
        return [], []
    model = load_critic()
    if model is None:
        from rewrite.norms.critic import critic_status

        return [], [critic_status()["reason"] or "语气评审模型不可用，只用规则检查。"]
    cats, phrases = _critic_norms(directory)
    standard = phrasebook_clauses(directory)
    out = []
    for v in judge(model, text):
        if v.label == "ok" or v.text in standard:  # a phrasebook phrasing is the norm itself
            continue
        if not _HAN.search(v.text):  # 😀😀, OK, 12345: no words, no tone to hear
            continue
        cat = cats.get(v.label, {})
        sugg = [t for sid in cat.get("phrasebook", []) for t, chans in phrases.get(sid, [])
                if channel is None or not chans or channel in chans][:2]
        out.append(Finding(f"critic.{v.label}", cat.get("name", v.label), cat.get("severity", "medium"), v.start, v.end,
                           v.text, cat.get("explanation", ""), tuple(sugg), source="model",
                           confidence=round(v.confidence, 3)))
    return out, []


@lru_cache(maxsize=4)
def phrasebook_clauses(directory: Path | None = None) -> frozenset[str]:
    """Every clause of every phrasebook phrasing: the norms' own wording, which the critic never flags."""
    from rewrite.norms.critic import clause_spans

    _, phrases = _critic_norms(directory)
    return frozenset(t[s:e] for items in phrases.values() for t, _ in items for s, e in clause_spans(t))
