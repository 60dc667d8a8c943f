"""Alias kept so that ``python -m rewrite.bench_api`` still works: the bench lives in
:mod:`rewrite.evaluation.bench_api`."""
from rewrite.evaluation.bench_api import *  # noqa: F401,F403
from rewrite.evaluation.bench_api import main

if __name__ == "__main__":
    raise SystemExit(main())
