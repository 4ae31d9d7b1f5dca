"""Rotatable 3-D latent scatters (plotly): an explorer that needs no kernel and no runtime of ours.

matplotlib's 3-D axes rotate only with a live kernel and ``ipympl``; the book's
HTML pages have neither. A plotly figure is HTML and JavaScript, so the reader
can drag it to rotate in the rendered book, in Jupyter and in Colab.

:func:`latent_scatter_3d` builds the figure (one trace per class, so the legend
toggles classes); :func:`to_html` displays it without inlining plotly.js (which
would add about 4.6 MB per figure):

* in the rendered book, every page that holds a figure loads plotly.js from the
  book's own ``_static`` (the build copies it from the installed ``plotly`` package,
  ``_ext/offline_assets.py``), so the figure draws offline; the build also removes
  the output's fallback script below, so no page refers to a CDN;
* in Jupyter and Colab, which have no page-level plotly.js, that fallback script
  (``class="vaecore-plotly-cdn"``) loads the matching plotly.js once from its CDN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaecore._shared import class_name

__all__ = ["CDN_SCRIPT_CLASS", "latent_scatter_3d", "to_html"]


def latent_scatter_3d(
    z: Any,
    labels: Any = None,
    class_names: Sequence[str] | Mapping | None = None,
    dims: tuple[int, int, int] = (0, 1, 2),
    max_points: int = 3000,
    seed: int = 0,
    title: str = "Latent space (drag to rotate)",
    marker_size: float = 2.5,
) -> Any:
    """A rotatable 3-D scatter of latent codes, coloured by label.

    Args:
        z: ``(n, latent_dim)`` codes, e.g. the test set's posterior means.
        labels: ``(n,)`` class labels (or None).
        class_names: names for the label values (a sequence indexed by label, or a dict).
        dims: the three latent dimensions to show.
        max_points: at most this many points, drawn at random with ``seed``: a
            plotly figure carries every point as text, and a few thousand show
            the structure as well as ten thousand.
        title: figure title.
        marker_size: point size in pixels.

    Returns:
        A ``plotly.graph_objects.Figure``; show it with :func:`to_html` (or ``fig.show()``).
    """
    import plotly.graph_objects as go

    codes = np.asarray(z, dtype=np.float32)
    if codes.ndim != 2:
        raise ValueError(f"z must be (n, latent_dim), got shape {codes.shape}")
    if len(set(dims)) != 3 or any(not 0 <= d < codes.shape[1] for d in dims):
        raise ValueError(
            f"dims {tuple(dims)} must be 3 different indices below latent_dim={codes.shape[1]}"
        )
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(codes):
            raise ValueError(f"labels has {len(labels)} entries but z has {len(codes)} codes")
    keep = np.arange(len(codes))
    if len(codes) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(codes), max_points, replace=False))
    codes = codes[keep][:, list(dims)]
    labels = None if labels is None else labels[keep]

    fig = go.Figure()
    groups = (
        [(None, np.ones(len(codes), bool))]
        if labels is None
        else [(v, labels == v) for v in np.unique(labels)]
    )
    for value, mask in groups:
        fig.add_trace(
            go.Scatter3d(
                x=codes[mask, 0],
                y=codes[mask, 1],
                z=codes[mask, 2],
                mode="markers",
                marker={"size": marker_size, "opacity": 0.7},
                name="codes" if value is None else class_name(value, class_names),
            )
        )
    fig.update_layout(
        title=title,
        scene={
            "xaxis_title": f"z[{dims[0]}]",
            "yaxis_title": f"z[{dims[1]}]",
            "zaxis_title": f"z[{dims[2]}]",
        },
        legend={"itemsizing": "constant", "title": {"text": "label"}},
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        height=520,
    )
    return fig


CDN_SCRIPT_CLASS = "vaecore-plotly-cdn"  # the book's build removes scripts with this class


def to_html(fig: Any, div_id: str | None = None) -> Any:
    """Display ``fig`` as HTML that draws with the page's plotly.js (see the module notes).

    The figure waits for ``window.Plotly``: present at once in the rendered book
    (loaded from ``_static``), loaded from the plotly CDN by the fallback script in
    Jupyter and Colab.
    """
    import uuid

    from IPython.display import HTML
    from plotly.offline import get_plotlyjs_version

    div_id = div_id or "vaecore-plotly-" + uuid.uuid4().hex[:12]
    payload = fig.to_json().replace("</", "<\\/")
    height = fig.layout.height or 520
    draw = (
        f'<div id="{div_id}" class="plotly-graph-div vaecore-plotly" '
        f'style="height:{height}px; width:100%;"></div>\n'
        "<script>(function () {\n"
        f"  var fig = {payload};\n"
        f'  function draw() {{ Plotly.newPlot("{div_id}", fig.data, fig.layout, '
        "{responsive: true}); }\n"
        "  if (window.Plotly) draw();\n"
        "  else (window.vaecorePlotlyQueue = window.vaecorePlotlyQueue || []).push(draw);\n"
        "})();</script>\n"
    )
    fallback = (
        f'<script class="{CDN_SCRIPT_CLASS}">(function () {{\n'
        "  if (window.Plotly || window.vaecorePlotlyLoading) return;\n"
        "  window.vaecorePlotlyLoading = true;\n"
        '  var s = document.createElement("script");\n'
        f'  s.src = "https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js";\n'
        "  s.onload = function () { (window.vaecorePlotlyQueue || []).forEach(function (f) { f(); }); };\n"
        "  document.head.appendChild(s);\n"
        "})();</script>"
    )
    return HTML(draw + fallback)
