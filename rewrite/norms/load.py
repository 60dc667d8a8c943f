"""Loading the norms from ``prompts/`` (editable YAML/Markdown), validated, with a content hash.

``REWRITE_PROMPTS_DIR`` points at another copy (a trainer's edited norms); otherwise the repo's
``prompts/`` is used when running from a checkout, and the copy shipped in the package otherwise.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rewrite.errors import NormsError

PROMPTS_ENV = "REWRITE_PROMPTS_DIR"


def prompts_dir() -> Path:
    """The directory the norms are read from."""
    env = os.environ.get(PROMPTS_ENV)
    if env:
        p = Path(env)
        if not p.is_dir():
            raise NormsError(f"{PROMPTS_ENV}={env} 不是一个目录：请指向包含 forbidden.yaml 的 prompts 目录。")
        return p
    import rewrite.prompts as pkg  # maps to the repo's prompts/ (package-dir) in a checkout

    return Path(pkg.__file__).parent


def norms_files(directory: Path | None = None) -> list[Path]:
    d = directory or prompts_dir()
    return sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml", ".md", ".txt") and p.is_file())


def norms_hash(directory: Path | None = None) -> str:
    """sha256 (first 12 hex digits) over the names and bytes of every norms file."""
    h = hashlib.sha256()
    for p in norms_files(directory):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


@lru_cache(maxsize=32)
def _load_yaml_cached(path: str, mtime: float) -> Any:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else "某处"
        raise NormsError(f"{path} 的 YAML 格式有误（{where}）：{getattr(e, 'problem', e)}。请修正后重试。") from None
    except UnicodeDecodeError:
        raise NormsError(f"{path} 不是 UTF-8 编码的文本文件。") from None


def load_yaml(name: str, directory: Path | None = None) -> Any:
    """Parse ``prompts/<name>``; a missing or malformed file raises :class:`NormsError`."""
    path = (directory or prompts_dir()) / name
    if not path.is_file():
        raise NormsError(f"缺少规范文件 {path}：请恢复 prompts/{name}。")
    return _load_yaml_cached(str(path), path.stat().st_mtime)


# ─────────────────────────── typed norms: forbidden.yaml, phrasebook.yaml, replacements.yaml ─────────

SEVERITIES = ("high", "medium", "low")
CHANNEL_NAMES = ("phone", "chat")


@dataclass(frozen=True)
class Rule:
    """One forbidden term or tone from ``forbidden.yaml`` (see the header of that file)."""

    id: str
    category: str
    severity: str
    patterns: tuple[str, ...]
    explanation: str
    suggestions: tuple[str, ...]
    source: str
    not_within: tuple[str, ...] = ()
    unless_clause: tuple[str, ...] = ()
    unless_sentence: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForbiddenNorms:
    """``forbidden.yaml``: rules plus the score deductions and regex macros they use."""

    version: int
    scoring: dict[str, float]
    macros: dict[str, str]
    categories: dict[str, str]
    rules: tuple[Rule, ...]

    def expand(self, pattern: str) -> str:
        """``pattern`` with ``%NAME%`` macros replaced by their regex."""
        for name, value in self.macros.items():
            pattern = pattern.replace(f"%{name}%", value)
        return pattern


@dataclass(frozen=True)
class Phrase:
    """A standard phrasing from ``phrasebook.yaml``."""

    text: str
    channels: tuple[str, ...]
    source: str
    domain: str = ""


@dataclass(frozen=True)
class Scenario:
    """A service scenario: how to recognise it in a draft, how to frame a reply, standard phrasings.

    ``prefix``/``suffix`` are the light frame the rules backend adds when the scenario is
    recognised and the draft does not already carry it (``skip_if`` regexes say when it does).
    """

    id: str
    name: str
    detect: tuple[str, ...]
    phrases: tuple[Phrase, ...]
    prefix: str = ""
    suffix: dict[str, str] = field(default_factory=dict)
    skip_prefix_if: tuple[str, ...] = ()
    skip_suffix_if: tuple[str, ...] = ()
    priority: int = 0


@dataclass(frozen=True)
class BareFrame:
    """The frame a bare reply gets (``bare_reply`` in ``prompts/phrasebook.yaml``)."""

    courtesy: str
    bad_news: str
    opening: str
    apology: str
    close_news: str
    close_bad_news: str
    skip_opening_if: tuple[str, ...] = ()
    asks: str = ""
    close_asks: str = ""


@dataclass(frozen=True)
class Phrasebook:
    scenarios: tuple[Scenario, ...]
    closings: dict[str, str]
    bare: BareFrame | None = None

    def get(self, scenario_id: str) -> Scenario | None:
        return next((s for s in self.scenarios if s.id == scenario_id), None)


@dataclass(frozen=True)
class Replacement:
    """One rewrite step of the rules backend: ``pattern`` (regex, macros allowed) → ``replace``."""

    id: str
    pattern: str
    replace: str
    source: str
    note: str = ""
    #: Also applied to any engine's chosen reply (the rules' last say): clause families that are
    #: safe on a finished reply and that the critic does not always hear (改明天吧, 你再打来).
    after: bool = False


@dataclass(frozen=True)
class Replacements:
    macros: dict[str, str]
    steps: tuple[Replacement, ...]

    def expand(self, pattern: str) -> str:
        for name, value in self.macros.items():
            pattern = pattern.replace(f"%{name}%", value)
        return pattern


class _Shape:
    """Helpers that raise NormsError naming the file, the entry and the fix."""

    def __init__(self, filename: str):
        self.file = filename

    def fail(self, where: str, problem: str, fix: str) -> NormsError:
        return NormsError(f"规范文件 prompts/{self.file} 中 {where}：{problem}。{fix}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"应为键值映射（key: value），实际是 {type(value).__name__}", "请按文件开头的说明修正格式。")
        return value

    def text(self, d: dict[str, Any], key: str, where: str, *, required: bool = True, default: str = "") -> str:
        if key not in d or d[key] is None:
            if required:
                raise self.fail(where, f"缺少字段 {key}", f"请为该条目补上 {key}。")
            return default
        v = d[key]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or (required and not v.strip()):
            raise self.fail(where, f"字段 {key} 应为非空文本", f"请把 {key} 写成一段文字（含特殊符号时用单引号括起）。")
        return v

    def texts(self, d: dict[str, Any], key: str, where: str, *, required: bool = False) -> tuple[str, ...]:
        v = d.get(key)
        if v is None:
            if required:
                raise self.fail(where, f"缺少字段 {key}", f"请为该条目补上 {key}（一个列表）。")
            return ()
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in v):
            raise self.fail(where, f"字段 {key} 应为文本列表", f"请写成 {key}: ['…', '…']。")
        out = tuple(str(x) for x in v)
        if required and not out:
            raise self.fail(where, f"字段 {key} 为空", f"请至少写一项 {key}。")
        return out

    def regex(self, pattern: str, where: str) -> None:
        import re

        try:
            re.compile(pattern)
        except re.error as e:
            raise self.fail(where, f"正则表达式 {pattern!r} 有误（{e}）", "请修正该正则（括号配对、转义）后重试。") from None

    def channels(self, d: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        chans = self.texts(d, key, where)
        bad = [c for c in chans if c not in CHANNEL_NAMES]
        if bad:
            raise self.fail(where, f"未知渠道 {bad}", f"{key} 只能取 {list(CHANNEL_NAMES)}。")
        return chans


def _mtime(name: str, directory: Path | None) -> tuple[str, float]:
    path = (directory or prompts_dir()) / name
    if not path.is_file():
        raise NormsError(f"缺少规范文件 {path}：请恢复 prompts/{name}。")
    return str(path), path.stat().st_mtime


def load_forbidden(directory: Path | None = None) -> ForbiddenNorms:
    """The validated rules of ``prompts/forbidden.yaml`` (cached until the file changes).

    Raises :class:`NormsError` naming the file, the rule and the fix when the file is malformed.
    """
    return _forbidden_cached(*_mtime("forbidden.yaml", directory))


@lru_cache(maxsize=8)
def _forbidden_cached(path: str, mtime: float) -> ForbiddenNorms:
    s = _Shape("forbidden.yaml")
    doc = s.mapping(_load_yaml_cached(path, mtime), "文件顶层")
    scoring_raw = s.mapping(doc.get("scoring", {"high": 25, "medium": 12, "low": 5}), "scoring")
    scoring: dict[str, float] = {}
    for sev in SEVERITIES:
        v = scoring_raw.get(sev)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            raise s.fail("scoring", f"缺少或错误的扣分值 {sev}: {v!r}", "请为 high、medium、low 各写一个非负数。")
        scoring[sev] = float(v)
    macros = {str(k): str(v) for k, v in s.mapping(doc.get("macros", {}), "macros").items()}
    categories = {str(k): str(v) for k, v in s.mapping(doc.get("categories"), "categories").items()}
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise s.fail("rules", "缺少规则列表", "请在 rules: 下以 “- id: …” 的形式列出规则。")
    rules: list[Rule] = []
    seen: set[str] = set()
    norms_stub = ForbiddenNorms(1, scoring, macros, categories, ())
    for i, raw in enumerate(raw_rules, 1):
        where = f"第 {i} 条规则"
        d = s.mapping(raw, where)
        rid = s.text(d, "id", where)
        where = f"规则 {rid}"
        if rid in seen:
            raise s.fail(where, "id 重复", "每条规则的 id 必须唯一，请改名。")
        seen.add(rid)
        category = s.text(d, "category", where)
        if category not in categories:
            raise s.fail(where, f"未知类别 {category!r}", f"请使用 categories 中的类别之一：{'、'.join(categories)}，或先在 categories 中添加。")
        severity = s.text(d, "severity", where)
        if severity not in SEVERITIES:
            raise s.fail(where, f"severity 为 {severity!r}", f"severity 只能是 {'、'.join(SEVERITIES)}。")
        patterns = s.texts(d, "patterns", where, required=True)
        for p in patterns:
            s.regex(norms_stub.expand(p), where)
        unless_clause = s.texts(d, "unless_clause", where)
        unless_sentence = s.texts(d, "unless_sentence", where)
        for p in unless_clause + unless_sentence:
            s.regex(norms_stub.expand(p), where)
        rules.append(
            Rule(
                id=rid,
                category=category,
                severity=severity,
                patterns=patterns,
                explanation=s.text(d, "explanation", where),
                suggestions=s.texts(d, "suggestions", where),
                source=s.text(d, "source", where),
                not_within=s.texts(d, "not_within", where),
                unless_clause=unless_clause,
                unless_sentence=unless_sentence,
                channels=s.channels(d, "channels", where),
                examples=s.texts(d, "examples", where),
                counter_examples=s.texts(d, "counter_examples", where),
            )
        )
    version = doc.get("version", 1)
    return ForbiddenNorms(int(version) if isinstance(version, int) else 1, scoring, macros, categories, tuple(rules))


def load_phrasebook(directory: Path | None = None) -> Phrasebook:
    """The validated scenarios of ``prompts/phrasebook.yaml`` (cached until the file changes)."""
    return _phrasebook_cached(*_mtime("phrasebook.yaml", directory))


@lru_cache(maxsize=8)
def _phrasebook_cached(path: str, mtime: float) -> Phrasebook:
    s = _Shape("phrasebook.yaml")
    doc = s.mapping(_load_yaml_cached(path, mtime), "文件顶层")
    raw = s.mapping(doc.get("scenarios"), "scenarios")
    scenarios: list[Scenario] = []
    for sid, body in raw.items():
        where = f"场景 {sid}"
        d = s.mapping(body, where)
        phrases = []
        raw_phrases = d.get("phrases")
        if not isinstance(raw_phrases, list) or not raw_phrases:
            raise s.fail(where, "缺少 phrases 列表", "请至少列出一条标准话术（text、channels、source）。")
        for j, p in enumerate(raw_phrases, 1):
            pw = f"{where} 的第 {j} 条话术"
            pd = s.mapping(p, pw)
            chans = s.channels(pd, "channels", pw) or CHANNEL_NAMES
            phrases.append(
                Phrase(s.text(pd, "text", pw), chans, s.text(pd, "source", pw), s.text(pd, "domain", pw, required=False))
            )
        detect = s.texts(d, "detect", where)
        skip = s.texts(d, "skip_prefix_if", where)
        skip_suffix = s.texts(d, "skip_suffix_if", where)
        for p in detect + skip + skip_suffix:
            s.regex(p, where)
        suffix_raw = d.get("suffix") or {}
        if isinstance(suffix_raw, str):
            suffix_raw = {c: suffix_raw for c in CHANNEL_NAMES}
        suffix = s.mapping(suffix_raw, f"{where} 的 suffix")
        bad = [c for c in suffix if c not in CHANNEL_NAMES]
        if bad:
            raise s.fail(where, f"suffix 中有未知渠道 {bad}", f"suffix 的键只能是 {list(CHANNEL_NAMES)}。")
        prio = d.get("priority", 0)
        if not isinstance(prio, int) or isinstance(prio, bool):
            raise s.fail(where, f"priority 应为整数，实际是 {prio!r}", "请写一个整数（越大越优先）。")
        scenarios.append(
            Scenario(
                id=str(sid),
                name=s.text(d, "name", where),
                detect=detect,
                phrases=tuple(phrases),
                prefix=s.text(d, "prefix", where, required=False),
                suffix={str(k): str(v or "") for k, v in suffix.items()},
                skip_prefix_if=skip,
                skip_suffix_if=skip_suffix,
                priority=prio,
            )
        )
    closings = {str(k): str(v) for k, v in s.mapping(doc.get("closings", {}), "closings").items()}
    bare = None
    if doc.get("bare_reply") is not None:
        where = "bare_reply"
        b = s.mapping(doc["bare_reply"], where)
        close = s.mapping(b.get("close"), f"{where} 的 close")
        bare = BareFrame(
            courtesy=s.text(b, "courtesy", where), bad_news=s.text(b, "bad_news", where),
            opening=s.text(b, "opening", where, required=False), apology=s.text(b, "apology", where, required=False),
            close_news=s.text(close, "news", f"{where} 的 close", required=False),
            close_bad_news=s.text(close, "bad_news", f"{where} 的 close", required=False),
            skip_opening_if=s.texts(b, "skip_opening_if", where),
            asks=s.text(b, "asks", where, required=False),
            close_asks=s.text(close, "asks", f"{where} 的 close", required=False),
        )
        for p in (bare.courtesy, bare.bad_news, *bare.skip_opening_if, *((bare.asks,) if bare.asks else ())):
            s.regex(p, where)
    return Phrasebook(tuple(scenarios), closings, bare)


def load_replacements(directory: Path | None = None) -> Replacements:
    """The ordered rewrite steps of ``prompts/replacements.yaml`` (cached until the file changes)."""
    return _replacements_cached(*_mtime("replacements.yaml", directory))


@lru_cache(maxsize=8)
def _replacements_cached(path: str, mtime: float) -> Replacements:
    import re

    s = _Shape("replacements.yaml")
    doc = s.mapping(_load_yaml_cached(path, mtime), "文件顶层")
    macros = {str(k): str(v) for k, v in s.mapping(doc.get("macros", {}), "macros").items()}
    stub = Replacements(macros, ())
    raw = doc.get("steps")
    if not isinstance(raw, list) or not raw:
        raise s.fail("steps", "缺少替换步骤列表", "请在 steps: 下以 “- id: …” 的形式列出替换步骤。")
    steps: list[Replacement] = []
    seen: set[str] = set()
    for i, body in enumerate(raw, 1):
        where = f"第 {i} 个替换步骤"
        d = s.mapping(body, where)
        rid = s.text(d, "id", where)
        where = f"替换步骤 {rid}"
        if rid in seen:
            raise s.fail(where, "id 重复", "每个步骤的 id 必须唯一，请改名。")
        seen.add(rid)
        pattern = s.text(d, "pattern", where)
        s.regex(stub.expand(pattern), where)
        replace = s.text(d, "replace", where, required=False)
        try:  # a bad group reference only shows when a match is expanded: check the template now
            rx = re.compile(stub.expand(pattern))
            _check_template(rx, replace)
        except (re.error, IndexError) as e:
            raise s.fail(where, f"replace {replace!r} 有误（{e}）", "请检查 \\g<1> 之类的分组引用。") from None
        after = d.get("after", False)
        if not isinstance(after, bool):
            raise s.fail(where, f"after 应为 true 或 false，而不是 {after!r}", "请写 after: true（也用于润色其他引擎的回复）或删去该字段。")
        steps.append(Replacement(rid, pattern, replace, s.text(d, "source", where), s.text(d, "note", where, required=False), after))
    return Replacements(macros, tuple(steps))


def _check_template(rx: "re.Pattern[str]", template: str) -> None:
    """Raise re.error/IndexError when ``template`` refers to a group ``rx`` does not have."""
    import re

    for m in re.finditer(r"\\g<([^>]+)>|\\(\d+)", template):
        ref = m.group(1) or m.group(2)
        if ref.isdigit():
            if int(ref) > rx.groups:
                raise IndexError(f"没有第 {ref} 个分组")
        elif ref not in rx.groupindex:
            raise IndexError(f"没有名为 {ref} 的分组")


def load_critic_categories(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """The categories of ``prompts/critic.yaml`` (id -> name, severity, explanation, phrasebook,
    source), checked against the critic's labels. Raises :class:`NormsError` when malformed."""
    from rewrite.norms.critic import LABELS

    path, mtime = _mtime("critic.yaml", directory)
    doc = _load_yaml_cached(path, mtime)
    cats = doc.get("categories") if isinstance(doc, dict) else None
    if not isinstance(cats, dict):
        raise NormsError(f"{path} 缺少 categories：请按文件头的说明列出语气类别。")
    missing = [c for c in LABELS[1:] if c not in cats]
    if missing:
        raise NormsError(f"{path} 缺少类别 {', '.join(missing)}：它们是评审模型的标签，不能删除。")
    out = {}
    for cid, d in cats.items():
        if not isinstance(d, dict) or not all(isinstance(d.get(k), str) and d[k] for k in ("name", "explanation", "source")):
            raise NormsError(f"{path} 的类别 {cid} 需要 name、explanation、source。")
        if d.get("severity") not in ("high", "medium", "low"):
            raise NormsError(f"{path} 的类别 {cid}：severity 必须是 high、medium 或 low。")
        out[cid] = {**d, "phrasebook": list(d.get("phrasebook") or [])}
    return out
