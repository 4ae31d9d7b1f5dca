"""vaecore.web (vaecore.export + vaecore.explorers.page*): exported decoders match Keras, in NumPy and in the JavaScript runtime (node).

The browser itself is tested in tests/test_browser.py; here the same runtime file runs
under node, which CI installs, so the JavaScript maths is checked without a browser.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
from importlib import resources

import numpy as np
import pytest

from vaecore import build_vae, web
from vaecore.explorers import page
from vaecore.toolbox import decode_latents

ARCHS = {
    "dense": {"input": (28, 28, 1), "latent": 2, "hidden": [32, 16], "name": "web_dense"},
    "conv_k4_bn_leaky": {
        "input": (16, 16, 3), "latent": 5, "encode": [(6, 4, 2), (8, 4, 2)],
        "batch_norm": True, "activation": "leaky_relu", "name": "web_conv_a",
    },
    "conv_k3_k5_hidden_gelu": {
        "input": (12, 12, 3), "latent": 4, "encode": [(4, 3, 2), (6, 5, 1), (5, 3, 3)],
        "hidden": [7], "activation": "gelu", "name": "web_conv_b",
    },
}  # fmt: skip
TOLERANCE = {"float32": 1e-4, "float16": 2 / 255, "int8": 4 / 255}


def _sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, np.float64)))


@pytest.fixture(scope="module", params=sorted(ARCHS))
def model(request):
    vae = build_vae(ARCHS[request.param], seed=1)
    rng = np.random.default_rng(1)
    for layer in vae.decoder.layers + vae.encoder.layers:
        # Glorot kernels as built; biases and batch-norm parameters made non-trivial
        for w in layer.weights:
            if len(w.shape) == 1:
                w.assign(rng.normal(0, 0.3, w.shape).astype("float32"))
        if hasattr(layer, "moving_variance"):
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape))
    return vae


@pytest.mark.parametrize("precision", sorted(TOLERANCE))
def test_numpy_runtime_matches_keras_decode(model, precision):
    z = np.random.default_rng(2).normal(size=(3, model.latent_dim)).astype("float32")
    keras_images = decode_latents(model, z)
    spec = web.decoder_spec(model, precision)
    mine = np.stack([_sigmoid(web.run_network(spec, code)) for code in z]).reshape(
        keras_images.shape
    )
    assert spec["output_shape"] == list(keras_images.shape[1:])
    assert np.abs(mine - keras_images).max() <= TOLERANCE[precision]


def test_numpy_runtime_matches_keras_encoder(model):
    x = np.random.default_rng(3).random((2, *model.arch_def["input"])).astype("float32")
    spec = web.encoder_spec(model, "float32")
    mine = np.stack([web.run_network(spec, image) for image in x])
    np.testing.assert_allclose(mine, np.asarray(model.encode(x)[0]), atol=1e-4)


def test_int8_is_a_quarter_and_float16_half_of_float32(model):
    sizes = {p: len(web.decoder_spec(model, p)["blob"]) for p in TOLERANCE}
    assert sizes["float16"] < 0.6 * sizes["float32"]
    assert sizes["int8"] < 0.6 * sizes["float16"]


@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("CI"), reason="no node")
def test_javascript_runtime_matches_keras(model, tmp_path):
    """The file the pages inline, run under node, against the Keras decoder."""
    runtime = resources.files("vaecore").joinpath("static/vaecore_web.js")
    z = np.random.default_rng(4).normal(size=(2, model.latent_dim)).astype("float32")
    keras_images = decode_latents(model, z)
    spec = web.decoder_spec(model, "float16")
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    script = (
        "const api = require(process.argv[1]);"
        "const fs = require('fs');"
        "const net = new api.Network(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')));"
        "const zs = JSON.parse(process.argv[3]);"
        "console.log(JSON.stringify(zs.map(z => Array.from(net.run(Float32Array.from(z))))));"
    )
    out = subprocess.run(
        ["node", "-e", script, str(runtime), str(tmp_path / "spec.json"), json.dumps(z.tolist())],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    js = _sigmoid(json.loads(out.stdout)).reshape(keras_images.shape)
    assert np.abs(js - keras_images).max() <= 2 / 255
    numpy_images = np.stack([_sigmoid(web.run_network(spec, code)) for code in z])
    np.testing.assert_allclose(js, numpy_images.reshape(js.shape), atol=1e-5)


@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("CI"), reason="no node")
@pytest.mark.parametrize("kernel", ["simd", "simd-fma"])
def test_webassembly_kernel_and_javascript_loops_agree(model, tmp_path, kernel):
    """The runtime's backends (WebAssembly SIMD, the default, with fused multiply-add where the
    engine has relaxed SIMD; plain JavaScript, the fallback) give the same numbers."""
    runtime = resources.files("vaecore").joinpath("static/vaecore_web.js")
    z = np.random.default_rng(6).normal(size=(2, model.latent_dim)).astype("float32")
    (tmp_path / "spec.json").write_text(json.dumps(web.decoder_spec(model, "float16")))
    script = (
        "const api = require(process.argv[1]);"
        "const spec = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));"
        "const zs = JSON.parse(process.argv[3]), out = {};"
        "for (const b of ['wasm', 'js']) { const net = new api.Network(spec, {backend: b});"
        "  out[b] = {backend: net.backend, kernel: net.kernel, images: zs.map(z => Array.from(net.run(Float32Array.from(z))))}; }"
        "console.log(JSON.stringify(out));"
    )
    flags = ["--experimental-wasm-relaxed-simd"] if kernel == "simd-fma" else ["--no-experimental-wasm-relaxed-simd"]
    out = subprocess.run(
        ["node", *flags, "-e", script, str(runtime), str(tmp_path / "spec.json"), json.dumps(z.tolist())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if out.returncode and "bad option" in out.stderr:
        pytest.skip(f"this node has no {flags[0]}")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["wasm"]["backend"] == "wasm" and got["js"]["backend"] == "js"
    assert got["wasm"]["kernel"] == kernel
    np.testing.assert_allclose(got["wasm"]["images"], got["js"]["images"], atol=1e-5)


def test_webassembly_kernel_is_its_source_assembled(tmp_path):
    """GEMM_WASM (and GEMM_WASM_FMA) in the runtime are vaecore_gemm.wat assembled (checked
    where node has the wabt package)."""
    import base64

    static = resources.files("vaecore").joinpath("static")
    js = static.joinpath("vaecore_web.js").read_text()
    inlined = [re.search(rf'var {name} = "([A-Za-z0-9+/=]+)";', js) for name in ("GEMM_WASM", "GEMM_WASM_FMA")]
    assert all(m and base64.b64decode(m.group(1))[:4] == b"\0asm" for m in inlined)
    if shutil.which("node") is None:
        pytest.skip("no node")
    script = (
        "let wabt; try { wabt = require('wabt'); } catch (e) { console.log('none'); process.exit(0); }"
        "const text = require('fs').readFileSync(process.argv[1], 'utf8');"
        "const fma = text.replace(/\\(f32x4\\.add \\(local\\.get (\\$\\w+)\\) \\(f32x4\\.mul "
        "(\\((?:v128\\.load32_splat \\(local\\.get \\$\\w+\\)|local\\.get \\$\\w+)\\)) "
        "(\\((?:v128\\.load \\(local\\.get \\$\\w+\\)|local\\.get \\$\\w+)\\))\\)\\)/g,"
        " '(f32x4.relaxed_madd $2 $3 (local.get $1))');"
        "wabt().then(w => { for (const [t, f] of [[text, {}], [fma, {relaxed_simd: true}]]) {"
        "  const m = w.parseWat('k.wat', t, f); m.validate();"
        "  console.log(Buffer.from(m.toBinary({}).buffer).toString('base64')); } });"
    )
    out = subprocess.run(
        ["node", "-e", script, str(static.joinpath("vaecore_gemm.wat"))],
        capture_output=True, text=True, check=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    if out.stdout.strip() == "none":
        pytest.skip("node has no wabt package (npm install wabt)")
    assert out.stdout.split() == [m.group(1) for m in inlined]


def test_explorer_html_is_self_contained(model, tmp_path):
    rng = np.random.default_rng(5)
    z_ref = rng.normal(size=(300, model.latent_dim)).astype("float32")
    labels = rng.integers(0, 4, 300)
    ex = web.latent_explorer(model, z_ref, labels, class_names=["a", "b", "c", "d"], max_points=100)
    page = ex._repr_html_()
    assert 'vaecoreWeb.mount("' + ex.element_id in page
    assert web.runtime_js()[:200] in page
    # the runtime is its own script, marked with the hash of its text (the book's build shares it)
    marked = re.findall(r'<script class="vaecore-runtime" data-sha256="([0-9a-f]{64})">(.*?)</script>', page, re.S)
    assert len(marked) == 1 and marked[0][1] == web.runtime_js()
    assert hashlib.sha256(marked[0][1].encode()).hexdigest() == marked[0][0]
    assert re.search(r'<script>vaecoreWeb\.mount\("' + ex.element_id + r'", \{.*\}\);</script>$', page, re.S)
    assert not re.search(r"https?://", page), "an explorer must not reach the network"
    assert ex.check_error <= 2
    assert len(ex.spec["map"]["points"]) == 100 and ex.spec["map"]["names"] == ["a", "b", "c", "d"]
    assert ex.spec["map"]["view"] == ("3d" if model.latent_dim == 3 else "2d")
    assert len(ex.spec["check"]["codes"]) == 3
    saved = ex.save(tmp_path / "x.html").read_text()
    assert saved.startswith("<!doctype html>") and ex.element_id in saved
    assert ex.size_bytes == len(page.encode())


def test_explorer_arguments_are_checked(model):
    latent = model.latent_dim
    with pytest.raises(ValueError, match="z_ref must be"):
        web.latent_explorer(model, np.zeros((4, latent + 1)))
    with pytest.raises(ValueError, match="dims"):
        web.latent_explorer(model, dims=[0, 0])
    with pytest.raises(ValueError, match="needs z_ref"):
        web.latent_explorer(model, view="2d")
    with pytest.raises(ValueError, match="precision"):
        web.latent_explorer(model, precision="int4")
    if tuple(model.arch_def["input"]) != (28, 28, 1):
        with pytest.raises(ValueError, match="draw=True"):
            web.latent_explorer(model, draw=True)
    else:
        ex = web.latent_explorer(model, draw=True)
        assert ex.spec["encoder"]["output_shape"] == [latent]


def test_explorer_starts_from_a_real_code(model):
    """Default base: the first reference code; or start_image's code; a given base wins; else 0."""
    from vaecore.toolbox import encode_images

    latent = model.latent_dim
    z_ref = np.random.default_rng(8).normal(size=(50, latent)).astype("float32")
    ex = web.latent_explorer(model, z_ref)
    np.testing.assert_allclose(ex.spec["base"], np.round(z_ref[0], 4), atol=1e-6)
    assert ex.spec["start"] is None  # the page opens on the base, which Reset returns to
    np.testing.assert_allclose(ex.spec["check"]["codes"][0], ex.spec["base"], atol=1e-6)  # checked too
    image = np.random.default_rng(9).random(model.arch_def["input"]).astype("float32")
    from_image = web.latent_explorer(model, z_ref, start_image=image)
    np.testing.assert_allclose(from_image.spec["base"], encode_images(model, image[None])[0], atol=1e-4)
    assert web.latent_explorer(model, z_ref, base=np.ones(latent)).spec["base"] == [1.0] * latent
    assert web.latent_explorer(model).spec["base"] == [0.0] * latent
    with pytest.raises(ValueError, match="not both"):
        web.latent_explorer(model, base=np.ones(latent), start_image=image)
    with pytest.raises(ValueError, match="start_image must be"):
        web.latent_explorer(model, start_image=np.zeros((3, 3)))
    # the sliders reach the base and the start wherever they are
    far = np.full(latent, 5.0, np.float32)
    assert web.latent_explorer(model, base=far, dims=[0]).spec["limits"] == [5.0]
    assert web.latent_explorer(model, start=-far * 1.5, dims=[0]).spec["limits"] == [7.5]


