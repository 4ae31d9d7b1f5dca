"""The rendered book and the in-page explorer, in headless Chromium with the network off.

* explorers saved from small Keras models (a dense MNIST-shaped one with the drawing
  pad, a 64 px conv one): moving a slider with the keyboard changes the decoded image,
  the canvas pixels match ``model.decode`` within 2/255, the marker moves, and a digit
  drawn with the mouse is encoded in the page (matching ``model.encode``); a conditional
  VAE's explorer: clicking another class (ticking an attribute) decodes the same code
  under it, as Keras does, and the selector and the readout show the choice;
* the built book (``_build/html``, made by the README's first command): every chapter
  page loads no http(s) resource, its maths is rendered by MathJax, its plotly figures
  are drawn, and every explorer on it works and passes its own check against Keras;
* the built book as a reader meets it: the visible sidebar toggle opens and closes the chapter
  list at 1400 px and 400 px, no page logs a console error, no page scrolls sideways at either
  width, and the explorers' text has a WCAG contrast of at least 4.5 in dark and light mode;
  the header icons are drawn by the theme's icon font (Font Awesome's script is a stub).

The explorers on the built pages run the shared runtime files that ``_ext/light_pages.py``
puts in ``_static/vaecore/``; page sizes are ``tests/test_pages.py``'s.

Chromium is Debian's ``chromium`` + ``chromium-driver`` (``.ci/run`` installs them), driven
by selenium. Without them these tests skip, except under CI (``$CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from vaecore import build_vae, web
from vaecore.toolbox import decode_latents

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
IN_CI = bool(os.environ.get("CI"))
# The network is switched off: every host resolves to nothing, every proxy connection fails.
OFFLINE_FLAGS = ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]


def _need(ok: bool, reason: str) -> None:
    if not ok:
        if IN_CI:
            pytest.fail(f"{reason} (required in CI)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    _need(CHROMIUM is not None and DRIVER is not None, "no chromium/chromedriver on this machine")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need(False, "selenium is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--enable-unsafe-swiftshader", *OFFLINE_FLAGS]:  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for _console_errors
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def _open(driver, path: Path) -> None:
    driver.get(path.resolve().as_uri())


def _wait(driver, script: str, timeout: float = 30.0):
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def _console_errors(driver) -> list[str]:
    """The console's errors (SEVERE) since the last call: uncaught exceptions, console.error."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _remote_requests(driver) -> list[str]:
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
    )
    return [n for n in names if re.match(r"https?://", n)]


PIXELS = """
const root = arguments[0], c = root.querySelector('canvas.vaecore-decoded');
return {z: JSON.parse(root.getAttribute('data-z')), w: c.width, h: c.height,
        rgba: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)};
"""


def _canvas_vs_keras(driver, root, model) -> tuple[np.ndarray, float]:
    """The explorer's canvas as (H, W, C) uint8, and its worst difference from Keras, in /255
    (a conditional VAE's decode given the condition the page shows, ``data-condition``)."""
    got = driver.execute_script(PIXELS, root)
    h, w, c = (int(d) for d in model.arch_def["input"])
    rgba = np.asarray(got["rgba"], np.int16).reshape(h, w, 4)
    canvas = rgba[..., :1] if c == 1 else rgba[..., :3]
    shown = root.get_attribute("data-condition")
    condition = None if shown is None else np.asarray([json.loads(shown)], np.float32)
    keras_image = decode_latents(model, np.asarray([got["z"]], np.float32), condition=condition)[0]
    keras_u8 = np.round(np.clip(keras_image, 0, 1) * 255).astype(np.int16)
    return canvas, float(np.abs(canvas - keras_u8).max())


def _move_slider(driver, root, index: int = 0, presses: int = 12) -> None:
    from selenium.webdriver.common.keys import Keys

    slider = root.find_elements("css selector", "input[type=range]")[index]
    slider.click()  # focus it (the click itself may move it too: a user's click would)
    for _ in range(presses):
        slider.send_keys(Keys.ARROW_RIGHT)
    _settle(driver, root)


def _settle(driver, root) -> None:
    """Wait for the decode a slider move scheduled (one per animation frame) to be shown."""
    end = time.time() + 10
    while driver.execute_script("const e = arguments[0].vaecore; return !!(e && e.pending)", root):
        assert time.time() < end, "the scheduled decode never ran"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def dense_model():
    return build_vae({"input": (28, 28, 1), "latent": 2, "hidden": [128], "name": "b_dense"}, seed=0)


@pytest.fixture(scope="module")
def conv_model():
    arch = {"input": (64, 64, 3), "latent": 32, "name": "b_conv64",
            "encode": [(32, 3, 2), (64, 3, 2), (128, 3, 2), (256, 3, 2), (256, 3, 2)]}  # fmt: skip
    return build_vae(arch, seed=0)


