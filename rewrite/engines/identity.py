"""The do-nothing system: returns the draft unchanged. It shows the floor in every report."""
from __future__ import annotations

from typing import Sequence


class IdentityBackend:
    name = "identity"
    use_fallback = False

    def generate(self, chunks: Sequence[str], *, n: int = 1, channel: str = "phone") -> list[list[str]]:
        return [[c] for c in chunks]