def test_explorer_hint_labels_kl_and_note(model):
    latent = model.latent_dim
    kl = np.arange(latent, dtype=float) + 0.123
    ex = web.latent_explorer(model, dims=[1, 0], hint=" Slide z[1]: <b>it</b> & more. ", dim_labels={1: "slant"}, kl=kl)
    assert ex.spec["hint"] == "Slide z[1]: <b>it</b> & more."
    assert ex.spec["dim_labels"] == ["slant", None] and ex.spec["kl"] == [1.12, 0.12]
    page_html = ex.html()
    # without JavaScript the hint still shows, escaped; in the spec it is plain text the page escapes
    assert "<p>Slide z[1]: &lt;b&gt;it&lt;/b&gt; &amp; more.</p>" in page_html and "<b>it</b>" not in page_html.split("<script")[0]
    note = json.loads(re.search(r'vaecoreWeb\.mount\("[^"]+", (\{.*\})\);</script>$', page_html, re.S).group(1))["note"]
    assert note == f"{ex!r} | NumPy runtime vs Keras on the check codes: {ex.check_error}/255"
    assert re.fullmatch(r"WebExplorer\(latent=\d+, \d+\.\d\d MB\)", repr(ex))
    with pytest.raises(ValueError, match="dim_labels names dims without a slider"):
        web.latent_explorer(model, dims=[0], dim_labels={1: "x"})
    with pytest.raises(ValueError, match="kl must hold one value per latent dimension"):
        web.latent_explorer(model, kl=[1.0] * (latent + 1))
    with pytest.raises(ValueError, match="hint must be a string"):
        web.latent_explorer(model, hint=3)