def test_dense_explorer_slider_map_and_drawing(browser, dense_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    rng = np.random.default_rng(0)
    z_ref = rng.normal(size=(500, 2)).astype("float32")
    explorer = web.latent_explorer(dense_model, z_ref, rng.integers(0, 10, 500), draw=True)
    _open(browser, explorer.save(tmp_path / "dense.html"))
    root = browser.find_element("css selector", ".vaecore-explorer")
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    assert int(root.get_attribute("data-check-error")) <= 2
    before, error = _canvas_vs_keras(browser, root, dense_model)
    assert error <= 2
    marker = browser.execute_script("return arguments[0].vaecore.markerXY", root)
    _move_slider(browser, root)
    after, error = _canvas_vs_keras(browser, root, dense_model)
    assert error <= 2, f"browser pixels differ from model.decode by {error}/255"
    assert np.abs(after - before).max() > 0, "moving a slider did not change the image"
    assert browser.execute_script("return arguments[0].vaecore.markerXY", root) != marker

    pad = root.find_element("css selector", "canvas.vaecore-pad")
    ActionChains(browser).move_to_element_with_offset(pad, -30, -60).click_and_hold().move_by_offset(
        10, 60
    ).move_by_offset(10, 60).release().perform()
    drawn = _wait(browser, "return arguments[0].getAttribute('data-drawn-z')".replace(
        "arguments[0]", "document.querySelector('.vaecore-explorer')"))  # fmt: skip
    pad_input = np.asarray(browser.execute_script("return arguments[0].vaecore.padInput", root))
    assert pad_input.max() > 0.5, "the drawing did not reach the encoder"
    keras_z = dense_model.encode(pad_input.reshape(1, 28, 28, 1).astype("float32"))[0].numpy()[0]
    np.testing.assert_allclose(np.asarray(eval(drawn)), keras_z, atol=0.02)
    z_now = np.asarray(browser.execute_script("return Array.from(arguments[0].vaecore.z)", root))
    np.testing.assert_allclose(z_now, keras_z, atol=0.02)  # the marker follows the drawing
    assert _remote_requests(browser) == []


def test_conv_explorer_64px_matches_keras_and_is_fast(browser, conv_model, tmp_path):
    explorer = web.latent_explorer(conv_model, precision="float16")
    _open(browser, explorer.save(tmp_path / "conv.html"))
    root = browser.find_element("css selector", ".vaecore-explorer")
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    assert int(root.get_attribute("data-check-error")) <= 2
    before, _ = _canvas_vs_keras(browser, root, conv_model)
    _move_slider(browser, root, index=3)
    after, error = _canvas_vs_keras(browser, root, conv_model)
    assert error <= 2 and np.abs(after - before).max() > 0
    ms = browser.execute_script(
        "const e = arguments[0].vaecore, t = [];"
        "for (let i = 0; i < 5; i++) { e.decode(e.z); t.push(e.lastMs); }"
        "return t.sort((a, b) => a - b)[2];",
        root,
    )
    # benchmarks/web_explorer.py records the figure; here only a generous bound (busy CI)
    assert ms < 1000, f"64 px conv decode took {ms:.0f} ms"


def test_attribute_explorer_faces_and_directions_match_keras(browser, conv_model, tmp_path):
    """Choosing a face and moving an attribute slider change the image; pixels stay Keras's."""
    from selenium.webdriver.support.ui import Select

    rng = np.random.default_rng(3)
    faces = rng.random((6, 64, 64, 3)).astype("float32")
    faces[1] = 0.0  # a black face and a white one: their decodings surely differ
    faces[4] = 1.0
    vectors = {"Smiling": rng.normal(0, 1.5, 32), "Eyeglasses": rng.normal(0, 1.5, 32)}
    explorer = web.attribute_explorer(conv_model, faces, vectors, dims=[5, 3, 9], precision="float16")
    _open(browser, explorer.save(tmp_path / "attributes.html"))
    root = browser.find_element("css selector", ".vaecore-explorer")
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    assert root.get_attribute("data-error") is None
    assert int(root.get_attribute("data-check-error")) <= 2
    state = "const e = arguments[0].vaecore; return {face: e.face, s: e.strengths, o: e.offsets};"

    def page_matches_definition():
        now = browser.execute_script(state, root)
        z = np.asarray(json_z(), np.float32)
        offsets = dict(zip([5, 3, 9], now["o"], strict=True))
        np.testing.assert_allclose(z, web.compose_code(explorer.spec, now["face"], now["s"], offsets), atol=1e-5)
        return now

    def json_z():
        return browser.execute_script("return JSON.parse(arguments[0].getAttribute('data-z'))", root)

    first, error = _canvas_vs_keras(browser, root, conv_model)
    assert error <= 2
    assert page_matches_definition()["face"] == 0
    # an attribute slider
    strength = root.find_element("css selector", "input.vaecore-strength[data-direction='0']")
    _move_slider(browser, root, index=root.find_elements("css selector", "input[type=range]").index(strength))
    moved, error = _canvas_vs_keras(browser, root, conv_model)
    assert error <= 2, f"browser pixels differ from model.decode by {error}/255"
    assert np.abs(moved - first).max() > 0, "moving the attribute slider did not change the image"
    now = page_matches_definition()
    assert now["s"][0] > 0.3 and now["face"] == 0
    # another face from the list, then from its thumbnail
    Select(root.find_element("css selector", "select.vaecore-face-select")).select_by_index(4)
    white, error = _canvas_vs_keras(browser, root, conv_model)
    assert error <= 2 and np.abs(white - moved).max() > 0, "choosing a face did not change the image"
    assert page_matches_definition()["face"] == 4 and root.get_attribute("data-face") == "4"
    shown = browser.execute_script(PIXELS.replace("canvas.vaecore-decoded", "canvas.vaecore-original"), root)
    assert set(shown["rgba"]) == {255}, "the chosen face's picture is not face 4"
    root.find_element("css selector", "canvas.vaecore-face[data-face='1']").click()
    black, error = _canvas_vs_keras(browser, root, conv_model)
    assert error <= 2 and np.abs(black - white).max() > 0
    assert page_matches_definition()["face"] == 1
    # a latent offset slider adds to the face's code on its dim
    offset = root.find_element("css selector", "input.vaecore-offset[data-dim='3']")
    _move_slider(browser, root, index=root.find_elements("css selector", "input[type=range]").index(offset))
    _, error = _canvas_vs_keras(browser, root, conv_model)
    now = page_matches_definition()
    assert error <= 2 and now["o"][1] > 0.3 and now["s"][0] > 0.3
    refused = browser.execute_script("try { arguments[0].vaecore.setZ([]); } catch (e) { return String(e); }", root)
    assert "setFace" in refused, "setZ must not silently bypass the face and sliders"
    root.find_element("css selector", "button").click()  # Reset sliders: the plain reconstruction
    np.testing.assert_allclose(json_z(), explorer.spec["attributes"]["codes"][1], atol=1e-6)
    assert _remote_requests(browser) == []


def test_model_choice_menu_switches_decoders_and_keeps_the_edit(browser, conv_model, tmp_path):
    """A menu of two models: each decodes with its own weights; face and strengths carry over."""
    from selenium.webdriver.support.ui import Select

    other = build_vae(dict(conv_model.arch_def, name="b_conv64_other"), seed=7)
    rng = np.random.default_rng(5)
    last = [w for w in other.decoder.weights if len(w.shape) == 1][-1]  # untrained decoders all give grey:
    last.assign(rng.normal(0, 1.5, last.shape).astype("float32"))  # this one is tinted per channel
    faces = rng.random((4, 64, 64, 3)).astype("float32")
    vectors = {"Smiling": rng.normal(0, 1.5, 32), "Eyeglasses": rng.normal(0, 1.5, 32)}
    menu = web.model_choice({
        "first": web.attribute_explorer(conv_model, faces, vectors, dims=[1, 2], precision="float16"),
        "second": web.attribute_explorer(other, faces, vectors, dims=[3], precision="int8"),
    })  # fmt: skip
    _open(browser, menu.save(tmp_path / "menu.html"))
    _wait(browser, "return document.querySelector('.vaecore-choice').dataset.ready")
    choice = browser.find_element("css selector", ".vaecore-choice")
    assert choice.get_attribute("data-model") == "first"
    assert len(choice.find_elements("css selector", ".vaecore-explorer")) == 1, "built before it was chosen"
    first = choice.find_element("css selector", ".vaecore-explorer")
    assert int(first.get_attribute("data-check-error")) <= 2
    Select(first.find_element("css selector", "select.vaecore-face-select")).select_by_index(2)
    strength = first.find_element("css selector", "input.vaecore-strength[data-direction='1']")
    _move_slider(browser, first, index=first.find_elements("css selector", "input[type=range]").index(strength))
    offset = first.find_element("css selector", "input.vaecore-offset[data-dim='2']")
    _move_slider(browser, first, index=first.find_elements("css selector", "input[type=range]").index(offset))
    state = "return arguments[0].vaecore.getState();"
    edited = browser.execute_script(state, first)
    assert edited["face"] == 2 and edited["strengths"]["Eyeglasses"] > 0.3 and edited["offsets"]["2"] > 0.3

    Select(choice.find_element("css selector", "select.vaecore-model-select")).select_by_visible_text("second")
    assert choice.get_attribute("data-model") == "second" and not first.is_displayed()
    second = browser.find_element("css selector", ".vaecore-choice-item[data-model='second'] .vaecore-explorer")
    assert second.is_displayed() and second.get_attribute("data-error") is None
    assert int(second.get_attribute("data-check-error")) <= 4  # int8
    now = browser.execute_script(state, second)
    assert now["face"] == 2 and now["strengths"] == edited["strengths"], "the edit did not carry over"
    assert now["offsets"] == {"3": 0}, "latent offsets mean nothing in another model: they start at 0"
    z = browser.execute_script("return JSON.parse(arguments[0].getAttribute('data-z'))", second)
    np.testing.assert_allclose(z, web.compose_code(menu.explorers["second"].spec, 2, now["strengths"]), atol=1e-5)
    _, error = _canvas_vs_keras(browser, second, other)
    assert error <= 4, f"the second model's pixels differ from its Keras decode by {error}/255"
    _, error_first_model = _canvas_vs_keras(browser, second, conv_model)
    assert error_first_model > 8, "the second menu entry decodes with the first model's weights"
    Select(choice.find_element("css selector", "select.vaecore-model-select")).select_by_index(0)
    assert first.is_displayed() and len(choice.find_elements("css selector", ".vaecore-explorer")) == 2
    assert _remote_requests(browser) == []


# ------------------------------------------- explorers that explain themselves (issue 18)
HINT = "Slide z[1]: the <b>digit</b> leans & turns."


def _explained(dense_model, rng):
    z_ref = (3 * rng.normal(size=(400, 2))).astype("float32")  # reaching well past the +-3 sliders
    z_ref[0] = [1.25, -0.5]
    return z_ref, web.latent_explorer(
        dense_model, z_ref, rng.integers(0, 10, 400), hint=HINT, dim_labels={1: "slant"}, kl=[3.21, 0.5]
    )


def test_explorer_says_what_to_try_and_what_the_sliders_set(browser, dense_model, tmp_path):
    """Hint (escaped), labelled sliders with their KL, the readout of the slider values, the
    start at the first reference code and Reset back there, telemetry folded in a <details>."""
    z_ref, explorer = _explained(dense_model, np.random.default_rng(1))
    _open(browser, explorer.save(tmp_path / "explained.html"))
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    root = browser.find_element("css selector", ".vaecore-explorer")
    hint = root.find_element("css selector", ".vaecore-hint")
    assert hint.text == HINT and hint.find_elements("css selector", "b") == [], "the hint is not plain text"
    rows = [r.text for r in root.find_elements("css selector", ".vaecore-row")]
    assert "slant" in rows[1] and "KL 0.5" in rows[1] and "KL 3.2" in rows[0], rows
    # it opens on the first reference code (a real image's), and says so in the readout
    z = lambda: np.asarray(json_z(), np.float32)  # noqa: E731
    json_z = lambda: browser.execute_script("return JSON.parse(arguments[0].dataset.z)", root)  # noqa: E731
    np.testing.assert_allclose(z(), [1.25, -0.5], atol=1e-6)
    readout = root.find_element("css selector", ".vaecore-readout")
    assert readout.text == "z[0] = 1.25, z[1] (slant) = -0.50"
    # a slider move: the readout shows the value the slider set
    _move_slider(browser, root, index=1, presses=8)
    slider = root.find_elements("css selector", "input[type=range]")[1]
    value = float(slider.get_attribute("value"))
    assert value != -0.5 and abs(z()[1] - value) < 1e-6
    assert f"z[1] (slant) = {value:.2f}" in readout.text, readout.text
    _, error = _canvas_vs_keras(browser, root, dense_model)
    assert error <= 2
    # Reset: back to the first reference code
    next(b for b in root.find_elements("css selector", "button") if b.text == "Reset").click()
    np.testing.assert_allclose(z(), [1.25, -0.5], atol=1e-6)
    assert readout.text == "z[0] = 1.25, z[1] (slant) = -0.50"
    # developer telemetry: in a closed <details>, still in the page for the tests
    details = root.find_element("css selector", "details.vaecore-details")
    assert details.get_attribute("open") is None
    for selector in (".vaecore-check", ".vaecore-timing", ".vaecore-note"):
        part = root.find_element("css selector", selector)
        assert browser.execute_script("return arguments[0].closest('details') === arguments[1]", part, details)
        assert not part.is_displayed()
    assert int(root.get_attribute("data-check-error")) <= 2
    outside = browser.execute_script(
        "return Array.from(arguments[0].querySelectorAll('*')).filter(e => !e.closest('details'))"
        ".map(e => e.textContent).join(' ')", root)  # fmt: skip
    assert "ms" not in outside.split() and "Keras" not in outside and "WebExplorer" not in outside
    details.find_element("css selector", "summary").click()
    check = root.find_element("css selector", ".vaecore-check").text
    assert re.search(r"matches the Keras decoder within \d+/255", check)
    assert re.search(r"Decoded in [\d.]+ ms", root.find_element("css selector", ".vaecore-timing").text)
    note = root.find_element("css selector", ".vaecore-note").text
    assert "WebExplorer(latent=2" in note and f"NumPy runtime vs Keras on the check codes: {explorer.check_error}/255" in note
    assert _remote_requests(browser) == []


def test_map_click_stays_inside_the_slider_range(browser, dense_model, tmp_path):
    """A click far out on the map (codes reach +-9, sliders +-3) moves z to the range's edge."""
    from selenium.webdriver.common.action_chains import ActionChains

    _, explorer = _explained(dense_model, np.random.default_rng(1))
    lo, hi = explorer.spec["map"]["lo"], explorer.spec["map"]["hi"]
    assert min(lo) < -4 and max(hi) > 4, "the test needs a map wider than the sliders"
    _open(browser, explorer.save(tmp_path / "map.html"))
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    root = browser.find_element("css selector", ".vaecore-explorer")
    cv = root.find_element("css selector", "canvas.vaecore-map")
    sliders = root.find_elements("css selector", "input[type=range]")
    limits = explorer.spec["limits"]
    readout = root.find_element("css selector", ".vaecore-readout")
    size = cv.size  # (CSS px; the canvas is 360 x 320, drawn at that size)

    def at(v0, v1):  # the canvas point of code (v0, v1), as the page maps it
        return (30 + (v0 - lo[0]) / (hi[0] - lo[0]) * 320) * size["width"] / 360, (
            10 + (hi[1] - v1) / (hi[1] - lo[1]) * 280) * size["height"] / 320  # fmt: skip

    seen = []
    for x, y in [at(-8, 8), at(8.5, -7), at(0, 0), at(1.0, -1.0)]:  # far out, then inside
        ActionChains(browser).move_to_element_with_offset(
            cv, int(x - size["width"] / 2), int(y - size["height"] / 2)
        ).click().perform()
        _settle(browser, root)
        z = browser.execute_script("return JSON.parse(arguments[0].dataset.z)", root)
        for j, s in enumerate(sliders):
            assert -limits[j] - 1e-6 <= z[j] <= limits[j] + 1e-6, f"map click set z[{j}] = {z[j]}"
            assert abs(float(s.get_attribute("value")) - z[j]) < 1e-6, "the thumb does not show the value"
        assert readout.text == f"z[0] = {z[0]:.2f}, z[1] (slant) = {z[1]:.2f}"
        seen.append(z)
    assert seen[0] == [-limits[0], limits[1]] and seen[1] == [limits[0], -limits[1]], "not clamped to the edge"
    np.testing.assert_allclose(z, [1.0, -1.0], atol=0.15)  # the last click, inside the range


DRAG = """
const done = arguments[arguments.length - 1], root = arguments[0], e = root.vaecore;
const slider = root.querySelector('input[type=range]'), before = e.updates;
for (let i = 0; i < 50; i++) { slider.value = -2 + 0.05 * i; slider.dispatchEvent(new Event('input', {bubbles: true})); }
const burst = e.updates - before;  // 50 events in one task: nothing decoded yet
let frames = 0, events = 50;
const count = () => { frames++; if (frames < 30) requestAnimationFrame(count); };
requestAnimationFrame(count);
const timer = setInterval(() => {
  slider.value = -2 + 0.01 * (events++ % 400); slider.dispatchEvent(new Event('input', {bubbles: true}));
  if (frames >= 30) { clearInterval(timer);
    requestAnimationFrame(() => done({burst: burst, frames: frames, events: events, updates: e.updates - before,
                                      z: e.z[e.spec.dims[0]], value: +slider.value})); }
}, 2);
"""


def test_a_drag_decodes_at_most_once_per_animation_frame(browser, conv_model, tmp_path):
    """Many input events per frame, one decode per frame (benchmarks/web_explorer.py times it)."""
    explorer = web.latent_explorer(conv_model, precision="float16")
    _open(browser, explorer.save(tmp_path / "drag.html"))
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    root = browser.find_element("css selector", ".vaecore-explorer")
    got = browser.execute_async_script(DRAG, root)
    assert got["burst"] == 0, "input events decoded at once instead of on the next frame"
    assert 1 <= got["updates"] <= got["frames"] + 2, got
    assert got["events"] > got["updates"], got
    assert abs(got["z"] - got["value"]) < 1e-6  # the last value set is the one shown
    _settle(browser, root)
    _, error = _canvas_vs_keras(browser, root, conv_model)
    assert error <= 2


@pytest.fixture(scope="module")
def cvae_digits():
    """A conditional dense VAE on 28 x 28 digits, its condition weights made large (untrained,
    every class would otherwise decode to nearly the same grey)."""
    from vaecore.conditional import build_cvae

    model = build_cvae({"input": (28, 28, 1), "latent": 2, "hidden": [64], "name": "b_cvae", "condition": 10}, seed=0)
    first = model.decoder.get_layer("hidden_0")
    kernel, bias = first.get_weights()
    kernel[2:] = np.random.default_rng(0).normal(0, 2.0, kernel[2:].shape)  # rows of the 10 condition inputs
    first.set_weights([kernel, bias])
    return model


def test_conditional_explorer_class_buttons_decode_the_chosen_class(browser, cvae_digits, tmp_path):
    """A conditional VAE's explorer: a row of buttons with the class names beside the sliders;
    a click on another class decodes the same code under it (Keras's image of it), the button
    shows pressed, the readout names the class; a slider move keeps the class."""
    from selenium.webdriver.common.action_chains import ActionChains

    rng = np.random.default_rng(1)
    z_ref = rng.normal(size=(200, 2)).astype("float32")
    labels = rng.integers(0, 10, 200)
    labels[0] = 3  # the page opens on z_ref[0], under its class
    explorer = web.latent_explorer(cvae_digits, z_ref, labels, condition_label="digit", draw=True)
    _open(browser, explorer.save(tmp_path / "cvae.html"))
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    root = browser.find_element("css selector", ".vaecore-explorer")
    assert root.get_attribute("data-error") is None
    assert int(root.get_attribute("data-check-error")) <= 2  # its check codes carry their classes
    buttons = root.find_elements("css selector", ".vaecore-condition button.vaecore-class")
    assert [b.text for b in buttons] == [str(k) for k in range(10)]
    pressed = lambda: [b.text for b in buttons if b.get_attribute("aria-pressed") == "true"]  # noqa: E731
    readout = root.find_element("css selector", ".vaecore-readout")
    assert pressed() == ["3"] and root.get_attribute("data-class") == "3"
    assert readout.text.startswith("digit 3; z[0] = "), readout.text
    three, error = _canvas_vs_keras(browser, root, cvae_digits)
    assert error <= 2
    z = root.get_attribute("data-z")
    buttons[7].click()
    _settle(browser, root)
    seven, error = _canvas_vs_keras(browser, root, cvae_digits)
    assert error <= 2, f"class 7: browser pixels differ from Keras by {error}/255"
    assert np.abs(seven.astype(int) - three).max() > 10, "choosing another class did not change the image"
    assert root.get_attribute("data-z") == z, "the class changed the code"
    assert pressed() == ["7"] and root.get_attribute("data-class") == "7"
    assert json.loads(root.get_attribute("data-condition")) == [float(k == 7) for k in range(10)]
    assert readout.text.startswith("digit 7; z[0] = "), readout.text
    # clicks on many classes within one frame: one decode, of the last one
    got = browser.execute_script(
        "const e = arguments[0].vaecore, before = e.updates;"
        "for (const b of arguments[0].querySelectorAll('button.vaecore-class')) b.click();"
        "arguments[1].click(); return {burst: e.updates - before, before: before};", root, buttons[7])  # fmt: skip
    assert got["burst"] == 0, "a class click decoded at once instead of on the next frame"
    _settle(browser, root)
    assert browser.execute_script("return arguments[0].vaecore.updates", root) == got["before"] + 1
    assert pressed() == ["7"] and _canvas_vs_keras(browser, root, cvae_digits)[0].tolist() == seven.tolist()
    # a slider move keeps the class
    _move_slider(browser, root, index=0, presses=10)
    moved, error = _canvas_vs_keras(browser, root, cvae_digits)
    assert error <= 2 and np.abs(moved.astype(int) - seven).max() > 0
    assert readout.text.startswith("digit 7; ") and pressed() == ["7"]
    # the drawing pad's encoder runs under the chosen class too
    pad = root.find_element("css selector", "canvas.vaecore-pad")
    ActionChains(browser).move_to_element_with_offset(pad, -30, -60).click_and_hold().move_by_offset(
        10, 60
    ).release().perform()
    drawn = _wait(browser, "return document.querySelector('.vaecore-explorer').getAttribute('data-drawn-z')")
    pad_input = np.asarray(browser.execute_script("return arguments[0].vaecore.padInput", root), np.float32)
    keras_z = np.asarray(cvae_digits.encode(pad_input.reshape(1, 28, 28, 1), np.asarray([7]))[0])[0]
    np.testing.assert_allclose(json.loads(drawn), keras_z, atol=0.02)
    assert _remote_requests(browser) == [] and _console_errors(browser) == []


def test_conditional_explorer_attribute_checkboxes(browser, tmp_path):
    """Binary attributes: one checkbox per attribute, named; ticking one decodes under it."""
    from vaecore.conditional import build_cvae

    model = build_cvae({"input": (16, 16, 3), "latent": 4, "encode": [(6, 3, 2)], "name": "b_cvae_attr",
                        "condition": {"binary": ["Smiling", "Eyeglasses", "Male"]}}, seed=2)  # fmt: skip
    project = model.decoder.get_layer("project")  # [z, condition] -> the first feature map
    kernel, bias = project.get_weights()
    kernel[-3:] = np.random.default_rng(2).normal(0, 3.0, kernel[-3:].shape)  # the 3 attribute inputs
    project.set_weights([kernel, bias])
    explorer = web.latent_explorer(model, condition=["Eyeglasses"])
    _open(browser, explorer.save(tmp_path / "cvae_attr.html"))
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    root = browser.find_element("css selector", ".vaecore-explorer")
    assert int(root.get_attribute("data-check-error")) <= 2
    labels = root.find_elements("css selector", ".vaecore-condition label.vaecore-attr")
    assert [label.text for label in labels] == ["Smiling", "Eyeglasses", "Male"]
    boxes = root.find_elements("css selector", ".vaecore-condition input[type=checkbox]")
    assert [b.is_selected() for b in boxes] == [False, True, False]
    readout = root.find_element("css selector", ".vaecore-readout")
    assert readout.text.startswith("attributes: Eyeglasses; z[0] = ")
    before, error = _canvas_vs_keras(browser, root, model)
    assert error <= 2
    labels[2].click()  # the label's text ticks its box
    _settle(browser, root)
    after, error = _canvas_vs_keras(browser, root, model)
    assert error <= 2 and np.abs(after.astype(int) - before).max() > 10
    assert [b.is_selected() for b in boxes] == [False, True, True]
    assert json.loads(root.get_attribute("data-condition")) == [0, 1, 1]
    assert readout.text.startswith("attributes: Eyeglasses, Male; ")
    assert _console_errors(browser) == []


def test_conditional_explorer_menu_for_many_classes(browser, tmp_path):
    """More than 16 classes: a menu of the class names instead of a row of buttons."""
    from selenium.webdriver.support.ui import Select

    from vaecore.conditional import build_cvae

    names = [f"class {k}" for k in range(20)]
    model = build_cvae({"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "b_cvae_many",
                        "condition": {"classes": names}}, seed=4)  # fmt: skip
    first = model.decoder.get_layer("hidden_0")
    kernel, bias = first.get_weights()
    kernel[2:] = np.random.default_rng(4).normal(0, 2.0, kernel[2:].shape)
    first.set_weights([kernel, bias])
    _open(browser, web.latent_explorer(model, condition="class 5").save(tmp_path / "many.html"))
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    root = browser.find_element("css selector", ".vaecore-explorer")
    assert root.find_elements("css selector", "button.vaecore-class") == []
    menu = Select(root.find_element("css selector", ".vaecore-condition select.vaecore-class-select"))
    assert [o.text for o in menu.options] == names and menu.first_selected_option.text == "class 5"
    before, error = _canvas_vs_keras(browser, root, model)
    assert error <= 2 and root.get_attribute("data-class") == "class 5"
    menu.select_by_visible_text("class 17")
    _settle(browser, root)
    after, error = _canvas_vs_keras(browser, root, model)
    assert error <= 2 and np.abs(after.astype(int) - before).max() > 0
    assert root.get_attribute("data-class") == "class 17"
    assert root.find_element("css selector", ".vaecore-readout").text.startswith("class 17; z[0] = ")


def test_explorer_follows_a_dark_theme(browser, dense_model, conv_model, cvae_digits, tmp_path):
    """On a page with the book theme's dark colours every explorer text has contrast >= 4.5."""
    rng = np.random.default_rng(2)
    _, latent = _explained(dense_model, rng)
    faces = rng.random((8, 64, 64, 3)).astype("float32")
    vectors = {"Smiling": rng.normal(0, 1.5, 32)}
    menu = web.model_choice(
        {f"beta {b}": web.attribute_explorer(conv_model, faces, vectors, dims=[1, 2], title=f"beta = {b}",
                                             precision="float16") for b in (1, 2)},
        label="beta", hint="Pick a face, then slide Smiling.",
    )  # fmt: skip
    conditional = web.latent_explorer(cvae_digits, condition=4, condition_label="digit")  # class buttons
    theme = (
        "<style>html[data-theme=dark] { --pst-color-text-base: #ced6dd; --pst-color-text-muted: #9ca4af;"
        " --pst-color-background: #121212; --pst-color-surface: #29313d; --pst-color-border: #48566b;"
        " --pst-color-primary: #76c5f9; } html[data-theme=dark] body { background: #121212; color: #ced6dd; }"
        "</style>"
    )
    page = tmp_path / "dark.html"
    page.write_text(
        f'<!doctype html><html data-theme="dark"><head><meta charset="utf-8">{theme}</head>'
        f"<body>{latent.html()}\n{menu.html()}\n{conditional.html()}</body></html>",
        encoding="utf-8",
    )
    _open(browser, page)
    _wait(browser, "return document.querySelectorAll('.vaecore-explorer[data-ready], .vaecore-choice[data-ready]').length >= 4")
    labels = browser.execute_script(CONTRAST)
    assert len(labels) >= 10
    poor = [label for label in labels if label["ratio"] < 4.5]
    assert poor == [], f"text below 4.5:1 contrast in dark mode: {poor[:5]}"
    assert {"digit 4", "Digit"} <= {label["text"][:7] for label in labels}, "the class selector's text was not checked"
    browser.execute_script("document.documentElement.removeAttribute('data-theme')")  # and in light mode
    poor = [label for label in browser.execute_script(CONTRAST) if label["ratio"] < 4.5]
    assert poor == [], f"text below 4.5:1 contrast in light mode: {poor[:5]}"
    # the menu names each model once ("beta: 1"), and no explorer repeats it in a title
    choice = browser.find_element("css selector", ".vaecore-choice")
    options = [o.text for o in choice.find_elements("css selector", "select.vaecore-model-select option")]
    assert options == ["1", "2"]
    assert "beta = 1" not in choice.text and choice.find_element("css selector", ".vaecore-hint").text.startswith("Pick")
    # face thumbnails large enough to recognise
    widths = [t.size["width"] for t in choice.find_elements("css selector", "canvas.vaecore-face") if t.is_displayed()]
    assert len(widths) == 8 and min(widths) >= 96


# --------------------------------------------------------------------- the built book
def _chapter_pages() -> list[Path]:
    return sorted((BUILD / "book").glob("*.html")) if BUILD.is_dir() else []


REMOTE_ASSET = re.compile(
    r'<(?:script|img|link|source|iframe|video|audio|embed)\b[^>]*\b(?:src|href)\s*=\s*"https?://',
    flags=re.I,
)


def test_built_pages_reference_no_remote_assets():
    """No script, stylesheet, image or font of the built book points at http(s)."""
    _need(BUILD.is_dir(), "the book is not built (run the README's first command)")
    pages = list(BUILD.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        match = REMOTE_ASSET.search(text)
        assert match is None, f"{page.relative_to(BUILD)}: {text[match.start():match.start() + 160]}"
        assert "cdn.plot.ly" not in text and "cdn.jsdelivr.net" not in text, page
    for css in (BUILD / "_static").rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"url\(\s*['\"]?https?://", text), css


# (page sizes: tests/test_pages.py checks the budget of benchmarks/page_sizes.py on every page)


@pytest.mark.parametrize("page", [p.name for p in _chapter_pages()] or ["(not built)"])
def test_built_page_offline(browser, page):
    _need(BUILD.is_dir(), "the book is not built (run the README's first command)")
    path = BUILD / "book" / page
    _console_errors(browser)  # (drains what earlier pages logged)
    _open(browser, path)
    html = path.read_text(encoding="utf-8")
    if 'class="math' in html:  # every formula typeset: no span/div.math left without MathJax output
        _wait(browser, "return document.querySelectorAll('mjx-container').length > 0")
        _wait(browser, "return document.querySelectorAll('.math:not(:has(mjx-container))').length"
              " === 0 || null")  # fmt: skip
    plots = html.count('class="plotly-graph-div')
    if plots:
        drawn = _wait(
            browser,
            "const p = document.querySelectorAll('.js-plotly-plot');"
            "return p.length && Array.from(p).every(e => e.data.length && !e.querySelector("
            "'.no-webgl') && e.querySelector('.gl-container canvas, .scatterlayer .point'))"
            " && p.length",
        )
        assert drawn == plots
    explorers = browser.find_elements("css selector", ".vaecore-explorer")
    for root in explorers:
        browser.execute_script("arguments[0].scrollIntoView()", root)
        _wait(browser, "return document.querySelectorAll('.vaecore-explorer[data-ready]').length"
              f" >= {len(explorers)}")  # fmt: skip
        assert root.get_attribute("data-error") is None
        worst = int(root.get_attribute("data-check-error"))
        precision = browser.execute_script("return arguments[0].vaecore.spec.precision", root)
        assert worst <= (4 if precision == "int8" else 2), f"{page}: {worst}/255 from Keras"
        before = browser.execute_script(PIXELS, root)["rgba"]
        _move_slider(browser, root)
        after = browser.execute_script(PIXELS, root)
        assert after["rgba"] != before, "slider did nothing"
        # the new image is the embedded decoder's (whose distance from Keras the check gave)
        spec = browser.execute_script("return arguments[0].vaecore.spec.decoder", root)
        h, w, c = spec["output_shape"]
        shown = root.get_attribute("data-condition")  # a conditional VAE's: the one the page shows
        condition = None if shown is None else json.loads(shown)
        mine = 1 / (1 + np.exp(-web.run_network(spec, after["z"], condition=condition).reshape(h, w, c)))
        rgba = np.asarray(after["rgba"], np.int16).reshape(h, w, 4)
        canvas = rgba[..., :1] if c == 1 else rgba[..., :3]
        assert np.abs(canvas - np.round(np.clip(mine, 0, 1) * 255)).max() <= 1
    for choice in browser.find_elements("css selector", ".vaecore-choice"):
        browser.execute_script("arguments[0].scrollIntoView()", choice)
        names = browser.execute_script("return arguments[0].vaecore.spec.names", choice)
        for k, name in enumerate(names):
            explorer = browser.execute_script("return arguments[0].vaecore.show(arguments[1]).root", choice, k)
            assert explorer.is_displayed() and explorer.get_attribute("data-error") is None, (page, name)
            worst = int(explorer.get_attribute("data-check-error"))
            precision = browser.execute_script("return arguments[0].vaecore.spec.precision", explorer)
            assert worst <= (4 if precision == "int8" else 2), f"{page}, {name}: {worst}/255 from Keras"
    assert _remote_requests(browser) == [], f"{page} reached for the network"
    assert _console_errors(browser) == [], f"{page} logged errors"


# ------------------------------------------------ the built book as a reader meets it
# (navigation, light and dark mode, phone width; the styles are _ext/static/book.css and
# the theme fixes _ext/book_theme.py)
def _viewport(driver, width: int, height: int = 900) -> None:
    """A browser window ``width`` CSS px wide (a narrow one is a phone to the theme's CSS)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _color_scheme(driver, scheme: str) -> None:
    """The system's light or dark setting, as ``prefers-color-scheme`` reports it."""
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )


