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
