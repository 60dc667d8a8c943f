"""Shared fixtures. Keep this small: tests stay offline and fast."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"


@pytest.fixture(scope="session", autouse=True)
def _results_outside_the_tree(tmp_path_factory: pytest.TempPathFactory):
    """The app's evaluator writes its runs (folders, zips) under a temporary folder, also from
    servers the tests start as subprocesses: a test run leaves no ``eval/results/app-*`` behind."""
    import os

    old = os.environ.get("REWRITE_RESULTS_DIR")
    os.environ["REWRITE_RESULTS_DIR"] = str(tmp_path_factory.mktemp("results"))
    yield
    if old is None:
        os.environ.pop("REWRITE_RESULTS_DIR", None)
    else:
        os.environ["REWRITE_RESULTS_DIR"] = old


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


@pytest.fixture(scope="session")
def default_build(tmp_path_factory: pytest.TempPathFactory):
    """One full ``rewrite data build`` with the default settings, shared by every test that needs a
    built set (the committed card is compared with its card; the data tests read its rows and
    files). One build instead of two took the suite's two slowest setups down to one (~2 minutes)."""
    from rewrite.data.build import BuildConfig, run_build

    root = tmp_path_factory.mktemp("default-build")
    return run_build(BuildConfig(out=root / "build", card=root / "CARD.md", progress=False))