@pytest.fixture
def reader(browser):
    """The shared browser, put back to the 1400 px light window the other tests expect."""
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    _color_scheme(browser, "light")


def _wait_typeset(driver, html: str) -> None:
    if 'class="math' in html:
        _wait(driver, "return document.querySelectorAll('mjx-container').length > 0")
        _wait(driver, "return document.querySelectorAll('.math:not(:has(mjx-container))').length === 0 || null")


VISIBLE = "e => !!e && e.checkVisibility({visibilityProperty: true}) && e.getBoundingClientRect().width > 0"


def _visible(driver, selector: str) -> list:
    return driver.execute_script(
        f"const vis = {VISIBLE}; return Array.from(document.querySelectorAll(arguments[0])).filter(vis)",
        selector,
    )


@pytest.mark.parametrize("width", [1400, 400])
def test_sidebar_toggles_open_and_close(reader, width):
    """The visible ☰ opens and closes the chapter list; the page-contents toggle its contents.

    At 1400 px the chapter list is a sidebar that the toggle hides and shows again; at 400 px
    (a phone) it is hidden, and the toggle opens it as a dialog that Escape closes. Every
    toggle and search box in the page is a visible one: no hidden duplicate for the theme's
    script to bind to instead.
    """
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _need(BUILD.is_dir(), "the book is not built (run the README's first command)")
    _viewport(reader, width)
    _open(reader, BUILD / "book" / "02_theory.html")
    _wait(reader, "return document.readyState === 'complete'")
    for selector in (".primary-toggle", ".secondary-toggle"):  # (the theme binds the first one)
        assert len(reader.find_elements("css selector", selector)) <= 1, f"duplicate {selector}s"
    assert len(_visible(reader, ".search-button-field")) <= 1, "two search boxes"
    chapters = "#pst-primary-sidebar .bd-links a, #pst-primary-sidebar-modal .bd-links a"
    toggle = _visible(reader, ".primary-toggle")
    assert len(toggle) == 1, "no visible sidebar toggle"
    modal = "return document.getElementById(arguments[0]).open"

    def escape():
        ActionChains(reader).send_keys(Keys.ESCAPE).perform()
        time.sleep(0.3)

    if width >= 992:  # the theme's wide layout: a sidebar beside the article
        assert len(_visible(reader, chapters)) >= 8, "the chapter list is not shown"
        toggle[0].click()
        _wait(reader, f"return !({VISIBLE})(document.getElementById('pst-primary-sidebar'))")
        assert _visible(reader, chapters) == [], "the toggle did not hide the sidebar"
        toggle[0].click()
        _wait(reader, f"return ({VISIBLE})(document.getElementById('pst-primary-sidebar'))")
        assert len(_visible(reader, chapters)) >= 8, "the toggle did not show the sidebar again"
    else:
        assert _visible(reader, chapters) == [], "the phone layout shows the sidebar unasked"
        toggle[0].click()
        _wait(reader, modal.replace("arguments[0]", "'pst-primary-sidebar-modal'"))
        links = _visible(reader, chapters)
        assert len(links) >= 8, "the toggle opened no chapter list"
        escape()
        assert not reader.execute_script(modal, "pst-primary-sidebar-modal"), "Escape did not close it"
        assert _visible(reader, chapters) == []
        # the page's contents
        contents = _visible(reader, ".secondary-toggle")
        assert len(contents) == 1, "no visible page-contents toggle"
        contents[0].click()
        _wait(reader, modal.replace("arguments[0]", "'pst-secondary-sidebar-modal'"))
        assert len(_visible(reader, "#pst-secondary-sidebar-modal .toc-entry a")) >= 5
        escape()
        assert not reader.execute_script(modal, "pst-secondary-sidebar-modal")
    assert _console_errors(reader) == []


