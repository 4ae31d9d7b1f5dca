"""Every ``configs/*.yaml`` is a valid ``vaecore train --config`` file whose model builds.

Each file goes through the command line's own reader and resolver (so its keys are
known flags with valid values), names its data without a machine's paths, is listed
in ``configs/README.md``, and its arch builds a VAE (nothing is trained or read).
New files are picked up by the glob.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vaecore import build_cvae, build_vae
from vaecore.cli import build_parser, read_config_file, resolve_train_config
from vaecore.cli.flags import _train_keys
from vaecore.vq import build_vqvae

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
FILES = sorted(CONFIGS.glob("*.yaml"))


def test_there_are_configs():
    assert len(FILES) >= 8, FILES


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_config_loads_and_its_model_builds(path):
    settings = read_config_file(path)
    assert set(settings) <= set(_train_keys()), settings
    assert {"dataset", "arch"} <= set(settings)
    for key, value in settings.items():
        if isinstance(value, str):
            assert not os.path.isabs(value) and "/work" not in value, (key, value)
    args = build_parser().parse_args(["train", "--config", str(path)])
    cfg, arch = resolve_train_config(args)
    settings = dict(likelihood=cfg["likelihood"], sigma=cfg["sigma"], scale=cfg["scale"], seed=cfg["seed"])
    if "codebook" in arch:  # a VQ-VAE's arch (no beta: it has no KL term)
        model = build_vqvae(arch, **settings)
        assert model.num_codes > 1 and model.count_params() > 0
    else:
        build = build_cvae if "condition" in arch else build_vae  # a conditional VAE's arch
        model = build(arch, beta=cfg["beta"], **settings)
        assert model.latent_dim > 0 and model.count_params() > 0
    assert tuple(model.arch_def["input"][:2]) == (
        (cfg["image_size"],) * 2 if isinstance(cfg["image_size"], int) else tuple(cfg["image_size"])
    )
    assert path.name in (CONFIGS / "README.md").read_text(), "list it in configs/README.md"


def test_an_arch_mapping_in_a_config_is_checked_like_an_arch_file(tmp_path, capsys):
    from vaecore.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: mnist\narch:\n  input: [28, 28, 1]\n  latent: 0\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert (
        "the config file's arch" in err and "latent" in err and len(err.strip().splitlines()) == 1
    )
    assert not (tmp_path / "never").exists()
