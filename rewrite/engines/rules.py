"""The rules backend: a deterministic rewriter driven by the norms in ``prompts/``.

It is the baseline every model must beat and the fallback when a model's candidates fail the
checks, so it never imports anything heavy and never fails on odd input. Per masked chunk:

1. apply the ordered steps of ``replacements.yaml`` (whole-clause tones first, then 禁用语 and
   “不” words, over-promises, 你→您, slang particles, punctuation). A step that would drop,
   duplicate or invent a placeholder (``<AMT1>``) is skipped for that chunk, so facts pass through
   (a name said twice, ``<ENT1>…<ENT1>``, may come back once);
2. on the phone, drop the chat-only address 亲;
3. recognise the scenario with the ``detect`` regexes of ``phrasebook.yaml`` (highest priority
   wins) and add its light frame: a prefix (apology, empathy, greeting, 请您稍等) and, per channel,
   a polite close, unless the reply already carries them;
4. end the reply with a full stop.

A chunk that is already polished (no checker finding, punctuated, no spaces between words, polite
register) only gets the punctuation tidy-up: the fallback must never damage a reply that was
already fine. Frames
are idempotent: a prefix or close whose words the chunk already carries is not added again, so a
long draft cut into several chunks does not repeat them.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from rewrite.norms.load import Phrasebook, Scenario, load_phrasebook, load_replacements, prompts_dir
from rewrite.protect import PLACEHOLDER_RE
from rewrite.text import MENTION, NAMED_GREETING, split_signature

_END_MARKS = "。！？!?…"
_QIN_PHONE = re.compile(r"^亲(?:爱的)?[，,！!\s]*")
_TRAILING = re.compile(r"[，,、；;：:\s]+$")
_GAP = re.compile(r"(?<=[\u4e00-\u9fff>])[ \t\u3000]+(?=[\u4e00-\u9fff<])")
_AFTER_MARK = re.compile(r"([？！?!])[，,。]+")
_FRAME_CORE = re.compile(r"[，,。！？!?、；;：:\s]+")


def _mention(text: str) -> list[tuple[int, int]]:
    """The span of the Weibo mention that opens ``text`` (@name, 回复@name：): a name no step may
    rewrite, frozen for every step but the tidy-up."""
    m = MENTION.match(text)
    return [m.span()] if m else []


@dataclass(frozen=True)
class _Compiled:
    steps: tuple[tuple[str, re.Pattern[str], str], ...]
    after: tuple[tuple[str, re.Pattern[str], str], ...]  # the steps marked ``after: true``
    typos: tuple[tuple[str, re.Pattern[str], str], ...]  # the ``typo.*`` steps
    phrasebook: Phrasebook
    detectors: tuple[tuple[Scenario, tuple[re.Pattern[str], ...]], ...]


@lru_cache(maxsize=8)
def _compile(directory: str, rep_mtime: float, pb_mtime: float) -> _Compiled:
    d = Path(directory)
    reps = load_replacements(d)
    steps = tuple((s.id, re.compile(reps.expand(s.pattern)), s.replace) for s in reps.steps)
    after = tuple(step for step, s in zip(steps, reps.steps) if s.after)
    typos = tuple(step for step in steps if step[0].startswith("typo."))
    pb = load_phrasebook(d)
    detectors = tuple(
        (sc, tuple(re.compile(p) for p in sc.detect))
        for sc in sorted(pb.scenarios, key=lambda s: -s.priority)
        if sc.detect
    )
    return _Compiled(steps, after, typos, pb, detectors)


def _compiled(directory: Path | None = None) -> _Compiled:
    d = directory or prompts_dir()
    load_replacements(d)  # raise NormsError with the fix if missing or malformed
    load_phrasebook(d)
    return _compile(str(d), (d / "replacements.yaml").stat().st_mtime, (d / "phrasebook.yaml").stat().st_mtime)


def _placeholders(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in PLACEHOLDER_RE.finditer(text))


def _slots_kept(new: Counter[str], slots: Counter[str]) -> bool:
    """Every placeholder still there and none invented; facts exactly as often as before, a name
    (``<ENT1>``) at least once (“规定就是规定” may become “这是相关规定”)."""
    if set(new) != set(slots):
        return False
    return all(new[p] == n or (p.startswith("<ENT") and 1 <= new[p] <= n) for p, n in slots.items())


def fix_typos(text: str, directory: Path | None = None) -> str:
    """``text`` with the ``typo.*`` steps of ``replacements.yaml`` applied (配和 → 配合): the
    tidy-up a reply that is otherwise fine gets. Placeholders are never touched."""
    comp = _compiled(directory)
    slots = None
    for _, rx, repl in comp.typos:
        new = rx.sub(repl, text)
        if new != text:
            slots = _placeholders(text) if slots is None else slots
            if _slots_kept(_placeholders(new), slots):
                text = new
    return text


def detect_scenario(draft: str, directory: Path | None = None) -> Scenario | None:
    """The highest-priority scenario of ``phrasebook.yaml`` whose ``detect`` regexes match ``draft``."""
    for sc, pats in _compiled(directory).detectors:
        if any(p.search(draft) for p in pats):
            return sc
    return None


def _apply(
    rx: re.Pattern[str], repl: str, text: str, avoid: list[tuple[int, int]], frozen: list[tuple[int, int]]
) -> tuple[str, list[tuple[int, int]]]:
    """``rx.sub(repl, text)`` skipping matches that overlap ``avoid``; returns the new text and the
    frozen spans moved to their new offsets plus the spans just written."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    shift = 0
    edits: list[tuple[int, int, int]] = []  # (old_start, old_end, new_len)
    for m in rx.finditer(text):
        s, e = m.span()
        if any(s < fe and fs < e for fs, fe in avoid) or (s == e and any(fs < s < fe for fs, fe in avoid)):
            continue
        new = m.expand(repl)
        if new == m.group(0):
            continue
        out.append(text[pos:s])
        start = s + shift
        out.append(new)
        spans.append((start, start + len(new)))
        shift += len(new) - (e - s)
        edits.append((s, e, len(new)))
        pos = e
    if not edits:
        return text, frozen
    out.append(text[pos:])
    moved: list[tuple[int, int]] = []
    for fs, fe in frozen:
        d = 0
        dropped = False
        for s, e, n in edits:
            if e <= fs:
                d += n - (e - s)
            elif s < fe:  # a tidy step edited inside a frozen span: keep it frozen, roughly
                dropped = True
        if not dropped:
            moved.append((fs + d, fe + d))
    return "".join(out), sorted(moved + spans)