ICONS = """
return Array.from(document.querySelectorAll('.article-header-buttons [class*="fa-"], .theme-switch-button [class*="fa-"]'))
  .filter(e => e.checkVisibility({visibilityProperty: true}))
  .map(e => ({cls: e.className, tag: e.tagName, w: e.getBoundingClientRect().width,
              font: getComputedStyle(e).fontFamily, glyph: getComputedStyle(e, '::before').content}));
"""


def test_header_icons_are_drawn_by_the_theme_font(reader):
    """The header's icons show without Font Awesome's script (a stub in the book): the font draws them."""
    _need(BUILD.is_dir(), "the book is not built (run the README's first command)")
    _open(reader, BUILD / "book" / "intro.html")
    _wait(reader, "return document.readyState === 'complete' && document.fonts.status === 'loaded'")
    icons = reader.execute_script(ICONS)
    assert len(icons) >= 4, f"too few header icons: {icons}"
    loaded = "return Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family)"
    assert any("Font Awesome" in family for family in reader.execute_script(loaded)), "no icon font loaded"
    for icon in icons:
        assert icon["tag"] == "I" and "Font Awesome" in icon["font"], icon
        assert icon["w"] >= 8 and icon["glyph"] not in ("none", "normal", '""'), f"icon not drawn: {icon}"
    assert _console_errors(reader) == []


