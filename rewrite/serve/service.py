"""What the app and the HTTP API share: cached rewriters by backend name and JSON-ready answers.

Rewriters are created on first use (never at import) and kept per (backend, options) so the model
loads once per process. Thread-safe: the app and the API serve requests from a thread pool.
"""
from __future__ import annotations

import threading
from typing import Any

from rewrite.errors import RewriteError
from rewrite.pipeline import CHANNELS, Rewriter

_lock = threading.Lock()
_cache: dict[str, Rewriter] = {}
_run_locks: dict[str, threading.Lock] = {}

#: Backends the app offers, in the order shown.
APP_BACKENDS = ("seq2seq", "edit", "rules", "llm")
MAX_ALTERNATIVES = 3


def get_rewriter(name: str) -> Rewriter:
    """The process-wide Rewriter for backend ``name`` (loaded once)."""
    from rewrite import load_rewriter

    with _lock:
        if name not in _cache:
            _cache[name] = load_rewriter(name)
            _run_locks[name] = threading.Lock()
        return _cache[name]


def rewrite_one(draft: str, *, backend: str = "seq2seq", channel: str = "phone", n: int = 1) -> dict[str, Any]:
    """Rewrite ``draft`` and return the JSON answer of ``POST /api/rewrite``.

    Raises :class:`~rewrite.errors.RewriteError` subclasses for bad input or an unusable backend.
    """
    if channel not in CHANNELS:
        from rewrite.errors import InvalidDraftError

        raise InvalidDraftError(f"未知渠道 {channel!r}，可选：{'、'.join(CHANNELS)}。")
    if backend not in APP_BACKENDS:  # what /api/health lists is what the service answers
        from rewrite.errors import UnknownBackendError

        raise UnknownBackendError(f"服务不提供引擎 {backend!r}，可选：{', '.join(APP_BACKENDS)}。")
    n = max(1, min(int(n), MAX_ALTERNATIVES + 1))
    rw = get_rewriter(backend)
    # One generation at a time per backend: the model runs on one thread, and queuing is faster than
    # oversubscribing two cores.
    with _run_locks[backend]:
        res = rw.rewrite(draft, n=n, channel=channel)
    out = res.to_dict()
    out["rewrite"] = res.target
    return out


def check_one(text: str, channel: str | None = None) -> dict[str, Any]:
    """The JSON answer of ``POST /api/check`` (``channel`` also applies that channel's rules)."""
    from rewrite.norms.checker import check
    from rewrite.errors import InvalidDraftError
    from rewrite.text import validate_draft

    if channel is not None and channel not in CHANNELS:
        raise InvalidDraftError(f"未知渠道 {channel!r}，可选：{'、'.join(CHANNELS)}。")
    clean = validate_draft(text)
    return check(clean, channel=channel, critic=True).to_dict()


__all__ = ["APP_BACKENDS", "get_rewriter", "rewrite_one", "check_one", "RewriteError"]
