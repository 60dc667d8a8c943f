"""Shared fixtures. Keep this small: tests stay offline and fast."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"


@pytest.fixture
def repo_root() -> Path:
    """The repository checkout the tests run from."""
    return REPO


@pytest.fixture
def prompts_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of ``prompts/`` that ``REWRITE_PROMPTS_DIR`` points at, for tests that edit norms."""
    dst = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    monkeypatch.setenv("REWRITE_PROMPTS_DIR", str(dst))
    return dst


def load_checker_cases() -> list[dict]:
    """The labelled checker case table (tests/cases/checker_cases.yaml)."""
    import yaml

    with open(CASES / "checker_cases.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)["cases"]