OVERFLOW = """
const W = document.documentElement.clientWidth, bad = [];
const scroller = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
  const s = getComputedStyle(p);
  if (s.overflowX !== 'visible' && p.getBoundingClientRect().right <= W + 1) return true; } return false; };
for (const e of document.querySelectorAll('.bd-article *')) {
  const r = e.getBoundingClientRect();
  if (r.width && (r.right > W + 1 || r.left < -1) && !scroller(e))
    bad.push(`${e.tagName.toLowerCase()}.${e.className} (${Math.round(r.left)}..${Math.round(r.right)} px): `
             + (e.textContent || '').trim().slice(0, 60));
}
const article = document.querySelector('.bd-article-container');
const sideways = Array.from(document.querySelectorAll('.bd-article div.cell_output pre'))
  .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => (p.textContent || '').trim().slice(0, 60));
return {page: document.documentElement.scrollWidth, window: W, innerWidth: window.innerWidth,
        article: article.scrollWidth - article.clientWidth, bad: bad.slice(0, 5), sideways: sideways.slice(0, 5)};
"""


CONTRAST = """
const parse = c => { const m = c.match(/rgba?\\(([^)]*)\\)/); if (!m) return null;
  const v = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
const background = e => { const layers = [];
  for (let p = e; p; p = p.parentElement) { const c = parse(getComputedStyle(p).backgroundColor);
    if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
  return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255, 1]); };
const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const out = [];
for (const root of document.querySelectorAll('.vaecore-explorer, .vaecore-choice')) {
  for (const e of root.querySelectorAll('*')) {
    const own = Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!own || own === '\u25CF' || e.closest('option, script, style') || !e.checkVisibility({visibilityProperty: true})) continue;
    const bg = background(e), fg = over(parse(getComputedStyle(e).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({text: own.slice(0, 40), ratio: (a + 0.05) / (b + 0.05), fg: fg.map(Math.round), bg: bg.map(Math.round)});
  }
}
return out;
"""