_CLAUSE_SPLIT = re.compile(r"([，,。！？!?；;]+)")


def _dedupe(text: str) -> str:
    """Drop a clause that repeats the one just before it (two patterns can map to the same phrase)."""
    parts = _CLAUSE_SPLIT.split(text)
    out: list[str] = []
    last = None
    i = 0
    while i < len(parts):
        clause = parts[i]
        mark = parts[i + 1] if i + 1 < len(parts) else ""
        if clause and clause == last:
            if mark and out and out[-1] and _CLAUSE_SPLIT.fullmatch(out[-1]) and mark[-1] in "。！？!?":
                out[-1] = mark
        else:
            out.append(clause)
            out.append(mark)
            if clause:
                last = clause
        i += 2
    return "".join(out)


_QUESTION_END = re.compile(r"(?:^|[。！？!?，,；;])(?:请问[^。！？!?，,；;]*|[^。！？!?]*吗)$")


#: A reply that already ends like this is closed: a tilde, an emoticon code or masked token
#: ([微笑], #E-s[数字x]), a Latin word, URL or e-mail placeholder (a full stop could read as part
#: of it), a masked term (a ``keep`` span such as [呵呵] is one), a Weibo signature (小编, -小沃)
#: or a closing bracket. A number, amount, phone number, code, date or time at the end gets its
#: full stop (建议您拨打110。).
_CLOSED_END = re.compile(r"(?:[~～)）]|(?<![x>])\]|<(?:EN|URL|EMAIL|ENT)\d+>|小编|小沃|小U|小二|客服)$")


