"""Alias kept so that ``python -m rewrite.bench_speed`` still works: the bench lives in
:mod:`rewrite.evaluation.bench_speed`."""
from rewrite.evaluation.bench_speed import *  # noqa: F401,F403
from rewrite.evaluation.bench_speed import main

if __name__ == "__main__":
    raise SystemExit(main())
