"""Backends by name, imported late so `rewrite --help`, the checker and the rules backend never
import torch or gradio."""
from __future__ import annotations

import importlib
from typing import Any, Protocol, Sequence

from rewrite.errors import UnknownBackendError


class Backend(Protocol):
    """What a backend implements. ``generate`` gets masked chunks and returns, per chunk, up to
    ``n`` candidate rewrites (still masked), best first."""

    name: str
    #: Whether failed candidates fall back to the rules backend (False for rules and identity).
    use_fallback: bool

    def generate(self, chunks: Sequence[str], *, n: int, channel: str) -> list[list[str]]: ...


#: name -> "module:factory". The factory takes keyword arguments and returns a Backend.
REGISTRY: dict[str, str] = {
    "seq2seq": "rewrite.engines.seq2seq.backend:Seq2SeqBackend",
    "edit": "rewrite.engines.edit.backend:EditBackend",
    "rules": "rewrite.engines.rules:RulesBackend",
    "identity": "rewrite.engines.identity:IdentityBackend",
    "llm": "rewrite.engines.llm:LLMBackend",
    "plan": "rewrite.engines.plan:PlanBackend",
}

DEFAULT_BACKEND = "seq2seq"


def backend_names() -> list[str]:
    return list(REGISTRY)


def get_backend(name: str, **kwargs: Any):
    """Instantiate the backend registered as ``name``; unknown names list the valid ones."""
    if name not in REGISTRY:
        raise UnknownBackendError(f"未知的改写引擎 {name!r}，可选：{', '.join(REGISTRY)}。")
    module, _, attr = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attr)(**kwargs)
