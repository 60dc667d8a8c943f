"""rewrite: turn casual Chinese customer-service drafts into professional replies.

    from rewrite import load_rewriter, check
    load_rewriter("rules").rewrite("这个我不知道，你去营业厅问吧").target
    check("喂，你听不见吗？").findings

Nothing heavy happens at import: backends, torch and the norms load on first use.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rewrite.errors import (
    BackendUnavailableError,
    DataError,
    DraftTooLongError,
    EmptyDraftError,
    InvalidDraftError,
    ModelNotFoundError,
    NormsError,
    RewriteError,
    UnknownBackendError,
)
from rewrite.types import CheckReport, Edit, Finding, RewriteResult

__version__ = "0.1.0"

if TYPE_CHECKING:
    from rewrite.pipeline import Rewriter


def check(text: str, *, channel: str | None = None, critic: bool = True) -> CheckReport:
    """Check ``text`` against the norms in ``prompts/``: every finding with span, rule and fix.

    ``channel`` ("phone"/"chat", optional) also applies the rules meant for one channel only.
    ``critic`` (default on) adds the learned clause critic's findings (``source="model"``) beside
    the rule findings (``source="rule"``); without the model file it says so in ``notes``.
    """
    from rewrite.norms.checker import check as _check

    return _check(text, channel=channel, critic=critic)


def load_rewriter(name: str | None = None, **kwargs: Any) -> "Rewriter":
    """A :class:`~rewrite.pipeline.Rewriter` on the backend registered as ``name``.

    ``name`` defaults to the shipped seq2seq model. Keyword arguments go to the backend (for
    seq2seq: ``model_dir``, ``engine``; for edit: ``model_dir``; for llm: ``endpoint``, ``model``).
    ``guard_fine=False`` sends even a draft in which nothing offends to the engine (by default such
    a draft is only tidied: first, do no harm). ``plan=False`` leaves out the plan engine that
    rewrites, clause by clause, a chunk whose every candidate keeps an offending clause.
    Backends other than rules and identity fall back, chunk by chunk, when their candidates fail
    the checks: to the edit engine (rules rewrite + learned edits) when its model is present, and
    to the plain rules rewrite when that fails as well.
    """
    from rewrite.engines import DEFAULT_BACKEND, get_backend
    from rewrite.pipeline import Rewriter

    name = name or DEFAULT_BACKEND
    guard = kwargs.pop("guard_fine", None)
    plan = kwargs.pop("plan", True)
    backend = get_backend(name, **kwargs)
    if not getattr(backend, "use_fallback", True):
        return Rewriter(backend, None, guard_fine=guard)
    # A model's failed chunks go to the edit engine (the rules rewrite polished by the edit model)
    # when its model is there, and to the plain rules rewrite when that fails too or is missing.
    from rewrite.engines.edit.backend import edit_model_available

    # When every candidate still keeps a clause the critic heard offend, the plan engine rewrites
    # that chunk clause by clause, with the clause generator (or, without one, this seq2seq model).
    if plan and name == "seq2seq":
        from rewrite.engines.seq2seq.backend import clause_generator

        planner = get_backend("plan", generator=clause_generator() or backend)
    else:
        planner = get_backend("plan", generator=None) if plan else None
    # The rules also have the last say on every reply chosen: the clause families marked `after: true`.
    rules = get_backend("rules")
    if name != "edit" and edit_model_available():
        return Rewriter(backend, get_backend("edit"), last_resort=rules, guard_fine=guard, planner=planner, touch_up=rules)
    return Rewriter(backend, rules, guard_fine=guard, planner=planner, touch_up=rules)


__all__ = [
    "check",
    "load_rewriter",
    "CheckReport",
    "Edit",
    "Finding",
    "RewriteResult",
    "RewriteError",
    "InvalidDraftError",
    "EmptyDraftError",
    "DraftTooLongError",
    "NormsError",
    "UnknownBackendError",
    "ModelNotFoundError",
    "BackendUnavailableError",
    "DataError",
]
