"""pytest set-up shared by the unit tests and the nbmake notebook runs.

Notebooks run by nbmake (``pytest --nbmake book``) inherit this process's
environment, so here they are switched to the fast mode and pointed at the
book's offline data folder, ``../shared/data``, when it exists. Variables a
reader already set are left alone.
"""

import os
import tempfile
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"

os.environ.setdefault("VAECORE_FAST", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if SHARED_DATA.is_dir():
    os.environ.setdefault("VAECORE_DATA_DIR", str(SHARED_DATA))
# Fast-mode training runs write their checkpoints to a fresh folder, so a test run
# never resumes (and skips) a run left by an earlier one.
os.environ.setdefault("VAECORE_RUNS_DIR", tempfile.mkdtemp(prefix="vaecore-runs-"))


def _datasets_used(notebook: Path) -> set[str]:
    """Names passed to ``load_dataset("...")`` anywhere in a notebook's code."""
    import json
    import re

    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return set(re.findall(r"load_dataset\(\s*[\"'](\w+)[\"']", code))


# A reader's own images (load_dataset("folder" | "paths" | "csv", path=...)): the
# notebook makes or names the files itself, so there is nothing to look up here; nor
# for a dataset vaecore generates (dsprites, which takes no download=).
_USER_SOURCES = {"folder", "paths", "csv", "dsprites"}


def _locally_available(name: str) -> bool:
    from vaecore.data import DatasetNotFoundError, load_dataset

    if name in _USER_SOURCES:
        return True
    try:
        load_dataset(name, batch_size=None, limit=1, download=False)
    except DatasetNotFoundError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    """Skip a chapter whose data is not on this machine, instead of failing offline.

    The unit tests make their own fixture data; the chapters need the real datasets.
    With ``../shared/data`` beside the repository (or ``VAECORE_DATA_DIR`` / the cache
    holding the files) every chapter runs. ``VAECORE_NOTEBOOK_DOWNLOADS=1`` runs them
    anyway, letting the loaders download.
    """
    import pytest

    if os.environ.get("VAECORE_NOTEBOOK_DOWNLOADS") == "1":
        return
    cache: dict[str, bool] = {}
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix != ".ipynb":
            continue
        missing = []
        for name in sorted(_datasets_used(path)):
            if name not in cache:
                cache[name] = _locally_available(name)
            if not cache[name]:
                missing.append(name)
        if missing:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"dataset(s) {missing} not found locally; set VAECORE_DATA_DIR "
                    "(e.g. to ../shared/data) or VAECORE_NOTEBOOK_DOWNLOADS=1 to download"
                )
            )