def test_explorers_of_this_runtime_in_the_book_theme(reader, dense_model, conv_model, tmp_path):
    """Today's explorers (the built pages hold the runtime their notebooks ran with) put into a
    built page's theme: readable in dark and light mode, and no wider than the column or a phone."""
    _need(BUILD.is_dir(), "the book is not built (run the README's first command)")
    rng = np.random.default_rng(4)
    _, latent = _explained(dense_model, rng)
    faces = rng.random((8, 64, 64, 3)).astype("float32")
    menu = web.model_choice(
        {f"beta {b}": web.attribute_explorer(conv_model, faces, {"Smiling": rng.normal(0, 1.5, 32)}, dims=[1, 2],
                                             precision="float16") for b in (1, 2)}, label="beta", hint="Pick a face.",
    )  # fmt: skip
    src = (BUILD / "book" / "02_theory.html").read_text(encoding="utf-8")
    src = src.replace("<head>", f'<head><base href="{(BUILD / "book").resolve().as_uri()}/">', 1)
    at = src.index('<article class="bd-article">') + len('<article class="bd-article">')
    page = tmp_path / "themed.html"
    page.write_text(src[:at] + latent.html() + menu.html() + src[at:], encoding="utf-8")
    _color_scheme(reader, "dark")
    _open(reader, page)
    _wait(reader, "return document.querySelectorAll('.vaecore-explorer[data-ready], .vaecore-choice[data-ready]').length >= 3")
    for scheme in ("dark", "light"):
        _color_scheme(reader, scheme)
        _wait(reader, f"return document.documentElement.dataset.theme === '{scheme}'")
        labels = reader.execute_script(CONTRAST)
        assert len(labels) >= 20
        poor = [label for label in labels if label["ratio"] < 4.5]
        assert poor == [], f"{scheme} mode: explorer text below 4.5:1 contrast: {poor[:5]}"
    for width in (1400, 400):
        _viewport(reader, width)
        time.sleep(0.2)
        got = reader.execute_script(OVERFLOW)
        assert got["page"] <= got["window"] and got["bad"] == [], f"at {width} px: {got}"


