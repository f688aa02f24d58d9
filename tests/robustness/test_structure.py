"""The shape of the code: no import cycles, the engine never imports Streamlit, pages hold layout and words."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("vae_core", "dashboard")
MAX_PAGE_LINES = 130  # the aim is ~120; helpers longer than a few lines belong in components/ or vae_core


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every project module `path` imports at run time, at any depth of the file (deferred imports count too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: never imported at run time
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "app_pages" not in p.parts]
    modules = {_module_name(p): p for p in files}
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles between modules (a package importing its own submodules does not count)."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return [c for c in cycles if not all(m.startswith(c[0]) or c[0].startswith(m) for m in c)]


def test_no_import_cycles():
    assert find_cycles(_graph()) == []


def test_a_planted_cycle_is_found():
    graph = {"vae_core.a": {"vae_core.b"}, "vae_core.b": {"vae_core.c"}, "vae_core.c": {"vae_core.a"},
             "vae_core.sweep": {"vae_core.sweep.space"}, "vae_core.sweep.space": {"vae_core.sweep"}}
    assert find_cycles(graph) == [["vae_core.a", "vae_core.b", "vae_core.c", "vae_core.a"]]


def test_the_engine_never_imports_streamlit():
    for path in (ROOT / "vae_core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] == "streamlit" for n in names), path


def test_pages_hold_layout_and_words():
    for page in (ROOT / "dashboard" / "app_pages").glob("*.py"):
        lines = len(page.read_text().splitlines())
        assert lines <= MAX_PAGE_LINES, f"{page.name} has {lines} lines"
