"""The package's layout: no import cycles between its modules, one version, the type marker shipped."""

import ast
import inspect
import pathlib
import re
import sys

import pytest

import iq1kernels
from iq1kernels import _version

PACKAGE = pathlib.Path(iq1kernels.__file__).resolve().parent
ROOT = PACKAGE.parent


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def module_level_imports(name: str) -> set:
    """The package's modules that `name` imports when it is imported (not inside functions or classes)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
            for field in ("body", "orelse", "finalbody", "handlers"):  # if / try at module level
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    visit(inner)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    # importing a submodule runs its package's __init__ first; that edge is not a cycle of ours
    return {m for m in found if m in MODULES and m != name and not name.startswith(m + ".") and m != "iq1kernels"}


def test_module_imports_have_no_cycle():
    graph = {name: module_level_imports(name) for name in MODULES}
    done, path = set(), []

    def walk(node):
        if node in path:
            cycle = path[path.index(node) :] + [node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph[node]):
            walk(nxt)
        path.pop()
        done.add(node)

    for name in sorted(graph):
        walk(name)
    # QuantizedMatrix runs the kernels itself: no import of ops in tensor.py, not even one inside a function
    tree = ast.parse(MODULES["iq1kernels.tensor"].read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "ops" not in imported and "iq1kernels.ops" not in imported


def test_the_import_scan_sees_module_level_imports():
    """The scan above does see the imports that run at import time (so its silence means something)."""
    assert "iq1kernels.tensor" in module_level_imports("iq1kernels.ops")
    assert "iq1kernels._kernels" in module_level_imports("iq1kernels.tensor")


def test_version_is_pyprojects():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        want = tomllib.loads(pyproject)["project"]["version"]
    else:
        want = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1)
    assert iq1kernels.__version__ == want == _version.from_pyproject(ROOT / "pyproject.toml")


def test_version_from_pyproject_needs_this_projects_table(tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text('[tool.other]\nversion = "9"\n[project]\nname = "iq1kernels"\nversion = "1.2.3"\n[tool.x]\n')
    assert _version.from_pyproject(p) == "1.2.3"
    p.write_text('[project]\nname = "something-else"\nversion = "1.2.3"\n')
    assert _version.from_pyproject(p) is None
    p.write_text('[project]\nname = "iq1kernels"\n[tool.x]\nversion = "4"\n')  # a version outside [project]
    assert _version.from_pyproject(p) is None
    assert _version.from_pyproject(tmp_path / "missing.toml") is None


def test_installed_version_from_metadata(tmp_path, monkeypatch):
    """Without a pyproject.toml beside the package (an installed wheel) the distribution's metadata decides."""
    package_dir = tmp_path / "iq1kernels"
    package_dir.mkdir()
    monkeypatch.setattr(_version.metadata, "version", lambda dist: "7.8.9" if dist == "iq1kernels" else None)
    assert _version.find_version(package_dir) == "7.8.9"

    def not_installed(dist):
        raise _version.metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(_version.metadata, "version", not_installed)
    assert _version.find_version(package_dir) == _version.UNKNOWN


def test_py_typed_is_shipped():
    assert (PACKAGE / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    package_data = re.search(r"^\[tool\.setuptools\.package-data\]\s*\n(.*?)(?=^\[|\Z)", pyproject, re.M | re.S)
    assert package_data and '"py.typed"' in package_data.group(1)


def public_callables():
    import iq1kernels.torch as iq1t

    for module in (iq1kernels, iq1t):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr not in ("__init__", "__matmul__"):
                        continue
                    member = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                    if isinstance(member, property):
                        member = member.fget
                    if inspect.isfunction(member):
                        yield f"{module.__name__}.{name}.{attr}", member
            elif inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj


def test_public_api_is_annotated():
    pytest.importorskip("torch")
    missing = []
    for qualname, fn in public_callables():
        sig = inspect.signature(fn)
        for p in sig.parameters.values():
            if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty:
                missing.append(f"{qualname}({p.name})")
        if sig.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
            missing.append(f"{qualname} -> ?")
    assert not missing, "unannotated: " + ", ".join(missing)
