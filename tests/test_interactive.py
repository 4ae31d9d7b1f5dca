"""The rotatable plotly 3-D scatter: traces per class, subsampling, errors, lean HTML."""

import numpy as np
import pytest

from vaecore import interactive


def _codes(n=500, latent=4):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, latent)), rng.integers(0, 3, size=n)


def test_one_trace_per_class_with_names():
    z, y = _codes()
    fig = interactive.latent_scatter_3d(z, y, class_names=["zero", "one", "two"], dims=(1, 2, 3))
    assert [t.name for t in fig.data] == ["zero", "one", "two"]
    assert sum(len(t.x) for t in fig.data) == 500
    first = fig.data[0]
    np.testing.assert_allclose(first.x, z[y == 0][:, 1], rtol=1e-6)
    assert fig.layout.scene.zaxis.title.text == "z[3]"


def test_subsamples_to_max_points():
    z, y = _codes(n=5000)
    fig = interactive.latent_scatter_3d(z, y, max_points=1000)
    assert sum(len(t.x) for t in fig.data) == 1000
    # the kept points are distinct codes of the right class, not new or repeated ones
    for value, trace in enumerate(fig.data):
        shown = set(zip(trace.x, trace.y, trace.z, strict=True))  # float32, as the figure holds
        of_class = {tuple(p) for p in z[y == value][:, :3].astype(np.float32)}
        assert len(shown) == len(trace.x) and shown <= of_class


def test_unlabelled_codes_make_one_trace():
    z, _ = _codes(n=50)
    assert len(interactive.latent_scatter_3d(z).data) == 1


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"dims": (0, 1, 1)}, "different"),
        ({"dims": (0, 1, 9)}, "latent_dim=4"),
        ({"labels": [1, 2]}, "2 entries"),
    ],
)
def test_bad_input(kwargs, words):
    z, _ = _codes(n=50)
    with pytest.raises(ValueError, match=words):
        interactive.latent_scatter_3d(z, **kwargs)


def test_html_loads_plotly_from_cdn_not_inline():
    z, y = _codes(n=100)
    html = interactive.to_html(interactive.latent_scatter_3d(z, y)).data
    assert "cdn.plot.ly" in html
    assert len(html) < 200_000  # plotly.js itself (~4 MB) is not inlined


def test_html_draws_with_the_pages_plotly_and_marks_its_cdn_fallback():
    """The book's build strips the marked fallback; the figure then uses _static's plotly.js."""
    import re

    z, y = _codes(n=100)
    html = interactive.to_html(interactive.latent_scatter_3d(z, y), div_id="fig1").data
    assert 'id="fig1"' in html and "if (window.Plotly) draw();" in html
    scripts = re.findall(r"<script[^>]*>.*?</script>", html, flags=re.S)
    assert len(scripts) == 2
    assert "cdn.plot.ly" not in scripts[0]
    assert f'class="{interactive.CDN_SCRIPT_CLASS}"' in scripts[1]
