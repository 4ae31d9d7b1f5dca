"""The package's structure, checked: no import cycle, declared dependencies, lazy loading.

* Every vaecore module imports in a fresh interpreter, and the graph of top-level
  imports between vaecore modules (read from the source, not run) has no cycle.
* Every third-party package vaecore imports is a declared dependency in
  ``pyproject.toml`` (imports inside functions may be an optional extra instead),
  so ``pip install .`` in a fresh environment gives a working ``vaecore``.
* ``import vaecore`` loads only its core; plots, explorers, ipywidgets and plotly
  load when first used, and the lazy names still work as attributes.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vaecore"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {
    _module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts
}


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported (not inside a def or class)."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            todo.extend(node.body)
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module name of a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _all_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, also those inside functions (lazy imports)."""
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


def import_graph(lazy: bool = False) -> dict[str, set[str]]:
    """vaecore module -> the vaecore modules its top-level (``lazy``: all) imports load."""
    graph: dict[str, set[str]] = {}
    pick = _all_imports if lazy else _top_level_imports
    for module, path in MODULES.items():
        edges: set[str] = set()
        for node in pick(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = _resolve(module, node)
                submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
                # names that are not submodules are attributes of ``base``: it must run first
                targets = submodules + ([base] if len(submodules) < len(node.names) else [])
            edges |= {t for t in targets if t in MODULES and t != module}
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_cycle_finder_finds_a_known_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_graph_sees_the_edges_it_should():
    graph = import_graph()
    assert "vaecore.images" in graph["vaecore.callbacks"]  # from vaecore.images import ...
    assert "vaecore.plots.grids" in graph["vaecore.plots"]  # from vaecore.plots.grids import ...
    assert "vaecore.data.images" in graph["vaecore.data.load"]  # from vaecore.data import images
    assert "vaecore.toolbox" not in graph["vaecore.explorers.page"]  # imported inside a function


def test_no_import_cycle_between_vaecore_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_cycle_hidden_by_an_import_inside_a_function():
    """A function-level import that dodges a cycle (callbacks -> plots -> training ->
    callbacks, until the image helpers moved to vaecore.images) counts too."""
    graph = import_graph(lazy=True)
    assert "vaecore.toolbox" in graph["vaecore.explorers.page"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle through a function-level import: " + " -> ".join(cycle)


def test_every_module_imports_in_a_fresh_interpreter():
    names = sorted(m for m in MODULES if m != "vaecore.__main__")
    code = f"import importlib\nfor name in {names!r}:\n    importlib.import_module(name)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]


# --------------------------------------------------------------------------- dependencies


def _requirement_name(requirement: str) -> str:
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def _third_party_imports() -> dict[str, dict[str, bool]]:
    """Top-level package -> {file: imported at module level?} for every non-stdlib import."""
    found: dict[str, dict[str, bool]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in _top_level_imports(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                package = name.split(".")[0]
                if package in sys.stdlib_module_names or package == "vaecore":
                    continue
                where = found.setdefault(package, {})
                where[module] = where.get(module, False) or id(node) in top
    return found


def test_every_third_party_import_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {_requirement_name(r) for r in project["dependencies"]}
    optional = {
        _requirement_name(r) for extra in project.get("optional-dependencies", {}).values() for r in extra
    }
    distributions = packages_distributions()
    problems = []
    for package, where in sorted(_third_party_imports().items()):
        dists = {_requirement_name(d) for d in distributions.get(package, [package])}
        at_import = sorted(m for m, top in where.items() if top)
        if at_import and not dists & required:
            problems.append(f"{package} (imported by {at_import}) is not in [project].dependencies")
        elif not dists & (required | optional):
            problems.append(f"{package} (imported in {sorted(where)}) is not declared at all")
    assert not problems, "\n".join(problems)


def test_dependency_check_catches_an_undeclared_package():
    assert _requirement_name("PyYAML>=6") == "pyyaml"
    assert _requirement_name("scikit_learn[all]>=1") == "scikit-learn"
    imports = _third_party_imports()
    assert imports["pandas"]["vaecore.summary"] is True  # the one that was undeclared
    assert imports["pandas"].get("vaecore.image_stats") is False  # lazy, inside describe
    assert imports["plotly"] == {"vaecore.explorers.scatter3d": False}  # lazy, inside functions


# --------------------------------------------------------------------------- lazy loading


def test_import_vaecore_is_light_and_names_load_on_use():
    code = (
        "import json, sys, vaecore\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('vaecore', 'ipywidgets', 'plotly')))\n"
        "assert callable(vaecore.train) and callable(vaecore.read_history)\n"
        "assert vaecore.data.load_dataset and vaecore.plots.montage and vaecore.build_vae\n"
        "assert vaecore.TrainingDivergedError and vaecore.toolbox.VAEToolbox\n"
        "from vaecore import web, widgets, interactive\n"
        "print(json.dumps([loaded, 'ipywidgets' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded, widgets_after = json.loads(done.stdout.strip().splitlines()[-1])
    for module in ("vaecore.plots", "vaecore.explorers", "vaecore.widgets", "vaecore.summary",
                   "vaecore.toolbox", "vaecore.data", "vaecore.training", "ipywidgets", "plotly"):  # fmt: skip
        assert module not in loaded, f"import vaecore loaded {module}"
    assert widgets_after  # and using vaecore.widgets does load ipywidgets


def test_unknown_attribute_is_an_attribute_error():
    import vaecore

    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        vaecore.nonsense  # noqa: B018


# --------------------------------------------------------------------------- old import paths


@pytest.mark.parametrize(
    ("old", "names"),
    [
        ("vaecore.web", ["AUTO_INT8_BYTES", "MAX_FACES", "PRECISIONS", "WebChoice", "WebExplorer",
                         "attribute_explorer", "compose_code", "decoder_spec", "encoder_spec",
                         "export_network", "from_widget", "latent_explorer", "model_choice",
                         "run_network", "runtime_js"]),
        ("vaecore.widgets", ["AttributeExplorer", "LatentExplorer", "View", "attribute_explorer",
                             "generate_from", "image_to_png", "latent_explorer"]),
        ("vaecore.interactive", ["CDN_SCRIPT_CLASS", "latent_scatter_3d", "to_html"]),
        ("vaecore.plots", ["image_grid", "latent_manifold", "latent_scatter_2d", "latent_scatter_3d",
                           "latent_scatter_3d_views", "manifold_image", "montage", "reconstructions",
                           "training_curves", "MAX_CLASSES", "METRIC_TITLES"]),
        ("vaecore.callbacks", ["save_image", "SampleSnapshots", "EpochTimer", "make_gif"]),
    ],
)  # fmt: skip
def test_old_import_paths_keep_every_public_name(old, names):
    import importlib

    module = importlib.import_module(old)
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{old} lost {missing}"


# --------------------------------------------------------------------------- file sizes

MAX_LINES = 500


def test_long_modules_say_why_in_their_docstring():
    """A module over 500 lines is split by job, or its docstring says why not ("... 500 lines ...")."""
    long = {}
    for module, path in MODULES.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and f"{MAX_LINES} lines" not in doc:
            long[module] = lines
    assert not long, f"split these by job, or give the reason in the docstring: {long}"


def test_the_wheel_holds_every_module_and_the_javascript_runtime(tmp_path):
    """What ``pip install .`` installs: every vaecore module, subpackages included, and the
    in-page runtime (package data), with the declared dependencies as its requirements."""
    import shutil
    import zipfile

    pytest.importorskip("setuptools")
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "vaecore", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "wheel"), str(src)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp_path / "wheel").glob("vaecore-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for p in MODULES.values()} | {"vaecore/static/vaecore_web.js"}
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    metadata = next(n for n in names if n.endswith("METADATA"))
    requires = [
        _requirement_name(line.split(":", 1)[1])
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert "pandas" in requires and "tensorflow" in requires