def _finish(text: str) -> str:
    """Close with an end mark: a question mark after a question (…吗, a last clause 请问…), else a
    full stop; nothing after a tilde, an emoticon code, a signature or a placeholder."""
    text = _TRAILING.sub("", text.strip())
    if text and text[-1] not in _END_MARKS and not _CLOSED_END.search(text):
        text += "？" if _QUESTION_END.search(text) else "。"
    return text


def _before_suffix(text: str) -> str:
    """The body closed with an end mark before a close is appended: a body that ends in a
    placeholder (``<ENT1>``, masked by the pipeline) gets a full stop, so the close never glues
    onto it (…我看下轨迹请不要挂机)."""
    text = _finish(text)
    if text and text[-1] not in _END_MARKS + "~～":
        text += "。"
    return text


#: A greeting that opens a reply, a named one included ([姓名x]您好, 王女士您好).
_OPENING_GREETING = re.compile(r"^(?:" + NAMED_GREETING + r"|(?:[\u4e00-\u9fff]{1,3}(?:先生|女士|老师|师傅))?(?:您好|你好)"
                               r"|早上好|上午好|中午好|下午好|晚上好|亲爱的|亲亲?|好的)[，,！!]?")


def _add_prefix(text: str, prefix: str) -> str:
    """Put the frame after a leading greeting (您好，非常抱歉，…; [姓名x]您好，我再为您说明一下，…)
    rather than before it."""
    m = _OPENING_GREETING.match(text)
    if m and not prefix.startswith(("您好", "早上好", "上午好", "中午好", "下午好", "晚上好")):
        head = m.group(0).rstrip("，,！!") + "，"
        return head + prefix + text[m.end():]
    return prefix + text


def _core(frame: str) -> str:
    """A frame's words without punctuation (请您稍等， → 请您稍等), to see whether a text has it."""
    return _FRAME_CORE.sub("", frame)


def _has_frame(text: str, frame: str) -> bool:
    """Whether ``text`` already carries every clause of ``frame`` (punctuation ignored)."""
    plain = _core(text)
    clauses = [c for c in _FRAME_CORE.split(frame) if c]
    return bool(clauses) and all(c in plain for c in clauses)


_POLITE = re.compile(r"您|请|抱歉|对不起|谢谢|感谢|不好意思|麻烦")


def _is_polished(text: str, channel: str, directory: Path | None) -> bool:
    """Already professional: no checker finding, closed by an end mark, no spaces between words,
    and in the polite register (您, 请, 抱歉 …): a blunt line the checker misses still gets rewritten."""
    from rewrite.norms.checker import check  # late: the checker compiles its rules on first use

    body = text.strip()
    if len(body) < 2 or body[-1] not in _END_MARKS or _GAP.search(body) or not _POLITE.search(body):
        return False
    return not check(body, channel=channel, directory=directory).findings


