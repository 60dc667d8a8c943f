"""Backends by name, imported late so `rewrite --help`, the checker and the rules backend never
import torch or gradio."""
from __future__ import annotations

import importlib
from typing import Any

from ..errors import UnknownBackendError

#: name -> "module:factory". The factory takes keyword arguments and returns a Backend.
REGISTRY: dict[str, str] = {
    "seq2seq": "rewrite.backends.seq2seq:Seq2SeqBackend",
    "edit": "rewrite.backends.edit:EditBackend",
    "rules": "rewrite.backends.rules:RulesBackend",
    "identity": "rewrite.backends.identity:IdentityBackend",
    "llm": "rewrite.backends.llm:LLMBackend",
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