def test_latent_map_sliders_say_where_their_unit_sits():
    vae = build_vae({"input": (8, 8, 3), "latent": (4, 4, 2), "encode": [(4, 3, 2)], "name": "web_map"}, seed=0)
    ex = web.latent_explorer(vae, dims=[0, 9, 31], dim_labels={31: "corner"})
    assert ex.spec["dim_labels"] == ["row 0, column 0, channel 0", "row 1, column 0, channel 1", "corner"]


def test_auto_precision_picks_int8_for_big_decoders(monkeypatch, model):
    int8_error = web.latent_explorer(model, precision="int8").check_error
    monkeypatch.setattr(page, "AUTO_INT8_BYTES", 10)  # every decoder counts as big
    ex = web.latent_explorer(model)
    if int8_error <= 4:
        assert ex.spec["precision"] == "int8" and ex.check_error == int8_error
    else:
        assert ex.spec["precision"] == "float16"
    monkeypatch.setattr(page, "AUTO_INT8_BYTES", 10**9)
    assert web.latent_explorer(model).spec["precision"] == "float16"


def test_unsupported_layers_are_refused():
    import keras

    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dropout(0.1)])
    with pytest.raises(ValueError, match="no in-page implementation"):
        web.export_network(net)
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="softmax"):
        web.export_network(net)


def test_runtime_ships_as_package_data():
    root = resources.files("vaecore")
    assert root.joinpath("static/vaecore_web.js").is_file()
    text = open(os.path.join(os.path.dirname(__file__), "..", "pyproject.toml")).read()
    assert '"static/*.js"' in text


