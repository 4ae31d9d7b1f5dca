"""The VQ-VAE on the command line (vaecore.cli.vq): train, train-prior, sample, evaluate, refusals."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from vaecore.cli import main
from vaecore.pixelcnn import PixelCNNPrior
from vaecore.vq import VQVAE

ARCH = {"input": [8, 8, 1], "encode": [[8, 3, 2]], "latent": [4, 4, 2], "codebook": {"size": 8},
        "name": "vq_cli"}  # fmt: skip


@pytest.fixture(scope="module")
def crosses_folder(tmp_path_factory):
    """48 8x8 PNGs, each one full row and one full column, and the VQ arch as JSON."""
    root = tmp_path_factory.mktemp("vq_cli")
    (root / "images").mkdir()
    rng = np.random.default_rng(0)
    for i in range(48):
        pixels = np.zeros((8, 8), np.uint8)
        r, c = rng.integers(0, 8, 2)
        pixels[r, :] = pixels[:, c] = 255
        Image.fromarray(pixels, "L").save(root / "images" / f"img_{i}.png")
    (root / "arch.json").write_text(json.dumps(ARCH))
    (root / "vae.json").write_text(json.dumps({"input": [8, 8, 1], "latent": 2, "hidden": [8],
                                               "name": "vae_cli"}))  # fmt: skip
    return root


def _train(root, out, *extra: str, arch: str = "arch.json") -> int:
    return main(
        ["train", "--dataset", "folder", "--path", str(root / "images"), "--arch", str(root / arch),
         "--batch-size", "8", "--lr", "0.003", "--out", str(out), "--quiet", *extra]
    )  # fmt: skip


def test_train_train_prior_sample_and_evaluate(crosses_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(crosses_folder, run, "--epochs", "2", "--restart-after", "5") == 0
    model = keras.models.load_model(run / "model.keras")
    assert isinstance(model, VQVAE) and model.quantizer.restart_after == 5
    assert json.loads((run / "arch.json").read_text())["codebook"] == {"size": 8, "dim": 2}
    assert not (run / "samples").exists()  # no Gaussian-code snapshots for a VQ-VAE

    out = tmp_path / "uniform.png"
    assert main(["sample", "--model", str(run), "--num", "4", "--out", str(out)]) == 0
    assert "codes drawn uniformly" in capsys.readouterr().out
    bound = tmp_path / "uniform.json"
    assert main(["evaluate", "--model", str(run), "--split", "all", "--json", str(bound)]) == 0
    uniform = json.loads(bound.read_text())
    assert uniform["prior"] == "uniform" and uniform["num_images"] == 48
    assert uniform["prior_nats"] == pytest.approx(16 * np.log(8))

    args = ["train-prior", "--model", str(run), "--epochs", "2", "--filters", "8",
            "--kernel-size", "3", "--residual-blocks", "1", "--batch-size", "8"]  # fmt: skip
    assert main(args) == 0
    assert isinstance(keras.models.load_model(run / "prior" / "model.keras"), PixelCNNPrior)
    assert "bits per cell" in capsys.readouterr().out
    assert main([*args[:3], "--epochs", "3", *args[5:]]) == 0  # resumes to 3 epochs
    assert len((run / "prior" / "history.csv").read_text().strip().splitlines()) == 1 + 3

    out = tmp_path / "prior.png"
    assert main(["sample", "--model", str(run), "--num", "4", "--temperature", "0.8", "--out", str(out)]) == 0
    assert Image.open(out).size == (2 * 8 + 1, 2 * 8 + 1)
    assert main(["evaluate", "--model", str(run), "--split", "all", "--json", str(bound)]) == 0
    learned = json.loads(bound.read_text())
    assert learned["prior"] == "pixelcnn" and np.isfinite(learned["nll_bound_nats"])
    assert learned["nll_bound_nats"] == pytest.approx(learned["prior_nats"] + learned["reconstruction_nats"])
    assert "-log p(x) <=" in capsys.readouterr().out
    assert main(["reconstruct", "--model", str(run), "--num", "4", "--split", "all",
                 "--out", str(tmp_path / "r.png")]) == 0  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "arch", "words"),
    [
        (["--beta", "4"], "arch.json", "--beta: a VQ-VAE"),
        (["--kl-warmup-steps", "10"], "arch.json", "--kl-warmup-steps: a VQ-VAE"),
        (["--ema-decay", "1.5"], "arch.json", "--ema-decay must lie in"),
        (["--commitment-weight", "0.5"], "vae.json", "--commitment-weight: for a VQ-VAE"),
    ],
)
def test_settings_that_do_not_fit_the_model_are_one_line_errors(crosses_folder, tmp_path, capsys, extra, arch, words):
    assert _train(crosses_folder, tmp_path / "bad", "--epochs", "1", *extra, arch=arch) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_train_prior_and_interpolate_refuse_a_plain_vae(crosses_folder, tmp_path, capsys):
    run = tmp_path / "vae"
    assert _train(crosses_folder, run, "--epochs", "1", arch="vae.json") == 0
    assert main(["train-prior", "--model", str(run)]) == 2
    assert "not a VQ-VAE run" in capsys.readouterr().err
