"""Evaluation: the harness (:mod:`.harness`, ``rewrite eval``), metrics, the report, and the speed
and HTTP-load benches. Engines never import from here; the benches call the engines."""
