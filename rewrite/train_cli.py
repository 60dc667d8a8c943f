"""The command-line shape every ``rewrite train-*`` shares: typed argument dataclasses parsed by
``HfArgumentParser`` (flags, or one JSON file with the same keys), logging, library errors turned
into a message and exit code 2, and the results printed as JSON."""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Callable

from rewrite.errors import RewriteError


def parse_dataclass(cls: type, prog: str, description: str, argv: list[str] | None) -> Any:
    """An instance of the arguments dataclass ``cls`` from ``argv`` (one ``.json`` path, or flags)."""
    from transformers import HfArgumentParser

    parser = HfArgumentParser(cls, prog=prog, description=description)
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and argv[0].endswith(".json"):
        return parser.parse_json_file(os.path.abspath(argv[0]))[0]
    return parser.parse_args_into_dataclasses(args=argv, look_for_args_file=False)[0]


def run_training(parse: Callable[[list[str] | None], Any], train: Callable[[Any], dict], argv: list[str] | None) -> int:
    """Parse, train, print the results: 0 ok, 2 a library error (message on stderr)."""
    try:
        args = parse(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        results = train(args)
    except RewriteError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0