@pytest.mark.parametrize("page", [p.name for p in _chapter_pages()] or ["(not built)"])
def test_built_page_fits_the_screen_and_follows_dark_mode(reader, page):
    """One visit per page (they are large), two checks.

    * Wide content scrolls inside its own box, never the page: at 400 px (a phone) the page
      is no wider than the window, and at 1400 px nothing in the main column is wider than it.
      Printed output does not even scroll in its box: its long lines wrap, at both widths.
    * The page follows the system's dark setting, and every explorer's text has a WCAG
      contrast ratio of at least 4.5 against the background it is drawn on, dark and light.
    """
    _need(BUILD.is_dir(), "the book is not built (run the README's first command)")
    path = BUILD / "book" / page
    _color_scheme(reader, "dark")
    _viewport(reader, 400)
    _open(reader, path)
    _wait_typeset(reader, path.read_text(encoding="utf-8"))
    for width in (400, 1400):
        _viewport(reader, width)
        time.sleep(0.2)
        got = reader.execute_script(OVERFLOW)
        assert got["innerWidth"] == width
        assert got["page"] <= got["window"], f"{page} at {width} px is {got['page']} px wide: {got['bad']}"
        assert got["article"] <= 1 and got["bad"] == [], f"{page} at {width} px: {got}"
        assert got["sideways"] == [], f"{page} at {width} px: printed output that scrolls sideways: {got['sideways']}"
    n = len(reader.find_elements("css selector", ".vaecore-explorer, .vaecore-choice"))
    ready = ".vaecore-explorer[data-ready], .vaecore-choice[data-ready]"
    _wait(reader, f"return document.querySelectorAll('{ready}').length >= {n}")
    for scheme in ("dark", "light"):
        _color_scheme(reader, scheme)
        _wait(reader, f"return document.documentElement.dataset.theme === '{scheme}'")
        if n:
            labels = reader.execute_script(CONTRAST)
            assert len(labels) >= 3, f"{page}: no explorer text found"
            poor = [label for label in labels if label["ratio"] < 4.5]
            assert poor == [], f"{page}, {scheme} mode: text below 4.5:1 contrast: {poor[:5]}"