def test_from_widget_copies_the_ipywidgets_explorer(model):
    from vaecore import widgets

    rng = np.random.default_rng(6)
    z_ref = rng.normal(size=(200, model.latent_dim)).astype("float32")
    labels = rng.integers(0, 3, 200)
    widget = widgets.latent_explorer(model, z_ref, labels, dims=[1, 0], slider_range=2.5)
    widget.update({1: 1.25})
    twin = web.from_widget(widget, labels=labels, class_names=["x", "y", "z"])
    assert twin.spec["dims"] == [1, 0] and twin.spec["limits"] == [2.5, 2.5]
    # the widget held the other dims at 0: the twin holds them at the first reference code, a
    # real image's, with the widget's moved slider (z[1]) where the widget has it
    first = np.round(z_ref[0], 4).astype("float32")
    np.testing.assert_allclose(twin.spec["base"], first, atol=1e-6)
    assert twin.spec["start"][1] == 1.25 and abs(twin.spec["start"][0] - first[0]) < 1e-6
    based = web.from_widget(widgets.latent_explorer(model, z_ref, base=np.full(model.latent_dim, 0.5)))
    assert based.spec["base"] == [0.5] * model.latent_dim  # a given base is kept
    assert twin.spec["map"]["dims"] == [1, 0] and twin.spec["map"]["names"] == ["x", "y", "z"]
    bare = web.from_widget(widgets.latent_explorer(model))
    assert bare.spec["map"] is None


# --------------------------------------------------------------------- attribute explorer
def _attribute_inputs(model, n=5):
    rng = np.random.default_rng(7)
    faces = rng.random((n, *model.arch_def["input"])).astype("float32")
    vectors = {
        "Smiling": rng.normal(0, 1, model.latent_dim).astype("float32"),
        "Eyeglasses": rng.normal(0, 1, model.latent_dim).astype("float32"),
    }
    return faces, vectors


def test_attribute_explorer_spec(model):
    faces, vectors = _attribute_inputs(model)
    dims = [model.latent_dim - 1, 0]
    ex = web.attribute_explorer(
        model, faces, vectors, dims=dims, names=list("abcde"), face=2,
        strengths={"Eyeglasses": 0.5}, offsets={0: -1.0}, strength_range=1.5, title="m",
    )  # fmt: skip
    att = ex.spec["attributes"]
    assert att["names"] == list("abcde") and att["face"] == 2 and att["title"] == "m"
    codes = np.asarray(model.encode(faces)[0])
    np.testing.assert_allclose(att["codes"], codes, atol=1e-4)
    assert [d["name"] for d in att["directions"]] == ["Smiling", "Eyeglasses"]
    np.testing.assert_allclose(att["directions"][1]["vector"], vectors["Eyeglasses"], atol=1e-4)
    assert att["strengths"] == [0.0, 0.5] and att["offsets"] == [0.0, -1.0]
    assert att["strength_limit"] == 1.5 and ex.spec["limits"] == [3.0, 3.0]
    assert ex.spec["dims"] == dims and ex.spec["map"] is None
    assert len(att["faces"]) == 5  # thumbnails: the faces as 8-bit pixels
    thumb = np.frombuffer(__import__("base64").b64decode(att["faces"][3]), np.uint8)
    np.testing.assert_array_equal(thumb, np.round(faces[3] * 255).astype(np.uint8).ravel())
    assert len(ex.spec["check"]["codes"]) == 4 and ex.check_error <= 2
    # the check codes include edited ones (vectors and offsets added), not just the faces
    assert np.abs(np.asarray(ex.spec["check"]["codes"][1]) - codes[1]).max() > 0.1
    page = ex.html()
    assert not re.search(r"https?://", page) and '"attributes"' in page
    # codes instead of faces: no thumbnails
    bare = web.attribute_explorer(model, codes=codes[:2], vectors={})
    assert bare.spec["attributes"]["faces"] is None and bare.spec["attributes"]["directions"] == []


def test_attribute_codes_decode_like_keras(model):
    """compose_code is what the page decodes; the runtime's image of it is Keras's."""
    faces, vectors = _attribute_inputs(model)
    ex = web.attribute_explorer(model, faces, vectors, dims=[0])
    att = ex.spec["attributes"]
    z = web.compose_code(ex.spec, 3, {"Smiling": 1.5, "Eyeglasses": -0.75}, {0: 2.0})
    expected = np.asarray(att["codes"][3], np.float64) + 1.5 * np.asarray(
        att["directions"][0]["vector"]) - 0.75 * np.asarray(att["directions"][1]["vector"])  # fmt: skip
    expected[0] += 2.0
    np.testing.assert_allclose(z, expected, atol=1e-5)
    assert np.abs(z - np.asarray(att["codes"][3])).max() > 0.5  # the edit moved the code
    codes = np.stack([z, web.compose_code(ex.spec, 1), web.compose_code(ex.spec, 0, [2.0, 0.0])])
    keras_images = decode_latents(model, codes)
    mine = np.stack([_sigmoid(web.run_network(ex.spec["decoder"], c)) for c in codes])
    assert np.abs(mine.reshape(keras_images.shape) - keras_images).max() <= 2 / 255
    with pytest.raises(ValueError, match="unknown attributes"):
        web.compose_code(ex.spec, 0, {"Bald": 1.0})
    with pytest.raises(ValueError, match="no slider for latent dim"):
        web.compose_code(ex.spec, 0, offsets={1: 1.0})
    with pytest.raises(ValueError, match="not an attribute explorer"):
        web.compose_code(web.latent_explorer(model).spec, 0)


