"""Promises the repository makes to readers, checked: README commands, notebooks, URLs."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_setup_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    setup = [
        c
        for c in _readme_commands()
        if c.startswith(("python3 -m venv", ".venv/bin/python -m pytest"))
    ]
    assert len(setup) == 2, "README must give the install+build command and the test command"
    for command in setup:
        assert command in ci, f".ci/run does not run the README command: {command}"


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for nb in NOTEBOOKS:
        assert f"book/{nb.stem}" in toc, f"{nb.name} is not in _toc.yml"


def test_notebooks_install_vaecore_from_the_configured_repository():
    url = re.search(r"^\s*url:\s*(\S+)", (ROOT / "_config.yml").read_text(), flags=re.M).group(1)
    for nb in NOTEBOOKS:
        sources = ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"]]
        # pip install git+URL, or (chapters that run data_scripts/) git clone URL + pip install -e
        installs = [
            line
            for s in sources
            for line in s.splitlines()
            if ("pip install" in line and "git+" in line) or "git clone" in line
        ]
        assert installs, f"{nb.name} has no Colab install cell"
        for line in installs:
            assert f"git+{url}" in line or f"git clone -q --depth 1 {url} " in line, (
                f"{nb.name} installs from a URL other than _config.yml's {url}"
            )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_are_executed_without_errors(nb):
    cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in cells if "".join(c["source"]).strip()), (
        f"{nb.name} has code cells that were not executed"
    )
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{nb.name} has error outputs"
    stdout = "".join(
        "".join(o.get("text", ""))
        for c in cells
        for o in c.get("outputs", [])
        if o.get("name") == "stdout"
    )
    assert "fast mode on" not in stdout, (
        f"{nb.name} was committed from a fast-mode run, not a full one"
    )


def _vaecore_names_used(source: str) -> list[tuple[str, str]]:
    """(module, name) for every ``from vaecore... import name`` and ``module.name`` use of an
    imported vaecore module in a notebook's code (modules the notebook rebinds are skipped)."""
    used, aliases = [], {}
    for match in re.finditer(r"^\s*from (vaecore[\w.]*) import \(?([\w ,\n]+?)\)?\s*(?:#.*)?$", source, re.M):
        for item in match.group(2).split(","):
            parts = item.split()
            if not parts:
                continue
            used.append((match.group(1), parts[0]))
            aliases[parts[-1]] = f"{match.group(1)}.{parts[0]}"
    for match in re.finditer(r"^\s*import (vaecore[\w.]*)(?: as (\w+))?", source, re.M):
        aliases[match.group(2) or "vaecore"] = match.group(1)
    for alias, module in aliases.items():
        if re.search(rf"^\s*{alias}\s*=", source, re.M):
            continue  # rebound in the notebook (e.g. a DataFrame named summary)
        used += [(module, name) for name in re.findall(rf"(?<![\w.]){alias}\.(\w+)", source)]
    return sorted(set(used))


def _resolves(dotted: str) -> bool:
    """Whether ``vaecore.a.b.c`` names something: the longest importable module, then attributes."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_vaecore_name_a_chapter_uses_exists(nb):
    """The committed chapters import vaecore by their first paths (vaecore.web, .widgets, ...);
    every name they use must still be there."""
    source = "\n".join(
        "".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"
    )
    missing = [f"{m}.{n}" for m, n in _vaecore_names_used(source) if not _resolves(f"{m}.{n}")]
    assert not missing, f"{nb.name} uses names vaecore no longer has: {missing}"


def test_name_finder_sees_imports_and_attribute_uses():
    source = (
        "from vaecore import plots, web\nfrom vaecore.data import load_dataset  # note\n"
        "import vaecore\nweb.latent_explorer(m)\nvaecore.train(m)\nplots.x.y\n"
        "summary = 3\nsummary.loc\n"
    )
    assert _vaecore_names_used(source) == [
        ("vaecore", "data"), ("vaecore", "plots"), ("vaecore", "train"), ("vaecore", "web"),
        ("vaecore.data", "load_dataset"), ("vaecore.plots", "x"), ("vaecore.web", "latent_explorer"),
    ]  # fmt: skip
    assert _resolves("vaecore.web.latent_explorer") and _resolves("vaecore.data.load_dataset")
    assert not _resolves("vaecore.web.no_such_explorer")
