"""``vaecore train --tc-weight`` (a beta-TCVAE) and ``--subset`` (random dSprites images)."""

from __future__ import annotations

import json

import keras
import numpy as np

from vaecore import read_history
from vaecore.cli import build_parser, main, resolve_train_config
from vaecore.data import dsprites
from vaecore.tcvae import TCVAE

ARCH = {"input": [64, 64, 1], "latent": 3, "hidden": [8], "name": "tiny_sprites"}


def test_tc_weight_and_subset_train_a_tcvae_on_random_sprites(tmp_path):
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps(ARCH))
    out = tmp_path / "run"
    args = ["train", "--dataset", "dsprites", "--arch", str(arch), "--subset", "128",
            "--test-limit", "64", "--tc-weight", "6", "--batch-size", "64", "--epochs", "1",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    model = keras.models.load_model(out / "model.keras")
    assert isinstance(model, TCVAE)
    assert (model.tc_weight, model.dataset_size) == (6.0, 128)
    assert np.isfinite(read_history(out)["total_correlation"]).all()
    config = json.loads((out / "config.json").read_text())
    assert (config["tc_weight"], config["subset"]) == (6.0, 128)
    assert main(args) == 0  # complete: nothing to do, the settings match


def test_subset_draws_random_images_not_the_first_of_the_grid(tmp_path):
    from vaecore.cli.train import _training_data

    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps(ARCH))
    parsed = build_parser().parse_args(
        ["train", "--dataset", "dsprites", "--arch", str(arch), "--subset", "256",
         "--test-limit", "64", "--batch-size", "64"]
    )  # fmt: skip
    cfg, _ = resolve_train_config(parsed)
    train_ds, test_ds, steps = _training_data(cfg)
    assert (train_ds.num_examples, test_ds.num_examples, steps) == (256, 64, 4)
    first = dsprites.select("train")[:256]
    assert not np.array_equal(dsprites.select("train", 256), first)  # what --subset reads


def test_without_tc_weight_the_model_is_a_plain_vae(tmp_path):
    parsed = build_parser().parse_args(
        ["train", "--dataset", "dsprites", "--arch", "mnist_dense_z2"]
    )
    cfg, _ = resolve_train_config(parsed)
    assert cfg["tc_weight"] is None and cfg["subset"] is None