def test_attribute_explorer_arguments_are_checked(model):
    faces, vectors = _attribute_inputs(model)
    latent = model.latent_dim
    with pytest.raises(ValueError, match=r"vector 'Smiling' has shape \(3,\); it must be"):
        web.attribute_explorer(model, faces, {"Smiling": np.zeros(3)})
    with pytest.raises(ValueError, match=rf"vector 'Male' has shape \(2, {latent}\)"):
        web.attribute_explorer(model, faces, {"Male": np.zeros((2, latent))})
    with pytest.raises(ValueError, match="non-finite"):
        web.attribute_explorer(model, faces, {"Male": np.full(latent, np.nan)})
    with pytest.raises(ValueError, match="vectors must be a mapping"):
        web.attribute_explorer(model, faces, [np.zeros(latent)])
    with pytest.raises(ValueError, match="faces must be a non-empty"):
        web.attribute_explorer(model, faces[..., :1] if faces.shape[-1] > 1 else faces[:, :5])
    with pytest.raises(ValueError, match="faces must be a non-empty"):
        web.attribute_explorer(model, faces[:0])
    with pytest.raises(ValueError, match="give faces"):
        web.attribute_explorer(model, vectors=vectors)
    with pytest.raises(ValueError, match="codes must be"):
        web.attribute_explorer(model, codes=np.zeros((2, latent + 1)))
    with pytest.raises(ValueError, match="at most 64 faces"):
        web.attribute_explorer(model, codes=np.zeros((65, latent)))
    with pytest.raises(ValueError, match="2 names for 5 faces"):
        web.attribute_explorer(model, faces, names=["a", "b"])
    with pytest.raises(ValueError, match="dims"):
        web.attribute_explorer(model, faces, dims=[0, 0])
    with pytest.raises(ValueError, match="face must be an index below 5"):
        web.attribute_explorer(model, faces, face=5)
    with pytest.raises(ValueError, match="unknown attributes"):
        web.attribute_explorer(model, faces, vectors, strengths={"Bald": 1.0})


def test_from_widget_copies_the_attribute_explorer(model):
    from vaecore import widgets

    faces, vectors = _attribute_inputs(model, n=10)
    other = {k: -v for k, v in vectors.items()}
    widget = widgets.attribute_explorer(
        {"a": model, "b": model}, faces, {"a": vectors, "b": other},
        dims={"a": [0], "b": [model.latent_dim - 1, 0]}, strength_range=1.5,
    )  # fmt: skip
    widget.update(model="b", face=3, strengths={"Smiling": 1.0}, offsets={0: 0.5})
    twin = web.from_widget(widget, model="b", faces=4)
    att = twin.spec["attributes"]
    assert att["title"] == "b" and len(att["codes"]) == 4 and att["face"] == 3
    assert att["strengths"] == [1.0, 0.0] and att["offsets"] == [0.0, 0.5]
    assert twin.spec["dims"] == [model.latent_dim - 1, 0] and att["strength_limit"] == 1.5
    np.testing.assert_allclose(att["directions"][0]["vector"], other["Smiling"], atol=1e-4)
    # what the page decodes first is the widget's code
    np.testing.assert_allclose(web.compose_code(twin.spec, 3, att["strengths"], {0: 0.5}), widget.z, atol=1e-3)
    first = web.from_widget(widget, model="a")  # not the widget's current model: its first face, no edits
    assert first.spec["dims"] == [0] and first.spec["attributes"]["face"] == 0
    assert first.spec["attributes"]["strengths"] == [0.0, 0.0] and len(first.spec["attributes"]["codes"]) == 8
    with pytest.raises(ValueError, match="unknown model 'c'"):
        web.from_widget(widget, model="c")
    with pytest.raises(ValueError, match=r"unknown models \['c'\]"):
        web.from_widget(widget, model=["a", "c"])
    # no model named: every model behind one menu, starting at the widget's, in its state
    menu = web.from_widget(widget, faces=4)
    assert isinstance(menu, web.WebChoice) and list(menu.explorers) == ["a", "b"]
    assert menu.spec["names"] == ["a", "b"] and menu.spec["start"] == 1
    assert menu.explorers["b"].spec["attributes"]["face"] == 3 and menu.explorers["a"].spec["dims"] == [0]
    assert menu.check_error == max(e.check_error for e in menu.explorers.values())
    hinted = web.from_widget(widget, faces=2, hint="Slide Smiling.")  # the hint once, over the menu
    assert hinted.spec["hint"] == "Slide Smiling." and all(e.spec["hint"] is None for e in hinted.explorers.values())
    alone = widgets.attribute_explorer({"m": model}, faces, {"m": vectors})  # one model: no menu
    assert type(web.from_widget(alone, faces=2)) is web.WebExplorer
    with pytest.raises(ValueError, match="model= chooses"):
        web.from_widget(widgets.latent_explorer(model), model="a")


