"""The result types every backend and the checker return. Plain dataclasses, JSON-ready."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One breach of the service norms found in a text.

    ``start``/``end`` are character offsets into the checked text (end exclusive).
    """

    rule_id: str
    category: str
    severity: str  # "high" | "medium" | "low"
    start: int
    end: int
    text: str
    explanation: str
    suggestions: tuple[str, ...] = ()
    #: ``rule`` (the keyword library, prompts/forbidden.yaml) or ``model`` (the clause critic).
    source: str = "rule"
    #: The critic's confidence that the clause offends (0-1); ``None`` for rule findings.
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["suggestions"] = list(self.suggestions)
        return d


@dataclass
class CheckReport:
    """All findings for one text and a 0-100 compliance score (100 = no finding)."""

    text: str
    findings: list[Finding]
    score: float
    #: What the user should know about how the check was made (e.g. the critic was unavailable).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "score": self.score, "findings": [f.to_dict() for f in self.findings],
                "notes": list(self.notes)}


@dataclass(frozen=True)
class Edit:
    """One difference between source and target: ``op`` is insert, delete or replace.

    Offsets are character offsets into source (``src_start``/``src_end``) and target.
    """

    op: str
    src_start: int
    src_end: int
    tgt_start: int
    tgt_end: int
    before: str
    after: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RewriteResult:
    """What ``Rewriter.rewrite`` returns, whatever the backend.

    ``fallback`` is True when the chosen backend's candidates all failed the checks and the rules
    backend produced the target instead; ``notes`` say why, in Chinese, for the user.
    """

    source: str
    target: str
    edits: list[Edit]
    findings_before: list[Finding]
    findings_after: list[Finding]
    backend: str
    ms: float
    alternatives: list[str] = field(default_factory=list)
    channel: str = "phone"
    fallback: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "alternatives": list(self.alternatives),
            "edits": [e.to_dict() for e in self.edits],
            "findings_before": [f.to_dict() for f in self.findings_before],
            "findings_after": [f.to_dict() for f in self.findings_after],
            "backend": self.backend,
            "channel": self.channel,
            "fallback": self.fallback,
            "notes": list(self.notes),
            "ms": round(self.ms, 3),
        }
