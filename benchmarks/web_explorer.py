"""In-page explorers: updates per second while a slider is dragged, decode time, bytes, error vs Keras.

For each explorer kind of the book (each chapter's decoder, at the chapter's size): the explorer
HTML (runtime + weights + map codes) is saved as a page and opened in headless Chromium with the
network off, once per runtime backend:

* ``wasm``: the runtime's default, every layer as matrix products in its WebAssembly SIMD kernel
  (``kernel``: ``simd-fma`` where the browser has relaxed SIMD's fused multiply-add, as
  Chromium does, else ``simd``);
* ``js``: the plain JavaScript loops (the runtime before issue 18's speed-up, and its fallback
  where a browser has no WebAssembly SIMD).

In each, the page decodes ``--reps`` codes (median time, canvas paint excluded), then a slider
is **dragged** for ``--drag`` seconds: an ``input`` event every 4 ms (more often than a mouse
sends them), as a reader's drag delivers them; the explorer decodes at most once per animation
frame, and the updates shown per second (decode + paint + readout) are counted. Finally 8 prior
draws are shown and their canvas pixels compared with Keras's ``model.decode`` (8 bits).

    .venv/bin/python benchmarks/web_explorer.py --json benchmarks/results/web_explorer.json

Models: each chapter's explorer model, trained, from book/runs when it is there; else a fresh
initialisation of the chapter's architecture (the speed does not depend on the weights' values,
and neither do the bytes much). Timings are recorded here, never asserted by the tests: on a
shared 2-core machine they are too noisy for that.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402

import vaecore  # noqa: E402
from vaecore import web  # noqa: E402
from vaecore.toolbox import decode_latents  # noqa: E402

# decode time, then a drag: input events every 4 ms for `seconds`, updates counted
MEASURE = """
const done = arguments[arguments.length - 1];
const root = document.querySelector('.vaecore-explorer'), e = root.vaecore;
const [backend, codes, reps, seconds] = arguments;
e.decoder = new vaecoreWeb.Network(e.spec.decoder, {backend: backend});
const t = [];
for (let i = 0; i < reps; i++) { e.decode(Float32Array.from(codes[i % codes.length])); t.push(e.lastMs); }
t.sort((a, b) => a - b);
const slider = root.querySelector(e.spec.attributes ? 'input.vaecore-strength, input.vaecore-offset'
                                                    : 'input[type=range]');