def test_model_choice_puts_explorers_behind_one_menu(model, tmp_path):
    faces, vectors = _attribute_inputs(model, n=3)
    one = web.attribute_explorer(model, faces, vectors, precision="float16", title="one")
    two = web.attribute_explorer(model, faces, {k: -v for k, v in vectors.items()}, precision="int8")
    menu = web.model_choice({"beta 1": one, "beta 5": two}, start="beta 5", label="beta")
    assert menu.spec["names"] == ["beta 1", "beta 5"] and menu.spec["start"] == 1
    assert menu.spec["label"] == "beta" and menu.spec["explorers"] == [one.spec, two.spec]
    assert menu.check_error == max(one.check_error, two.check_error)
    page = menu.html()
    assert page.count("vaecoreWeb.mountChoice(") == 1 and page.count("(function (root)") == 1
    assert page.count('<script class="vaecore-runtime"') == 1
    assert 'class="vaecore-choice"' in page and not re.search(r"https?://", page)
    # one runtime for the whole menu: smaller than the two explorers shown apart
    assert menu.size_bytes < one.size_bytes + two.size_bytes
    assert "WebChoice(['beta 1', 'beta 5']" in repr(menu)
    # each explorer's Python line and the menu's go into the page's folded details
    payload = json.loads(re.search(r'mountChoice\("[^"]+", (\{.*\})\);</script>$', page, re.S).group(1))
    assert payload["note"].startswith("WebChoice(['beta 1', 'beta 5']") and "beta 5: " in payload["note"]
    assert [e["note"] for e in payload["explorers"]] == [one.note(), two.note()]
    hinted = web.model_choice({"beta 1": one}, label="beta", hint="Pick a face, then slide Smiling.")
    assert hinted.spec["hint"] == "Pick a face, then slide Smiling."
    assert menu.save(tmp_path / "menu.html").read_text().startswith("<!doctype html>")
    with pytest.raises(ValueError, match="non-empty mapping"):
        web.model_choice({})
    with pytest.raises(ValueError, match="start='beta 2' is not one of"):
        web.model_choice({"beta 1": one}, start="beta 2")
    with pytest.raises(ValueError, match="explorer 'x' is a WebChoice"):
        web.model_choice({"x": menu})
    with pytest.raises(ValueError, match="non-empty strings"):
        web.model_choice({"": one})


# --------------------------------------------------------------------- conditional VAE
# The runtime's concat_condition (vaecore.export writes it for vaecore.conditional's models):
# the K condition values appended to a vector (a dense decoder, a conv decoder's flat z) or to
# every pixel of a map (a latent-map decoder; the conv encoder's image).
CVAE_ARCHS = {
    "dense_classes": {"input": (8, 8, 1), "latent": 3, "hidden": [16, 8], "name": "web_cvae_dense",
                      "condition": 10},
    "map_binary": {"input": (8, 8, 3), "latent": (4, 4, 2), "encode": [(5, 3, 2)], "batch_norm": True,
                   "activation": "leaky_relu", "name": "web_cvae_map",
                   "condition": {"binary": ["Smiling", "Eyeglasses", "Male"]}},
    "conv_flat_classes": {"input": (12, 12, 3), "latent": 4, "encode": [(4, 3, 2), (6, 3, 2)], "hidden": [7],
                          "name": "web_cvae_conv", "condition": {"classes": ["cat", "dog", "bird"]}},
}  # fmt: skip
NODE_CASES = """
const api = require(process.argv[1]), fs = require('fs');
const specs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')), cases = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const out = {};
for (const b of ['wasm', 'js']) {
  out[b] = {};
  for (const [name, spec] of Object.entries(specs)) {
    const net = new api.Network(spec, {backend: b});
    out[b][name] = {backend: net.backend, kernel: net.kernel,
      outputs: cases[name].map(c => Array.from(net.run(Float32Array.from(c.x), c.condition)))};
  }
}
const dec = new api.Network(specs.decoder), refused = [];
try { dec.run(Float32Array.from(cases.decoder[0].x)); } catch (e) { refused.push(String(e)); }
try { dec.run(Float32Array.from(cases.decoder[0].x), [1]); } catch (e) { refused.push(String(e)); }
out.refused = refused;
console.log(JSON.stringify(out));
"""


def _conditions(model, n):
    """n condition rows: classes 0, 4, 8, ... modulo K (one-hot) or 0/1 attribute patterns."""
    k = model.condition_size
    if model.condition_kind == "classes":
        return np.eye(k, dtype=np.float32)[[(4 * i) % k for i in range(n)]]
    return np.asarray([[(i >> j) & 1 for j in range(k)] for i in (0, 5, 3, 7, 6)[:n]], np.float32)


@pytest.fixture(scope="module", params=sorted(CVAE_ARCHS))
def cvae(request):
    from vaecore.conditional import build_cvae

    vae = build_cvae(CVAE_ARCHS[request.param], seed=1)
    rng = np.random.default_rng(11)
    for layer in vae.decoder.layers + vae.encoder.layers:
        for w in layer.weights:
            if len(w.shape) == 1:
                w.assign(rng.normal(0, 0.3, w.shape).astype("float32"))
            elif "kernel" in w.path:  # condition weights as large as the rest: each class looks different
                w.assign(rng.normal(0, 1.5 / np.sqrt(np.prod(w.shape[:-1])), w.shape).astype("float32"))
        if hasattr(layer, "moving_variance"):
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape))
    return vae


