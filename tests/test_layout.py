"""The package layout keeps its promises: no import cycle between modules, and the norms and the
engines never reach into serving or evaluation (issue: one room per concern)."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "rewrite"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """module -> the rewrite modules it imports (at any depth of the file, late imports included)."""
    mods = {_module_name(p): p for p in PKG.rglob("*.py") if "shipped" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str] = set()
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join(pkg + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t.startswith("rewrite") and t != name and t != "rewrite":
                    deps.add(t)
        graph[name] = deps
    return graph


def test_no_import_cycle():
    graph = _imports()
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if seen.get(d) == 1:
                cycle = stack[stack.index(d):] + [d]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if d not in seen:
                visit(d)
        stack.pop()
        seen[m] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m)


def test_norms_and_engines_never_import_serving_or_evaluation():
    bad = [(m, d) for m, deps in _imports().items() if m.startswith(("rewrite.norms", "rewrite.engines"))
           for d in deps if d.startswith(("rewrite.serve", "rewrite.evaluation"))]
    assert not bad, bad


def test_the_cycle_check_sees_a_cycle(tmp_path, monkeypatch):
    """The checker itself can fail: two modules importing each other are reported."""
    pkg = tmp_path / "rewrite"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from rewrite import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    monkeypatch.setattr(__import__(__name__), "PKG", pkg)
    try:
        test_no_import_cycle()
    except AssertionError as e:
        assert "rewrite.a" in str(e) and "rewrite.b" in str(e)
    else:
        raise AssertionError("cycle not detected")