const lo = +slider.min, hi = +slider.max, step = +slider.step;
const before = e.updates, paint = [], t0 = performance.now();
let k = 0, events = 0;
const original = e.refresh;
e.refresh = function () { const s = performance.now(); original.call(this); paint.push(performance.now() - s); };
const timer = setInterval(() => {
  const x = (k++ * step) % (2 * (hi - lo));  // back and forth over the range
  slider.value = lo + (x < hi - lo ? x : 2 * (hi - lo) - x);
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  events++;
  if (performance.now() - t0 > seconds * 1000) {
    clearInterval(timer);
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const elapsed = (performance.now() - t0) / 1000, n = e.updates - before;
      e.refresh = original;
      paint.sort((a, b) => a - b);
      const images = [];
      if (!e.spec.attributes) for (const z of codes) { e.setZ(z);
        const c = e.canvas, d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        images.push(Array.from(d)); }
      done({backend: e.decoder.backend, kernel: e.decoder.kernel, median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1],
            updates_per_s: n / elapsed, events_per_s: events / elapsed, update_ms_median: paint[Math.floor(paint.length / 2)],
            images: images, check: +root.getAttribute('data-check-error')});
    }));
  }
}, 4);
"""


def _caltech(size: int) -> dict:
    encode = [(32, 4, 2), (64, 4, 2)] + ([(128, 4, 2)] if size == 128 else [])
    return {"input": (size, size, 3), "latent": 32, "encode": encode, "decode": None,
            "name": f"caltech101_{size}px"}  # fmt: skip


CELEBA = {  # book/09_celeba_beta.ipynb, 64 px, half the original filters
    "name": "celeba_beta_64px_f16", "input": (64, 64, 3), "latent": 256,
    "encode": [(16, 3, 2), (32, 3, 2), (64, 3, 2), (128, 3, 2)],
    "decode": [(128, 3, 1), (128, 3, 2), (64, 3, 2), (32, 3, 2), (16, 3, 2)],
}  # fmt: skip

# (kind, run in book/runs, architecture: a name in vaecore's library or a dict, explorer)
KINDS = [
    ("03 MNIST dense, 2-D map + drawing", "mnist_dense_latent2", "mnist_dense_z2", "latent"),
    ("03 MNIST dense, 3-D map", "mnist_dense_latent3", "mnist_dense_z3", "latent"),
    ("04 toolbox faces 64 px (face_cvae_1_64)", "face_cvae_1_64", "face_cvae_1_64", "latent"),
    ("05 CIFAR-10 conv z=64", "cifar10_conv_z64", "cifar10_conv", "latent"),
    ("05b CIFAR-10 best model, 16x16x4 latent map", "blur_best_deep", "cifar10_map16_deep", "latent"),
    ("06 Caltech-101 92 px", "caltech101_conv_92px", _caltech(92), "latent"),
    ("06 Caltech-101 128 px", None, _caltech(128), "latent"),
    ("07 dogs, no bottleneck, 64 px grey", "dogs_no_bottleneck",
     {"name": "dogs_no_bottleneck", "input": (64, 64, 1), "latent": 16, "encode": [(32, 3, 2), (64, 3, 2)],
      "hidden": [], "decode_hidden": [], "activation": "relu"}, "latent"),
    ("08 Pokémon 32 px", "pokemon_augment",
     {"input": (32, 32, 3), "latent": 32, "encode": [(32, 4, 2), (64, 4, 2), (128, 4, 2)], "decode": None,
      "name": "pokemon_conv_z32"}, "latent"),
    ("09 CelebA attribute explorer, 64 px, in a model menu", "celeba_beta2_64px_f16", CELEBA, "attribute"),
]  # fmt: skip


def models(only: str | None) -> list[tuple[str, object, str, str]]:
    out = []
    for kind, run, arch, explorer in KINDS:
        if only and only.lower() not in kind.lower():
            continue
        path = ROOT / "book" / "runs" / (run or "-") / "model.keras"
        if run and path.exists():
            out.append((kind, keras.models.load_model(path), "trained (book/runs)", explorer))
            continue
        arch = vaecore.get_architecture(arch) if isinstance(arch, str) else arch
        model = vaecore.build_vae(arch, seed=0)
        rng = np.random.default_rng(0)  # biases off zero, so that not every ReLU is on
        for w in model.decoder.weights:
            if len(w.shape) == 1:
                w.assign(rng.normal(0, 0.1, w.shape).astype("float32"))
        out.append((kind, model, "fresh initialisation", explorer))
    return out


def explorer_for(model, kind: str):
    rng = np.random.default_rng(0)
    if kind == "attribute":
        faces = rng.random((8, *model.arch_def["input"])).astype("float32")
        vectors = {n: rng.normal(0, 1, model.latent_dim) for n in ("Smiling", "Eyeglasses")}
        one = web.attribute_explorer(model, faces, vectors, dims=list(range(6)), precision="int8")
        return web.model_choice({"beta 1": one}, label="beta"), one.spec["precision"]
    z_ref = rng.standard_normal((2000, model.latent_dim)).astype("float32")
    ex = web.latent_explorer(model, z_ref, rng.integers(0, 10, 2000), draw=model.arch_def["input"] == (28, 28, 1))
    return ex, ex.spec["precision"]


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]:  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_script_timeout(300)
    return driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--codes", type=int, default=8)
    parser.add_argument("--drag", type=float, default=3.0, help="seconds of dragging per explorer")
    parser.add_argument("--only", help="only the kinds whose name contains this")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    load_at_start = [round(v, 2) for v in os.getloadavg()]
    driver = browser()
    version = driver.capabilities.get("browserVersion")
    rows = []
    tmp = Path(tempfile.mkdtemp())
    try:
        for kind, model, weights, explorer_kind in models(args.only):
            rng = np.random.default_rng(0)
            codes = np.round(rng.standard_normal((args.codes, model.latent_dim)), 4).astype("float32")
            keras_u8 = np.round(np.clip(decode_latents(model, codes), 0, 1) * 255).astype(np.int16)
            ex, precision = explorer_for(model, explorer_kind)
            page = ex.save(tmp / "page.html")
            for backend in ("wasm", "js"):
                driver.get(page.as_uri())
                time.sleep(0.5)
                got = driver.execute_async_script(MEASURE, backend, codes.tolist(), args.reps, args.drag)
                row = {
                    "kind": kind,
                    "weights": weights,
                    "backend": got["backend"],
                    "kernel": got["kernel"],
                    "precision": precision,
                    "decoder_params": int(model.decoder.count_params()),
                    "explorer_bytes": ex.size_bytes,
                    "decode_ms_median": round(got["median"], 2),
                    "decode_ms_min": round(got["min"], 2),
                    "decode_ms_max": round(got["max"], 2),
                    "update_ms_median": round(got["update_ms_median"], 2),
                    "drag_updates_per_s": round(got["updates_per_s"], 1),
                    "drag_events_per_s": round(got["events_per_s"], 1),
                    "page_self_check_255": got["check"],
                }
                if got["images"]:
                    h, w, c = keras_u8.shape[1:]
                    rgba = np.asarray(got["images"], np.int16).reshape(len(codes), h, w, 4)
                    canvas = rgba[..., :1] if c == 1 else rgba[..., :3]
                    row["browser_max_error_255"] = int(np.abs(canvas - keras_u8).max())
                    row["browser_mean_error_255"] = round(float(np.abs(canvas - keras_u8).mean()), 4)
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        driver.quit()
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_at_start": load_at_start,
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "chromium": version,
        "reps": args.reps,
        "drag_seconds": args.drag,
        "rows": rows,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