def _run_node(flags, specs, cases, tmp_path):
    runtime = resources.files("vaecore").joinpath("static/vaecore_web.js")
    (tmp_path / "specs.json").write_text(json.dumps(specs))
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    return subprocess.run(
        ["node", *flags, "-e", NODE_CASES, str(runtime), str(tmp_path / "specs.json"), str(tmp_path / "cases.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("CI"), reason="no node")
@pytest.mark.parametrize("kernel", ["simd", "simd-fma"])
def test_javascript_runtime_runs_conditional_networks_as_numpy(cvae, tmp_path, kernel):
    """A conditional VAE's decoder and encoder (concat_condition) in the runtime under node, both
    backends (WebAssembly SIMD with or without fused multiply-add; the JavaScript loops), several
    conditions per code: the NumPy runtime's numbers, and the decoder's images within 2/255 of Keras."""
    rng = np.random.default_rng(12)
    n = 5
    z = rng.normal(size=(n, cvae.latent_dim)).astype("float32")
    y = _conditions(cvae, n)
    x = rng.random((2, *cvae.arch_def["input"])).astype("float32")
    specs = {"decoder": web.decoder_spec(cvae, "float16"), "encoder": web.encoder_spec(cvae, "float32")}
    assert any(op["op"] == "concat_condition" for op in specs["decoder"]["layers"])
    cases = {
        "decoder": [{"x": z[i].tolist(), "condition": y[i].tolist()} for i in range(n)],
        "encoder": [{"x": x[i].ravel().tolist(), "condition": y[i].tolist()} for i in range(2)],
    }
    flags = ["--experimental-wasm-relaxed-simd"] if kernel == "simd-fma" else ["--no-experimental-wasm-relaxed-simd"]
    out = _run_node(flags, specs, cases, tmp_path)
    if out.returncode and "bad option" in out.stderr:
        pytest.skip(f"this node has no {flags[0]}")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["wasm"]["decoder"]["backend"] == "wasm" and got["wasm"]["decoder"]["kernel"] == kernel
    assert got["js"]["decoder"]["backend"] == "js"
    numpy_images = np.stack([_sigmoid(web.run_network(specs["decoder"], z[i], condition=y[i])) for i in range(n)])
    keras_images = decode_latents(cvae, z, condition=y)
    numpy_codes = np.stack([web.run_network(specs["encoder"], x[i], condition=y[i]).ravel() for i in range(2)])
    for backend in ("wasm", "js"):
        js = _sigmoid(got[backend]["decoder"]["outputs"]).reshape(numpy_images.shape)
        error = np.abs(js - numpy_images).max()
        assert error * 255 <= 0.01, f"{backend}: {error * 255:.2e}/255 from the NumPy runtime"
        assert np.abs(js.reshape(keras_images.shape) - keras_images).max() <= 2 / 255
        codes = np.asarray(got[backend]["encoder"]["outputs"])
        np.testing.assert_allclose(codes, numpy_codes, atol=1e-4)
    np.testing.assert_allclose(numpy_codes, np.asarray(cvae.encode(x, y[:2])[0]), atol=1e-4)
    # a conditional network refuses to run without its K values, or with the wrong number
    k = cvae.condition_size
    assert len(got["refused"]) == 2 and all(f"takes a condition of {k} values" in e for e in got["refused"])


@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("CI"), reason="no node")
def test_the_condition_changes_the_decoded_image(cvae, tmp_path):
    """The same code decoded under each of several conditions: different images (in NumPy and in
    the runtime), and the unconditional signature `net.run(z)` still runs an unconditional spec."""
    z = np.random.default_rng(13).normal(size=cvae.latent_dim).astype("float32")
    y = _conditions(cvae, 3)
    spec = web.decoder_spec(cvae, "float16")
    plain = web.decoder_spec(build_vae(ARCHS["dense"], seed=1), "float16")
    cases = {"decoder": [{"x": z.tolist(), "condition": row.tolist()} for row in y],
             "plain": [{"x": [0.5, -0.5]}]}  # fmt: skip
    out = _run_node([], {"decoder": spec, "plain": plain}, cases, tmp_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    for backend in ("wasm", "js"):
        images = _sigmoid(got[backend]["decoder"]["outputs"])
        for a in range(3):
            for b in range(a + 1, 3):
                assert np.abs(images[a] - images[b]).max() > 10 / 255, f"conditions {y[a]} and {y[b]} look the same"
        np.testing.assert_allclose(
            got[backend]["plain"]["outputs"][0], web.run_network(plain, [0.5, -0.5]).ravel(), atol=1e-5
        )


def _digits_cvae():
    from vaecore.conditional import build_cvae

    return build_cvae({"input": (28, 28, 1), "latent": 2, "hidden": [16], "name": "web_cvae_digits",
                       "condition": 10}, seed=3)  # fmt: skip


def test_conditional_explorer_html_holds_the_class_selector(tmp_path):
    """The page explorer of a conditional VAE: the spec in its HTML names the classes the selector
    shows, starts at the first reference code's class, and its check codes carry their conditions."""
    model = _digits_cvae()
    rng = np.random.default_rng(14)
    z_ref = rng.normal(size=(60, 2)).astype("float32")
    labels = rng.integers(0, 10, 60)
    labels[0] = 6
    ex = web.latent_explorer(model, z_ref, labels, condition_label="digit", draw=True)
    html_text = ex.html()
    payload = json.loads(re.search(r'vaecoreWeb\.mount\("[^"]+", (\{.*\})\);</script>$', html_text, re.S).group(1))
    cond = payload["condition"]
    assert cond == {"kind": "classes", "size": 10, "names": [str(k) for k in range(10)], "label": "digit",
                    "start": [float(k == 6) for k in range(10)]}  # fmt: skip
    assert "vaecore-class" in html_text and "setCondition" in html_text  # the runtime that draws the buttons
    assert payload["decoder"]["condition_shape"] == [10] and payload["encoder"]["condition_shape"] == [10]
    check = payload["check"]
    assert len(check["conditions"]) == len(check["codes"]) == 3
    assert [int(np.argmax(row)) for row in check["conditions"]] == [6, 7, 8]
    assert ex.check_error <= 2  # the NumPy runtime under each check code's condition, against Keras
    # named classes (the arch dict's names), started by name; start_image encoded under it
    from vaecore.conditional import build_cvae

    named = build_cvae({"input": (8, 8, 1), "latent": 2, "hidden": [8], "name": "web_cvae_named",
                        "condition": {"classes": ["cat", "dog", "bird"]}}, seed=0)  # fmt: skip
    image = rng.random((8, 8, 1)).astype("float32")
    ex = web.latent_explorer(named, condition="bird", start_image=image)
    assert ex.spec["condition"]["names"] == ["cat", "dog", "bird"] and ex.spec["condition"]["start"] == [0, 0, 1]
    np.testing.assert_allclose(ex.spec["base"], np.asarray(named.encode(image[None], [2])[0])[0], atol=1e-4)
    # binary attributes: named by condition_names, started from the names that are on
    attrs = build_cvae({"input": (8, 8, 1), "latent": 2, "hidden": [8], "name": "web_cvae_attrs",
                        "condition": {"binary": 3}}, seed=0)  # fmt: skip
    ex = web.latent_explorer(attrs, condition={"Male": True}, condition_names=["Smiling", "Eyeglasses", "Male"])
    assert ex.spec["condition"]["kind"] == "binary" and ex.spec["condition"]["start"] == [0, 0, 1]
    assert ex.spec["condition"]["label"] == "attributes" and ex.check_error <= 2
    assert web.latent_explorer(attrs).spec["condition"]["names"] == ["attribute 1", "attribute 2", "attribute 3"]
    assert "condition" in web.latent_explorer(build_vae(ARCHS["dense"], seed=1)).spec  # (None: no selector)


def test_conditional_explorer_arguments_are_checked():
    cvae, model = _digits_cvae(), build_vae(ARCHS["dense"], seed=1)
    with pytest.raises(ValueError, match="condition_names has 3 names but the model's condition has 10 classes"):
        web.latent_explorer(cvae, condition_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="distinct non-empty strings"):
        web.latent_explorer(cvae, condition_names=["a"] * 10)
    with pytest.raises(ValueError, match="condition_names must be a list of 10 names"):
        web.latent_explorer(cvae, condition_names="0123456789")
    with pytest.raises(ValueError, match=r"condition=10: a class is an index 0\.\.9"):
        web.latent_explorer(cvae, condition=10)
    with pytest.raises(ValueError, match="condition='ten' is not one of the classes"):
        web.latent_explorer(cvae, condition="ten")
    with pytest.raises(ValueError, match="a one-hot row of the model's 10 classes"):
        web.latent_explorer(cvae, condition=[0.5, 0.5] + [0] * 8)
    with pytest.raises(ValueError, match="condition_label must be a non-empty string"):
        web.latent_explorer(cvae, condition_label="")
    with pytest.raises(ValueError, match=r"condition, condition_names: this model has no condition"):
        web.latent_explorer(model, condition=1, condition_names=["a"])
    from vaecore.conditional import build_cvae

    attrs = build_cvae({"input": (8, 8, 1), "latent": 2, "hidden": [8], "name": "web_cvae_attrs2",
                        "condition": {"binary": ["Smiling", "Male"]}}, seed=0)  # fmt: skip
    with pytest.raises(ValueError, match=r"unknown attributes \['Bald'\]"):
        web.latent_explorer(attrs, condition=["Bald"])
    with pytest.raises(ValueError, match=r"2 values in \[0, 1\]"):
        web.latent_explorer(attrs, condition=[1, 0, 1])


def test_kernel_explorer_has_the_selector_and_its_twin_copies_it():
    from vaecore import widgets
    from vaecore.conditional import build_cvae

    cvae = _digits_cvae()
    widget = widgets.latent_explorer(cvae, condition=2, condition_label="digit")
    assert list(widget.selector.options) == [(str(k), k) for k in range(10)] and widget.selector.value == 2
    two = widget.decoded.copy()
    widget.selector.value = 5  # a click on "5"
    np.testing.assert_allclose(widget.decoded, decode_latents(cvae, widget.z[None], condition=[5])[0], atol=1e-6)
    assert np.abs(widget.decoded - two).max() > 0 and widget.readout.value.startswith("<code>digit 5; z[0] = ")
    twin = web.from_widget(widget)
    assert twin.spec["condition"]["start"] == [float(k == 5) for k in range(10)]
    assert twin.spec["condition"]["label"] == "digit"
    attrs = build_cvae({"input": (8, 8, 1), "latent": 2, "hidden": [8], "name": "web_cvae_attrs3",
                        "condition": {"binary": ["Smiling", "Male"]}}, seed=0)  # fmt: skip
    boxes = widgets.latent_explorer(attrs, condition=["Male"])
    assert [b.description for b in boxes.selector] == ["Smiling", "Male"] and boxes.condition.tolist() == [0, 1]
    boxes.selector[0].value = True
    assert boxes.condition.tolist() == [1, 1] and "attributes: Smiling, Male;" in boxes.readout.value
    boxes.set_condition({"Male": False})
    assert boxes.condition.tolist() == [1, 0]
    with pytest.raises(ValueError, match="condition_names has 1 names"):
        widgets.latent_explorer(attrs, condition_names=["x"])
    with pytest.raises(ValueError, match="no condition"):
        widgets.latent_explorer(build_vae(ARCHS["dense"], seed=1), condition=1)