class RulesBackend:
    """Deterministic norms-driven rewriter (``load_rewriter("rules")``).

    ``prompts``: another norms directory (defaults to ``REWRITE_PROMPTS_DIR`` / the shipped one).
    """

    name = "rules"
    use_fallback = False
    #: The pipeline passes ``positions`` (does the chunk start / end the reply?) so a long draft cut
    #: into chunks gets one opening frame and one close, not one per chunk.
    wants_positions = True

    def __init__(self, prompts: str | Path | None = None, **_: object):
        self.prompts = Path(prompts) if prompts else None

    def load(self) -> "RulesBackend":
        """Read the norms now (else the first rewrite does): one rewrite of a short draft."""
        self.generate(["好的"], n=1)
        return self

    def generate(
        self,
        chunks: Sequence[str],
        *,
        n: int = 1,
        channel: str = "phone",
        positions: Sequence[tuple[bool, bool]] | None = None,
    ) -> list[list[str]]:
        """One candidate per masked chunk (the rules are deterministic, so ``n`` adds nothing).

        ``positions``: per chunk, whether it starts and whether it ends its reply (default: both,
        i.e. each chunk is a whole reply). The prefix frame goes only on a starting chunk, the close
        only on an ending one.
        """
        pos = list(positions) if positions is not None else [(True, True)] * len(chunks)
        return [[self.rewrite_chunk(c, channel=channel, starts=s, ends=e)] for c, (s, e) in zip(chunks, pos)]

    def touch_up(self, text: str) -> str:
        """The rules' last say on another engine's reply (masked): only the steps marked
        ``after: true`` (clause families such as 改明天吧 → 您看明天可以吗？), no frame, no tidy-up;
        placeholders come back exactly once each."""
        comp = _compiled(self.prompts)
        slots = _placeholders(text)
        frozen = _mention(text)
        given = text
        for step_id, rx, repl in comp.after:
            tidy = step_id.startswith(("punct.", "tidy."))  # these also reach what an earlier step wrote
            new, new_frozen = _apply(rx, repl, text, [] if tidy else frozen, frozen)
            if new != text and _slots_kept(_placeholders(new), slots):
                text, frozen = new, new_frozen
        # 您看明天可以吗？，明天… → 您看明天可以吗？明天…
        return given if text == given else _AFTER_MARK.sub(r"\1", text)

    def rewrite_chunk(self, text: str, *, channel: str = "phone", starts: bool = True, ends: bool = True) -> str:
        """Rewrite one masked chunk; placeholders come back exactly once each, unchanged.

        ``starts`` / ``ends``: whether the chunk begins / closes the reply (frames go only there).
        """
        comp = _compiled(self.prompts)
        original = text
        slots = _placeholders(text)
        lead = re.match(r"^\s*", text).group(0)
        trail = re.search(r"\s*$", text).group(0)
        body = text.strip()
        if not body:
            return text
        polished = _is_polished(body, channel, self.prompts)
        frozen = _mention(body)  # spans written by earlier steps, and an opening @mention
        for step_id, rx, repl in comp.steps:
            tidy = step_id.startswith(("punct.", "tidy."))  # these also reach text earlier steps wrote
            if polished and not tidy:
                continue
            new, new_frozen = _apply(rx, repl, body, [] if tidy else frozen, frozen)
            if new != body and _slots_kept(_placeholders(new), slots):
                body, frozen = new, new_frozen
        if polished:
            return lead + body + trail
        body = _dedupe(body)
        if channel == "phone":
            body = _QIN_PHONE.sub("", body)
        scenario = None
        for sc, pats in comp.detectors:
            if any(p.search(original) for p in pats):
                scenario = sc
                break
        body = _TRAILING.sub("", body.strip())
        if not body:
            # Everything was a brush-off: say the scenario's standard line, or a polite offer to help.
            body = ""
        if scenario is not None:
            if (
                starts
                and scenario.prefix
                and not _has_frame(body, scenario.prefix)
                and not any(re.search(p, body) for p in scenario.skip_prefix_if)
            ):
                body = _add_prefix(body, scenario.prefix)
            suffix = scenario.suffix.get(channel, "")
            closed = re.search(r"(?:再见|祝您[^，。！？]*)[。！!]?$", body)  # never add a close after goodbye
            if (
                ends
                and suffix
                and not closed
                and not _has_frame(body, suffix)
                and not any(re.search(p, _finish(body)) for p in scenario.skip_suffix_if)
            ):
                head, signature = split_signature(body)  # a Weibo signature stays last: …。感谢您的理解。小编
                body = _before_suffix(head) + suffix + signature if body else suffix
        if not _TRAILING.sub("", body).strip("，,"):
            body = "请问还有什么可以帮您？"
        body = _finish(body)
        return lead + body + trail
