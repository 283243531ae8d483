"""The package's structure, read from its source with ast: every shared concern has one neutral
home, no backend borrows from its sibling, and no module uses another module's private names."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hwgen"
# Sibling backends: a module of the package imports none of them but itself.
BACKENDS = {"hwgen.codegen": ("hwgen.codegen.rtl", "hwgen.codegen.hls"),
            "hwgen.sim": ("hwgen.sim.rtl_run", "hwgen.sim.hls_run")}


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict:
    """Return {module name: ast tree} of every module of the hwgen package."""
    return {_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _is_module(name: str) -> bool:
    return name in _modules()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _imports(tree) -> list:
    """Return (module, name or None, line) of every import in tree, functions' included."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out += [(node.module, a.name, node.lineno) for a in node.names]
    return out


def _imported_modules(tree) -> set:
    """Return every module tree imports: `from M import N` imports M, and M.N when a module."""
    found = set()
    for module, name, _ in _imports(tree):
        found.add(module)
        if name is not None and _is_module(f"{module}.{name}"):
            found.add(f"{module}.{name}")
    return found


def _module_names(tree) -> dict:
    """Return {local name: hwgen module} of the names tree binds to hwgen modules."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("hwgen"):
                    bound[a.asname or "hwgen"] = a.name if a.asname else "hwgen"
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if _is_module(f"{node.module}.{a.name}"):
                    bound[a.asname or a.name] = f"{node.module}.{a.name}"
    return bound


def _resolve(node, bound: dict) -> str | None:
    """Return the hwgen module an expression such as `hwgen.sim.tools` or `tools` names, or None."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, bound)
        if base is not None and _is_module(f"{base}.{node.attr}"):
            return f"{base}.{node.attr}"
    return None


def private_uses(module: str, tree) -> list:
    """Return "line: module.name" of each private name of another hwgen module that tree uses."""
    found = [f"{line}: {m}.{n}" for m, n, line in _imports(tree)
             if m.startswith("hwgen") and m != module and n is not None and _private(n)]
    bound = _module_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = _resolve(node.value, bound)
            if owner is not None and owner != module:
                found.append(f"{node.lineno}: {owner}.{node.attr}")
    return found


def _defined(tree) -> set:
    """Return the names a module's top level defines (functions, classes, assignments)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def reexports(module: str, tree) -> set:
    """Return (module, imported module, name) of each name tree imports from an hwgen module that
    does not define it (it imported it from the name's home)."""
    found = set()
    for m, n, _ in _imports(tree):
        if n is None or not _is_module(m) or _is_module(f"{m}.{n}"):
            continue
        if n not in _defined(_modules()[m]):
            found.add((module, m, n))
    return found


def test_no_private_name_crosses_modules():
    found = [f"{m}:{use}" for m, tree in _modules().items()
             for use in private_uses(m, tree)]
    assert found == []


@pytest.mark.parametrize("folder", ["tests", "rtl_tests"])
def test_tests_use_no_private_name(folder):
    found = [f"{p.relative_to(ROOT)}:{use}" for p in sorted((ROOT / folder).glob("*.py"))
             for use in private_uses("", ast.parse(p.read_text()))]
    assert found == []


def test_names_imported_from_their_home():
    found = set().union(*(reexports(m, tree) for m, tree in _modules().items()))
    assert found == set()


@pytest.mark.parametrize("package", sorted(BACKENDS))
def test_no_backend_imports_its_sibling(package):
    found = []
    for module, tree in _modules().items():
        if module.startswith(package + "."):
            others = set(BACKENDS[package]) - {module}
            found += [f"{module} imports {m}" for m in sorted(_imported_modules(tree) & others)]
    assert found == []


def _imports_from(module: str, prefix: str) -> list:
    return sorted(m for m in _imported_modules(_modules()[module])
                  if m == prefix or m.startswith(prefix + "."))


@pytest.mark.parametrize("module", ["hwgen.sim.rtl_run", "hwgen.sim.hls_run"])
def test_simulators_take_codes_not_graphs(module):
    assert _imports_from(module, "hwgen.onnx") == []


def test_passes_import_no_simulator():
    found = [f"{m} imports {i}" for m in _modules() if m.startswith("hwgen.passes.")
             for i in _imports_from(m, "hwgen.sim")]
    assert found == []


def test_checks_see_violations():
    """The checks find what they look for (a check that finds nothing proves nothing)."""
    tree = ast.parse("from hwgen.sim.tools import _environ\nimport hwgen.sim.tools as t\n"
                     "from hwgen.sim import tools\nimport hwgen\n"
                     "t._tail; tools._tail; hwgen.sim.tools._tail; tools.log_tail\n"
                     "from hwgen.sim.rtl_run import load_design\n")
    assert private_uses("hwgen.x", tree) == ["1: hwgen.sim.tools._environ",
                                             "5: hwgen.sim.tools._tail",
                                             "5: hwgen.sim.tools._tail",
                                             "5: hwgen.sim.tools._tail"]
    assert private_uses("hwgen.sim.tools", tree) == []
    assert _imported_modules(tree) >= {"hwgen.sim", "hwgen.sim.tools", "hwgen.sim.rtl_run"}
