"""Sphinx extension (listed in _config.yml): the built book loads nothing from the network.

* plotly.js: loaded (in the page head, before the figures' inline scripts) only on pages
  that hold a plotly figure, and there the smallest bundle that draws it: the vendored
  partial bundle ``plotly.js-gl3d-dist-min`` (1.75 MB: scatter, scatter3d, surface, mesh3d,
  cone, streamtube, isosurface, volume; ``_static_offline/``) when every trace on the page is
  one of those and its plotly.js version is the installed ``plotly`` package's, else the full
  ``plotly.min.js`` (4.8 MB) copied from that package into ``_static/vendor/plotly/``. A figure
  whose traces cannot be read gets the full bundle. The figures' CDN
  fallback scripts, meant for Jupyter and Colab (``vaecore.interactive.to_html``),
  and plotly's own ``include_plotlyjs="cdn"`` tags are removed from those pages.
* MathJax and the ipywidgets manager come from ``_static_offline`` (see its README), set in
  ``_config.yml`` (the manager only on pages that show a widget: ``light_pages.py``); here the
  build checks that no page ends up with a ``<script>``/``<link>``/``<img>`` pointing at http(s).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

PLOTLY_JS = "vendor/plotly/plotly.min.js"
PLOTLY_GL3D_DIR = "plotly.js-gl3d-dist-min-4.1.1"  # in _static_offline, with its licence
PLOTLY_GL3D_JS = f"{PLOTLY_GL3D_DIR}/plotly-gl3d.min.js"
GL3D_TRACES = {"scatter", "scatter3d", "surface", "mesh3d", "cone", "streamtube", "isosurface", "volume"}
# the figure as vaecore.explorers.scatter3d.to_html writes it, or plotly's own to_html
VAECORE_FIG = re.compile(r"var fig = (\{.*?\});\n  function draw\(\)", flags=re.DOTALL)
PLOTLY_FIG = re.compile(r'Plotly\.newPlot\(\s*"[^"]*",\s*(\[.*?\]),\s*\{', flags=re.DOTALL)
WIDGET_FONTS = "@jupyter-widgets/html-manager/dist"
CDN_FALLBACK = re.compile(r'<script class="vaecore-plotly-cdn">.*?</script>', flags=re.DOTALL)
# what plotly's own fig.to_html(include_plotlyjs="cdn") writes: served locally instead
PLOTLY_CDN_TAG = re.compile(r'<script[^>]*src="https://cdn\.plot\.ly/[^"]*"[^>]*>\s*</script>')
REMOTE_ASSET = re.compile(
    r'<(?:script|img|link|source|iframe)\b[^>]*\b(?:src|href)="https?://[^"]*"', flags=re.I
)


def trace_types(body: str) -> set[str] | None:
    """Every trace type of the plotly figures in ``body``; None if a figure cannot be read."""
    import json

    figures = body.count('class="plotly-graph-div')
    types: set[str] = set()
    found = 0
    for match in VAECORE_FIG.finditer(body):
        try:
            data = json.loads(match.group(1).replace("<\\/", "</")).get("data", [])
        except ValueError:
            return None
        types |= {trace.get("type", "scatter") for trace in data}
        found += 1
    for match in PLOTLY_FIG.finditer(body):
        try:
            data = json.loads(match.group(1))
        except ValueError:
            return None
        types |= {trace.get("type", "scatter") for trace in data}
        found += 1
    return types if found >= figures else None


def plotly_bundle(body: str) -> str:
    """The plotly.js file under _static that draws every figure in ``body``."""
    from plotly.offline import get_plotlyjs_version

    partial = Path(__file__).resolve().parent.parent / "_static_offline" / PLOTLY_GL3D_JS
    types = trace_types(body)
    same_version = PLOTLY_GL3D_DIR.endswith("-" + get_plotlyjs_version())
    if types is not None and types <= GL3D_TRACES and same_version and partial.is_file():
        return PLOTLY_GL3D_JS
    return PLOTLY_JS


def _page_context(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if "vaecore-plotly" in body or "plotly-graph-div" in body:
        app.add_js_file(plotly_bundle(body), priority=100)
        context["body"] = PLOTLY_CDN_TAG.sub("", CDN_FALLBACK.sub("", body))


def _copy_assets(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = Path(app.outdir) / "_static" / PLOTLY_JS
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    # The widget manager's icon fonts are requested relative to the page
    # (@jupyter-widgets/html-manager/dist/ beside book/*.html): put a copy there.
    fonts = Path(app.srcdir) / "_static_offline" / WIDGET_FONTS
    if fonts.is_dir():
        for folder in {Path(name).parent for name in app.env.found_docs}:
            dest = Path(app.outdir) / folder / WIDGET_FONTS
            dest.mkdir(parents=True, exist_ok=True)
            for font in fonts.glob("*.woff*"):
                shutil.copyfile(font, dest / font.name)


def _check_remote(app, pagename, templatename, context, doctree):
    """Warn (an error under -W) when a page's own assets point at the network."""
    for key in ("script_files", "css_files"):
        for asset in context.get(key, []):
            name = str(getattr(asset, "filename", asset))
            if name.startswith(("http://", "https://", "//")):
                from sphinx.util import logging

                logging.getLogger(__name__).warning(
                    "page %s loads %s from the network; vendor it in _static", pagename, name
                )
    match = REMOTE_ASSET.search(context.get("body", ""))
    if match:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "page %s: an output points at the network: %s", pagename, match.group(0)[:200]
        )


def setup(app):
    app.connect("html-page-context", _page_context)
    app.connect("html-page-context", _check_remote, priority=900)
    app.connect("build-finished", _copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