def test_vq_explorer_cell_and_entry(browser, tmp_path):
    """A VQ-VAE's explorer: a click chooses a cell of the code grid, the slider another codebook
    entry, and the page decodes the new grid as NumPy (``web.decode_grid``) and Keras do."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    from vaecore.vq import build_vqvae

    arch = {"input": (32, 32, 3), "encode": [(16, 3, 2), (32, 3, 2)], "latent": (8, 8, 8),
            "codebook": {"size": 32}, "name": "b_vq"}  # fmt: skip
    model = build_vqvae(arch, likelihood="discretized_logistic", seed=0)
    model.quantizer.codebook.assign(np.random.default_rng(0).normal(0, 1.5, (32, 8)).astype("float32"))
    image = np.random.default_rng(1).random((32, 32, 3)).astype("float32")
    explorer = web.vq_explorer(model, image, precision="float16", hint="Click a cell, then pick an entry.")
    _open(browser, explorer.save(tmp_path / "vq.html"))
    root = browser.find_element("css selector", ".vaecore-explorer")
    _wait(browser, "return document.querySelector('.vaecore-explorer').dataset.ready")
    assert root.get_attribute("data-error") is None and int(root.get_attribute("data-check-error")) <= 2
    assert json.loads(root.get_attribute("data-grid")) == explorer.spec["vq"]["indices"]
    before = browser.execute_script(PIXELS, root)["rgba"]

    grid = root.find_element("css selector", "canvas.vaecore-grid")
    size = grid.size  # click the centre of cell (row 2, column 5) of the 8 x 8 grid
    dx, dy = (5.5 / 8 - 0.5) * size["width"], (2.5 / 8 - 0.5) * size["height"]
    ActionChains(browser).move_to_element_with_offset(grid, dx, dy).click().perform()
    assert root.get_attribute("data-cell") == str(2 * 8 + 5)
    entry = root.find_element("css selector", "input.vaecore-entry")
    start = explorer.spec["vq"]["indices"][2 * 8 + 5]
    assert int(entry.get_attribute("value")) == start
    key = Keys.ARROW_RIGHT if start < 16 else Keys.ARROW_LEFT
    for _ in range(7):
        entry.send_keys(key)
    _settle(browser, root)
    shown = json.loads(root.get_attribute("data-grid"))
    assert shown[2 * 8 + 5] == start + (7 if start < 16 else -7)
    assert sum(a != b for a, b in zip(shown, explorer.spec["vq"]["indices"], strict=True)) == 1
    assert "row 2, column 5" in root.find_element("css selector", ".vaecore-readout").text

    after = browser.execute_script(PIXELS, root)
    assert after["rgba"] != before, "a new codebook entry did not change the image"
    canvas = np.asarray(after["rgba"], np.int16).reshape(32, 32, 4)[..., :3]
    mine = np.round(np.clip(web.decode_grid(explorer.spec, np.asarray(shown)), 0, 1) * 255)
    assert np.abs(canvas - mine).max() <= 1, "the page's pixels differ from the NumPy runtime"
    keras_image = np.asarray(model.decode_indices(np.asarray(shown, np.int32).reshape(1, 8, 8)))[0]
    assert np.abs(canvas - np.round(np.clip(keras_image, 0, 1) * 255)).max() <= 2
    np.testing.assert_array_equal(np.asarray(after["z"], np.float32), web.grid_code(explorer.spec, shown))
    root.find_element("css selector", "button[title^='Back']").click()  # Reset: the test image's codes
    assert json.loads(root.get_attribute("data-grid")) == explorer.spec["vq"]["indices"]
    assert _remote_requests(browser) == [] and _console_errors(browser) == []
