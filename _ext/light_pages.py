"""Sphinx extension (listed in _config.yml): chapter pages carry no dead weight.

* **No widget manager where no widget is shown.** myst-nb adds the ipywidgets state, require.js
  and the html-manager (2.8 MB) to every page whose notebook has ``metadata.widgets`` state,
  which Jupyter saves whenever a cell displayed a widget, even when the book removes that cell's
  output (``remove-output``: the chapters show the in-page explorer instead of the kernel one).
  A page whose body holds no widget view (``application/vnd.jupyter.widget-view+json``) gets
  none of the three; a page that still shows a widget keeps them.
* **One shared copy of the explorer runtime.** Each in-page explorer output carries
  ``vaecore/static/vaecore_web.js`` inline (so it works in Jupyter, Colab and a saved .ipynb
  with nothing beside it). In the book, each inline copy is written once to
  ``_static/vaecore/vaecore_web.<sha256[:12]>.js`` and the page loads that file instead: the
  name is the hash of the bytes the notebook holds, so a page always runs exactly the runtime
  its notebook was executed with (never another version of it), and pages of the same version
  share one file. Two forms are recognised:

  - ``<script class="vaecore-runtime" data-sha256="...">RUNTIME</script>`` (vaecore writes this
    since the runtime became shared): the hash is checked against the bytes; on a mismatch the
    copy stays inline and the build warns;
  - older outputs, one ``<script>`` holding the runtime (from its header comment to its closing
    line) and then the ``vaecoreWeb.mount(...)`` call: split into the shared file and the call.

  The first explorer on a page gets the ``<script src>`` in its place (synchronous, before its
  mount call); later ones of the same runtime only their mount call.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sphinx.util import logging

LOG = logging.getLogger(__name__)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
RUNTIME_DIR = "vaecore"  # under _static
# vaecore >= the shared runtime: the marked inline copy
MARKED = re.compile(
    r'<script class="vaecore-runtime" data-sha256="(?P<sha>[0-9a-f]{64})">(?P<js>.*?)</script>\n?', re.S
)
# older outputs: runtime and mount call in one script
LEGACY = re.compile(
    r"<script>(?P<js>/\* vaecore in-page decoder runtime .*?\n"
    r'\}\)\(typeof globalThis !== "undefined" \? globalThis : this\);\n)'
    r'(?P<call>\nvaecoreWeb\.mount(?:Choice)?\(")',
    re.S,
)


def _widget_scripts(app) -> set[str]:
    """The manager's scripts as the page lists them (Sphinx prefixes a local file with _static/)."""
    paths = [str(path) for path in (app.config.nb_ipywidgets_js or {})]
    return {*paths, *(f"_static/{path}" for path in paths if "://" not in path)}


def _drop_widget_manager(app, pagename, templatename, context, doctree):
    """No ipywidgets state, require.js or html-manager on a page that shows no widget."""
    scripts = context.get("script_files")
    if not scripts or WIDGET_VIEW in context.get("body", ""):
        return
    manager = _widget_scripts(app)

    def widget_asset(script) -> bool:
        attributes = getattr(script, "attributes", {}) or {}
        return str(getattr(script, "filename", script)) in manager or attributes.get("type") == WIDGET_STATE

    scripts[:] = [s for s in scripts if not widget_asset(s)]  # in place: Sphinx restores it per page


def runtime_file(js: str) -> str:
    """The shared runtime's path under _static for these exact bytes."""
    return f"{RUNTIME_DIR}/vaecore_web.{hashlib.sha256(js.encode('utf-8')).hexdigest()[:12]}.js"


def share_runtime(body: str, src_of) -> tuple[str, dict[str, str]]:
    """``body`` with every inline runtime replaced; returns it and {path under _static: js}.

    ``src_of(path)`` gives the ``src`` for a file under _static (relative to the page).
    """
    files: dict[str, str] = {}

    def tag(js: str) -> str:
        path = runtime_file(js)
        if path in files:
            return ""  # this page already loads it
        files[path] = js
        return f'<script src="{src_of(path)}"></script>\n'

    def marked(m: re.Match) -> str:
        js = m.group("js")
        if hashlib.sha256(js.encode("utf-8")).hexdigest() != m.group("sha"):
            LOG.warning("an inline vaecore runtime does not match its data-sha256: left inline")
            return m.group(0)
        return tag(js)

    body = MARKED.sub(marked, body)
    body = LEGACY.sub(lambda m: tag(m.group("js")) + "<script>" + m.group("call")[1:], body)
    return body, files


def _current_runtime() -> str:
    path = Path(__file__).resolve().parent.parent / "vaecore" / "static" / "vaecore_web.js"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _share_runtime(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if "vaecoreWeb" not in body:
        return
    pathto = context["pathto"]
    body, files = share_runtime(body, lambda path: pathto(f"_static/{path}", 1))
    context["body"] = body
    current = runtime_file(_current_runtime())
    for path, js in files.items():
        if path != current:  # (information, not a warning: the page runs what its notebook holds)
            LOG.info("%s: its explorers run the runtime %s, not vaecore's current %s (re-execute the "
                     "chapter to update them)", pagename, path, current)
        target = Path(app.outdir) / "_static" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != js:
            target.write_text(js, encoding="utf-8")


def setup(app):
    # after myst-nb adds each notebook's scripts (html-page-context, priority 500)
    app.connect("html-page-context", _drop_widget_manager, priority=600)
    app.connect("html-page-context", _share_runtime, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
