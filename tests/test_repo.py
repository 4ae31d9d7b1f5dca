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
        installs = [
            line
            for s in sources
            for line in s.splitlines()
            if "pip install" in line and "git+" in line
        ]
        assert installs, f"{nb.name} has no Colab install cell"
        for line in installs:
            assert f"git+{url}" in line, (
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
