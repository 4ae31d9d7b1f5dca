"""In-page explorer: decode latency in headless Chromium, page bytes, pixel error vs Keras.

For each decoder: the explorer HTML (runtime + weights + map codes) is saved as a page and
opened in headless Chromium with the network off; the page decodes ``--reps`` codes and
the median time is taken. The pixel error is measured on ``--codes`` prior draws, in the
browser (canvas-level rounding, against ``model.decode``) and in the NumPy runtime.

    .venv/bin/python benchmarks/web_explorer.py --json benchmarks/results/web_explorer.json

Models: each chapter's explorer model, trained, from book/runs (MNIST 2-D and 3-D, the
toolbox's 64 px faces, CIFAR-10 z=64, Caltech-101 92 px, dogs, Pokémon, CelebA beta 2);
without book/runs, a fresh initialisation of the book's named architectures (latency does not
depend on the weights' values) and the chapter-only models are left out.
"""

from __future__ import annotations

import argparse
import json
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

MEASURE = """
const e = document.querySelector('.vaecore-explorer').vaecore, codes = arguments[0], reps = arguments[1];
const t = [], images = [];
for (let i = 0; i < reps; i++) { e.decode(Float32Array.from(codes[i % codes.length])); t.push(e.lastMs); }
for (const z of codes) { e.setZ(z);
  const c = e.canvas, d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  images.push(Array.from(d)); }
t.sort((a, b) => a - b);
return {median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1], images: images,
        check: +e.root.getAttribute('data-check-error')};
"""


def models() -> list[tuple[str, object, str]]:
    out = []
    runs = ROOT / "book" / "runs"
    # each chapter's explorer model: the trained one when book/runs holds it, else (for the
    # book's named architectures) a fresh initialisation, whose decode costs the same
    chapter_models = [
        ("mnist_dense_latent2", "mnist_dense_z2"),
        ("mnist_dense_latent3", "mnist_dense_z3"),
        ("face_cvae_1_64", "face_cvae_1_64"),
        ("cifar10_conv_z64", "cifar10_conv"),
        ("caltech101_conv_92px", None),
        ("dogs_no_bottleneck", None),
        ("pokemon_augment", None),
        ("celeba_beta2_64px_f16", None),
    ]
    for name, arch_name in chapter_models:
        path = runs / name / "model.keras"
        if path.exists():
            out.append((f"{name} (trained, book/runs)", keras.models.load_model(path), "trained"))
        elif arch_name is not None:
            out.append((name, vaecore.build_vae(vaecore.get_architecture(arch_name), seed=0), "init"))
    return out


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]:  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--codes", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    driver = browser()
    version = driver.capabilities.get("browserVersion")
    rows = []
    tmp = Path(tempfile.mkdtemp())
    try:
        for name, model, weights in models():
            rng = np.random.default_rng(0)
            z_ref = rng.standard_normal((2000, model.latent_dim)).astype("float32")
            codes = np.round(rng.standard_normal((args.codes, model.latent_dim)), 4).astype("float32")
            keras_u8 = np.round(np.clip(decode_latents(model, codes), 0, 1) * 255).astype(np.int16)
            for precision in ("float16", "int8"):
                ex = web.latent_explorer(model, z_ref, precision=precision)
                driver.get(ex.save(tmp / "page.html").as_uri())
                time.sleep(0.5)
                got = driver.execute_script(MEASURE, codes.tolist(), args.reps)
                h, w, c = keras_u8.shape[1:]
                rgba = np.asarray(got["images"], np.int16).reshape(len(codes), h, w, 4)
                canvas = rgba[..., :1] if c == 1 else rgba[..., :3]
                row = {
                    "model": name,
                    "weights": weights,
                    "precision": precision,
                    "decoder_params": int(model.decoder.count_params()),
                    "explorer_bytes": ex.size_bytes,
                    "decode_ms_median": round(got["median"], 2),
                    "decode_ms_min": round(got["min"], 2),
                    "decode_ms_max": round(got["max"], 2),
                    "browser_max_error_255": int(np.abs(canvas - keras_u8).max()),
                    "browser_mean_error_255": round(float(np.abs(canvas - keras_u8).mean()), 4),
                    "page_self_check_255": got["check"],
                }
                rows.append(row)
                print(json.dumps(row))
    finally:
        driver.quit()
    result = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "chromium": version,
        "reps": args.reps,
        "codes": args.codes,
        "rows": rows,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
