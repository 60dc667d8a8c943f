"""Plain data types shared by the harness and the report (so neither imports the other)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BenchItem:
    """One benchmark example, normalised."""

    id: str
    draft: str
    reference: str
    keep: tuple[str, ...] = ()
    channel: str = "phone"
    line: int = 0
    #: Spans of the draft that must not survive (``[]``: the draft is fine as it stands).
    must_fix: tuple[str, ...] = ()
    #: ``plain`` or the real style the draft is written in (shopchat, transcript, ...).
    style: str = "plain"
    #: Whether the bench gave ``must_fix`` at all (offence survival only counts benches that do).
    has_must_fix: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The fields judging needs, as a plain dict."""
        return {"id": self.id, "draft": self.draft, "reference": self.reference, "must_fix": list(self.must_fix)}


@dataclass
class Bench:
    """A benchmark file: its valid items and the lines skipped (``file:line: why``)."""

    name: str
    path: str
    hash: str
    items: list[BenchItem]
    skipped: list[str] = field(default_factory=list)
    total_valid: int = 0


@dataclass
class System:
    """A system under evaluation: a loaded Rewriter, or the reference, or unavailable + why."""

    name: str
    rewriter: Any = None
    available: bool = True
    reason: str = ""
    model_hash: str = "-"
    engine: str | None = None
    #: What the plan engine rewrites offending clauses with (:func:`rewrite.engines.plan.clause_signature`).
    clauses: str = "-"


@dataclass
class Prediction:
    """One output of one system on one example (a line of ``predictions.jsonl``)."""

    id: str
    bench: str
    system: str
    draft: str
    reference: str
    output: str
    findings_after: list[dict[str, Any]]
    fallback: bool
    ms: float | None
    error: str | None = None
    chrf: float | None = None
