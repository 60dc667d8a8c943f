"""Loading the norms from ``prompts/`` (editable YAML/Markdown), validated, with a content hash.

``REWRITE_PROMPTS_DIR`` points at another copy (a trainer's edited norms); otherwise the repo's
``prompts/`` is used when running from a checkout, and the copy shipped in the package otherwise.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import NormsError

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
