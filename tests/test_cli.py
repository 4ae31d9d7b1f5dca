"""The vaecore command line, end to end on a tiny folder of PNGs.

Most checks call ``vaecore.cli.main`` in this process (TensorFlow is already
imported, so each costs milliseconds); the kill-and-resume test and one error
check run ``python -m vaecore`` in real subprocesses.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaecore import read_history
from vaecore.cli import main
from vaecore.runs import completed_epochs

ARCH = {"input": [8, 8, 1], "latent": 2, "hidden": [8], "name": "tiny"}
NUM_IMAGES = 40


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """40 random 8x8 grey PNGs and a tiny dense arch JSON."""
    root = tmp_path_factory.mktemp("cli")
    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(NUM_IMAGES):
        pixels = (rng.random((8, 8)) * 255).astype("uint8")
        Image.fromarray(pixels, "L").save(images / f"img_{i:02d}.png")
    (root / "arch.json").write_text(json.dumps(ARCH))
    return root


def train_args(workdir: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        "--dataset",
        "folder",
        "--path",
        str(workdir / "images"),
        "--arch",
        str(workdir / "arch.json"),
        "--batch-size",
        "8",
        "--out",
        str(out),
        *extra,
    ]


@pytest.fixture(scope="module")
def run(workdir):
    """A 2-epoch run, trained once for the module's tests."""
    out = workdir / "run"
    assert main(train_args(workdir, out, "--epochs", "2", "--quiet")) == 0
    return out


def snapshot(folder: Path) -> dict[str, tuple[float, str]]:
    """Every file's mtime and hash, to prove nothing changed (but the lock, taken by every run)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_train_writes_every_output(run):
    for name in ("model.keras", "arch.json", "config.json", "history.csv", "backup"):
        assert (run / name).exists(), name
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == [
        "epoch_001.png",
        "epoch_002.png",
    ]
    arch = json.loads((run / "arch.json").read_text())
    assert arch["input"] == [8, 8, 1] and arch["hidden"] == [8] and arch["activation"] == "relu"
    config = json.loads((run / "config.json").read_text())
    assert config["epochs"] == 2 and config["batch_size"] == 8 and config["latent"] == 2
    assert config["image_size"] == 8 and config["channels"] == 1  # taken from the arch
    assert config["likelihood"] == "bernoulli" and config["strategy"] == "default"
    assert set(config["versions"]) >= {"vaecore", "tensorflow", "keras"}
    assert config["device"] and config["replicas"] == 1
    history = read_history(run)
    assert history["epoch"] == [0, 1]
    assert "val_loss" in history  # the folder's test split is the validation data


def test_finished_run_rerun_says_complete(workdir, run, capsys):
    before = snapshot(run)
    assert main(train_args(workdir, run, "--epochs", "2")) == 0
    assert "complete" in capsys.readouterr().out
    assert snapshot(run) == before


def test_different_config_is_refused_and_nothing_changes(workdir, run, capsys):
    before = snapshot(run)
    code = main(train_args(workdir, run, "--epochs", "2", "--beta", "4"))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("vaecore: error:") and len(err.strip().splitlines()) == 1
    assert "beta: 1.0 -> 4.0" in err and "--overwrite" in err
    assert snapshot(run) == before


def test_overwrite_and_config_file(workdir, run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(run, out)
    config = tmp_path / "run.yaml"
    config.write_text(f"dataset: folder\npath: {workdir / 'images'}\nbatch_size: 16\nepochs: 3\n")
    args = ["train", "--config", str(config), "--arch", str(workdir / "arch.json")]
    assert main([*args, "--out", str(out), "--epochs", "1", "--quiet"]) == 2  # batch size differs
    assert main([*args, "--out", str(out), "--epochs", "1", "--quiet", "--overwrite"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["batch_size"] == 16 and saved["epochs"] == 1  # the flag beat the file's 3
    assert read_history(out)["epoch"] == [0]
    assert [p.name for p in (out / "samples").glob("*.png")] == ["epoch_001.png"]


def test_sample_reconstruct_interpolate_write_grids(run, tmp_path):
    cases = {
        "sample.png": (
            ["sample", "--num", "16", "--zoom", "2"],
            (2 * (4 * 8 + 3), 2 * (4 * 8 + 3)),
        ),
        "sample_old_flag.png": (  # --scale, the old name of --zoom, still works
            ["sample", "--num", "16", "--scale", "3"],
            (3 * (4 * 8 + 3), 3 * (4 * 8 + 3)),
        ),
        "recon.png": (["reconstruct", "--num", "5", "--split", "all"], (5 * 8 + 4, 2 * 8 + 1)),
        "morph.png": (
            ["interpolate", "--pairs", "2", "--steps", "6", "--split", "all", "--method", "slerp"],
            (6 * 8 + 5, 2 * 8 + 1),
        ),
        "morph_inputs.png": (  # the two images themselves at the ends: steps + 2 a row
            ["interpolate", "--pairs", "1", "--steps", "4", "--split", "all", "--with-inputs"],
            (6 * 8 + 5, 8),
        ),
    }
    for name, (args, size) in cases.items():
        out = tmp_path / name
        assert main([*args, "--model", str(run), "--out", str(out)]) == 0, name
        assert Image.open(out).size == size, name


def test_evaluate_writes_json(run, tmp_path, capsys):
    out = tmp_path / "eval.json"
    code = main(
        ["evaluate", "--model", str(run / "model.keras"), "--split", "all", "--k", "5"]
        + ["--json", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "NLL (IWAE, k=5)" in printed and "bits/dim" in printed and "note:" in printed
    r = json.loads(out.read_text())
    assert r["num_images"] == NUM_IMAGES and r["k"] == 5 and r["dims"] == 64
    assert r["dataset"] == "folder"  # from the run's config.json
    assert np.isfinite(r["elbo_nats"]) and r["nll_nats"] > 0
    assert r["nll_nats"] <= -r["elbo_nats"] + 1.0  # IWAE tightens the 1-sample bound (up to noise)
    np.testing.assert_allclose(r["bits_per_dim"], r["nll_nats"] / (64 * np.log(2)), rtol=1e-5)
    assert r["bits_per_dim_is_exact"] is False  # bernoulli on grey levels
    assert "grey values" in r["bits_per_dim_note"] and r["bits_per_dim_note"] in printed
    assert 0 < r["nll_stderr_nats"] < r["nll_nats"] and 0 <= r["active_units"] <= 2
    np.testing.assert_allclose(
        r["elbo_nats"], -(r["reconstruction_nats"] + r["kl_nats"]), rtol=1e-5
    )


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--epochs", "-1"], "--epochs"),
        (["--dataset", "nope"], "unknown dataset 'nope'; known datasets: mnist"),
        (["--arch", "nope"], "unknown architecture 'nope'; known architectures: cifar10_conv"),
        (["--image-size", "16"], "--image-size 16 does not match"),
        (["--likelihood", "poisson"], "--likelihood"),
        (["--config", "missing.yaml"], "config file missing.yaml not found"),
        (["--strategy", "multiworker"], "TF_CONFIG"),
        (["--scale", "pixel"], "--scale pixel does not apply to --likelihood bernoulli"),
        (
            ["--likelihood", "discretized_logistic", "--scale", "fixed"],
            "which takes --scale shared | channel | pixel",
        ),
        (["--scale", "huge"], "--scale"),
        (["--channel-coupling"], "--channel-coupling: channel_coupling needs a discretized_logistic"),
    ],
)
def test_bad_train_input_is_one_line_exit_2(
    workdir, tmp_path, capsys, monkeypatch, extra, expected
):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    out = tmp_path / "never"
    assert main(train_args(workdir, out) + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaecore: error:") and len(err.strip().splitlines()) == 1, err
    assert expected in err and "Traceback" not in err
    assert not out.exists()


def test_bad_config_key_and_arch_file(workdir, tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("dataset: folder\nbatchsize: 8\n")
    assert main(["train", "--config", str(config), "--arch", "mnist_dense_z2"]) == 2
    assert "unknown key 'batchsize'" in capsys.readouterr().err
    bad_arch = tmp_path / "bad.json"
    bad_arch.write_text(json.dumps({**ARCH, "latent": 0}))
    assert main(train_args(workdir, tmp_path / "x", "--arch", str(bad_arch))) == 2
    err = capsys.readouterr().err
    assert "arch_def field 'latent'" in err and len(err.strip().splitlines()) == 1


def test_missing_model_and_help(tmp_path, capsys):
    assert main(["sample", "--model", str(tmp_path / "none"), "--out", "x.png"]) == 2
    assert "no model at" in capsys.readouterr().err
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--kl-warmup-steps" in text and "examples:" in text


# --------------------------------------------------------------- subprocesses


def _env() -> dict[str, str]:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("VAECORE_FAST", None)
    return env


def test_python_m_vaecore_error_has_no_traceback(workdir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "vaecore", *train_args(workdir, tmp_path / "r", "--arch", "nope")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("vaecore: error:")]
    assert len(errors) == 1 and "unknown architecture 'nope'" in errors[0]
    assert "Traceback" not in done.stderr


# The first run is the CLI's own main() with one change: every epoch starts with a
# 1 s pause, so the test can kill it between epochs instead of racing a run that
# takes a fraction of a second per epoch. The re-run is plain `python -m vaecore`.
SLOW_MAIN = """
import sys, time
from vaecore import callbacks
original = callbacks.EpochTimer.on_epoch_begin
def slow(self, epoch, logs=None):
    time.sleep(1.0)
    original(self, epoch, logs)
callbacks.EpochTimer.on_epoch_begin = slow
from vaecore.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_killed_run_resumes_with_the_same_command(workdir, tmp_path):
    out = tmp_path / "run"
    args = train_args(workdir, out, "--epochs", "6")
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_MAIN, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    deadline = time.monotonic() + 180
    # the backup's state.json is written last in an epoch: then the epoch is finished
    while not (out / "backup" / "state.json").exists() and proc.poll() is None:
        assert time.monotonic() < deadline, "no epoch finished in time"
        time.sleep(0.05)
    proc.kill()  # SIGKILL: no clean-up at all
    stderr = proc.communicate()[1].decode()
    assert proc.returncode == -9, stderr[-2000:]
    first_lines = (out / "history.csv").read_text().splitlines()
    killed_at = completed_epochs(out)
    assert 1 <= killed_at < 6 and killed_at <= len(read_history(out)["epoch"])

    done = subprocess.run(
        [sys.executable, "-m", "vaecore", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resuming after epoch {killed_at} of 6" in done.stdout
    assert "Traceback" not in done.stderr
    assert read_history(out)["epoch"] == [0, 1, 2, 3, 4, 5]
    assert (out / "history.csv").read_text().splitlines()[: len(first_lines)] == first_lines
    assert len(list((out / "samples").glob("epoch_*.png"))) == 6


def test_augment_flag_reaches_the_training_pipeline_only(workdir, tmp_path, monkeypatch):
    import vaecore.data

    calls = []
    real = vaecore.data.load_dataset

    def spy(name, split=None, **kwargs):
        calls.append((split, kwargs.get("augment", False)))
        return real(name, split, **kwargs)

    monkeypatch.setattr(vaecore.data, "load_dataset", spy)
    out = tmp_path / "aug"
    assert main(train_args(workdir, out, "--epochs", "1", "--quiet", "--augment")) == 0
    assert ("train", True) in calls and ("test", False) in calls
    assert json.loads((out / "config.json").read_text())["augment"] is True
    # a run recorded before the flag existed (no "augment" key) still resumes without it
    plain = tmp_path / "plain"
    assert main(train_args(workdir, plain, "--epochs", "1", "--quiet")) == 0
    config = json.loads((plain / "config.json").read_text())
    del config["augment"]
    (plain / "config.json").write_text(json.dumps(config))
    assert main(train_args(workdir, plain, "--epochs", "1", "--quiet")) == 0
    # turning augmentation on for an existing plain run is a config change
    assert main(train_args(workdir, plain, "--epochs", "2", "--quiet", "--augment")) == 2


def test_resize_mode_reaches_every_pipeline_and_is_recorded(workdir, tmp_path, monkeypatch, capsys):
    import vaecore.data
    from vaecore import cli
    from vaecore.data.images import RESIZE_MODES

    assert cli.RESIZE_MODES == RESIZE_MODES
    calls = []
    real = vaecore.data.load_dataset

    def spy(name, split=None, **kwargs):
        calls.append((split, kwargs.get("resize_mode")))
        return real(name, split, **kwargs)

    monkeypatch.setattr(vaecore.data, "load_dataset", spy)
    out = tmp_path / "crop"
    assert main(train_args(workdir, out, "--epochs", "1", "--quiet", "--resize-mode", "crop")) == 0
    assert ("train", "crop") in calls and ("test", "crop") in calls
    assert json.loads((out / "config.json").read_text())["resize_mode"] == "crop"
    # sample/reconstruct/evaluate read the data as the run did, unless told otherwise
    calls.clear()
    assert (
        main(
            [
                "reconstruct",
                "--model",
                str(out),
                "--num",
                "4",
                "--split",
                "all",
                "--out",
                str(tmp_path / "r.png"),
            ]
        )
        == 0
    )
    assert calls and all(mode == "crop" for _, mode in calls)
    calls.clear()
    assert main(["reconstruct", "--model", str(out), "--num", "4", "--split", "all", "--resize-mode", "pad",
                 "--out", str(tmp_path / "p.png")]) == 0  # fmt: skip
    assert calls and all(mode == "pad" for _, mode in calls)
    # the same folder with another resize mode is another config; a bad mode is a one-line error
    assert main(train_args(workdir, out, "--epochs", "1", "--quiet")) == 2
    assert "resize_mode: 'crop' -> 'stretch'" in capsys.readouterr().err
    assert main(train_args(workdir, tmp_path / "bad", "--resize-mode", "squash")) == 2
    err = capsys.readouterr().err
    assert "squash" in err and "stretch" in err and "Traceback" not in err
    # a run recorded before the flag existed resumes without it
    plain = tmp_path / "plain"
    assert main(train_args(workdir, plain, "--epochs", "1", "--quiet")) == 0
    config = json.loads((plain / "config.json").read_text())
    del config["resize_mode"]
    (plain / "config.json").write_text(json.dumps(config))
    assert main(train_args(workdir, plain, "--epochs", "1", "--quiet")) == 0


# ------------------------------------------------ failures while running: one line


def _full_disk_on_second_backup(monkeypatch):
    """``save_weights`` writes half a file and fails with ENOSPC from the second call on."""
    import errno

    import keras

    real, calls = keras.Model.save_weights, []

    def save_weights(self, filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) < 2:
            return real(self, filepath, *args, **kwargs)
        Path(filepath).write_bytes(b"\x89HDF half a file")
        raise OSError(errno.ENOSPC, "No space left on device", str(filepath))

    monkeypatch.setattr(keras.Model, "save_weights", save_weights)


def test_full_disk_is_one_line_and_the_last_checkpoint_stays_loadable(
    workdir, tmp_path, capsys, monkeypatch
):
    import keras

    out = tmp_path / "run"
    args = train_args(workdir, out, "--epochs", "3", "--quiet")
    _full_disk_on_second_backup(monkeypatch)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("vaecore: error: No space left on device: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "run the same command again" in err
    state = json.loads((out / "backup" / "state.json").read_text())
    assert state["epoch"] == 1  # the failed epoch-2 backup left epoch 1's whole
    assert sorted(p.name for p in (out / "backup").iterdir()) == [
        "epoch_0001.weights.h5",
        "state.json",
    ]  # and no half-written temporary file
    keras.models.load_model(out / "model.keras")
    monkeypatch.undo()  # disk space again: the same command continues
    assert main(args) == 0
    assert read_history(out)["epoch"] == [0, 1, 2] and completed_epochs(out) == 3


def test_debug_shows_the_traceback(workdir, tmp_path, monkeypatch):
    args = train_args(workdir, tmp_path / "run", "--epochs", "3", "--quiet")
    _full_disk_on_second_backup(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        main([*args, "--debug"])
    monkeypatch.setenv("VAECORE_DEBUG", "1")
    with pytest.raises(OSError, match="No space left"):
        main(args)


def test_unwritable_out_is_one_line(workdir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(train_args(workdir, blocker / "run", "--quiet")) == 1  # a folder under a file
    err = capsys.readouterr().err
    assert (
        err.startswith("vaecore: error: Not a directory: ") and len(err.strip().splitlines()) == 1
    )


HOLD_LOCK = """
import sys, time
from vaecore.runs import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_busy_run_folder_is_refused_at_once(workdir, run, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(run)], stdout=subprocess.PIPE, env=_env()
    )
    try:
        assert holder.stdout.readline().strip() == b"held"
        before = snapshot(run)
        assert main(train_args(workdir, run, "--epochs", "3")) == 1
        err = capsys.readouterr().err
        assert "a run is already in progress in this folder" in err and f"pid {holder.pid}" in err
        assert len(err.strip().splitlines()) == 1 and snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()


def test_an_arch_file_edited_in_place_is_another_model(workdir, tmp_path, capsys):
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps(ARCH))
    out = tmp_path / "run"
    args = train_args(workdir, out, "--arch", str(arch), "--quiet")
    assert main([*args, "--epochs", "1"]) == 0
    arch.write_text(json.dumps({**ARCH, "hidden": [6]}))  # same path, so config.json agrees
    before = snapshot(out)
    assert main([*args, "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert "holds a run of another model" in err and "hidden" in err and "--overwrite" in err
    assert snapshot(out) == before


def test_files_that_vanish_mid_run_are_one_line(workdir, tmp_path, capsys, monkeypatch):
    import vaecore.data

    images = tmp_path / "images"
    shutil.copytree(workdir / "images", images)
    real = vaecore.data.load_dataset

    def scan_then_delete(name, split=None, **kwargs):
        ds = real(name, split, **kwargs)
        if split == "train":  # after the scan: half the files go before the first epoch
            for path in sorted(images.glob("*.png"))[::2]:
                path.unlink()
        return ds

    monkeypatch.setattr(vaecore.data, "load_dataset", scan_then_delete)
    args = train_args(workdir, tmp_path / "run", "--epochs", "2", "--quiet")
    args[args.index("--path") + 1] = str(images)
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vaecore: error: TensorFlow: "), err


def test_progress_bar_counts_batches_with_multi_step_calls_and_resumes():
    import io

    from vaecore import build_vae
    from vaecore.callbacks import ProgressBar

    model = build_vae({**ARCH, "input": (8, 8, 1)}, seed=0)
    model.compile(optimizer="adam", steps_per_execution=4)  # callbacks every 4 batches
    x = np.zeros((64, 8, 8, 1), "float32")  # 16 batches of 4 per epoch
    for initial in (0, 1):  # a fresh run, and one resumed after epoch 1
        out = io.StringIO()
        bar = ProgressBar(epochs=3, steps_per_epoch=16, file=out)
        model.fit(x, epochs=3, initial_epoch=initial, batch_size=4, verbose=0, callbacks=[bar])
        assert bar.bar.n == 3 * 16 and bar.bar.total == 3 * 16
        text = out.getvalue().replace("\r", "\n")
        lines = re.findall(r"^(epoch \d/3): loss", text, flags=re.M)  # not the bar's own lines
        assert lines == [f"epoch {e}/3" for e in range(initial + 1, 4)]


def test_kl_schedule_flags_drive_the_logged_weight(workdir, capsys):
    """40 images, batch 8: 5 steps an epoch; a cyclical schedule of 10 steps with R = 0.5
    sets the weight (beta 2) to 0 at the start of epoch 1 and 2 at the start of epoch 2
    (one train-function call per epoch, as steps_per_execution covers the epoch)."""
    out = workdir / "cyclical"
    args = train_args(
        workdir, out, "--epochs", "2", "--quiet", "--beta", "2",
        "--kl-schedule", "cyclical", "--kl-cycle-steps", "10", "--free-bits", "0.1",
    )  # fmt: skip
    assert main(args) == 0
    history = read_history(out)
    assert history["kl_weight"] == [pytest.approx(0.0), pytest.approx(2.0)]
    fingerprint = json.loads((out / "fingerprint.json").read_text())
    assert fingerprint["kl_schedule"]["kind"] == "cyclical"
    assert fingerprint["model"]["config"]["free_bits"] == 0.1
    # another schedule into the same folder is another run: refused, naming it
    capsys.readouterr()
    again = train_args(
        workdir, out, "--epochs", "3", "--quiet", "--beta", "2",
        "--kl-schedule", "cyclical", "--kl-cycle-steps", "20", "--free-bits", "0.1",
    )  # fmt: skip
    assert main(again) == 2
    assert "kl_cycle_steps" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--kl-schedule", "cyclical"], "--kl-cycle-steps"),
        (["--kl-schedule", "capacity", "--kl-capacity", "5"], "--kl-capacity-steps"),
        (
            ["--kl-schedule", "cyclical", "--kl-cycle-steps", "5", "--kl-warmup-steps", "3"],
            "cannot be combined",
        ),
    ],
)
def test_kl_schedule_settings_are_checked_first(workdir, tmp_path, capsys, extra, words):
    assert main(train_args(workdir, tmp_path / "bad", "--epochs", "1", *extra)) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def _grid(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_sample_temperature_zero_decodes_the_zero_code(run, tmp_path):
    import keras

    from vaecore.callbacks import save_image
    from vaecore.plots import montage

    out = tmp_path / "cold.png"
    assert (
        main(["sample", "--model", str(run), "--num", "4", "--temperature", "0", "--out", str(out)])
        == 0
    )
    model = keras.models.load_model(run / "model.keras", compile=False)
    zero = np.repeat(np.asarray(model.decode(np.zeros((1, 2), np.float32))), 4, axis=0)
    save_image(montage(zero, pad=1), tmp_path / "zero.png", 1)
    np.testing.assert_array_equal(_grid(out), _grid(tmp_path / "zero.png"))
    warm = tmp_path / "warm.png"
    assert main(["sample", "--model", str(run), "--num", "4", "--out", str(warm)]) == 0
    assert not np.array_equal(_grid(warm), _grid(out))


def test_sample_gmm_fits_once_then_reuses_and_refits_only_when_asked(run, tmp_path, capsys):
    from vaecore.samplers import GaussianMixtureSampler

    base = [
        "sample",
        "--model",
        str(run),
        "--sampler",
        "gmm",
        "--gmm-components",
        "3",
        "--num",
        "4",
    ]
    assert main([*base, "--out", str(tmp_path / "a.png")]) == 0
    assert (
        "fitted a 3-component full Gaussian mixture to 36 posterior means"
        in capsys.readouterr().out
    )
    kept = run / "ex_post_gmm_k3_full.npz"
    gmm = GaussianMixtureSampler.load(kept)
    assert gmm.components == 3 and gmm.latent_dim == 2 and gmm.info["fit"]["split"] == "train"
    before = snapshot(run)
    assert main([*base, "--out", str(tmp_path / "b.png")]) == 0
    assert "using the ex-post mixture in" in capsys.readouterr().out
    np.testing.assert_array_equal(_grid(tmp_path / "a.png"), _grid(tmp_path / "b.png"))
    # other data settings: refused in one line, the kept fit untouched
    assert main([*base, "--limit", "20", "--out", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert "fitted for other settings (limit: None -> 20)" in err and "--refit-gmm" in err
    assert len(err.strip().splitlines()) == 1 and snapshot(run) == before
    assert main([*base, "--limit", "20", "--refit-gmm", "--out", str(tmp_path / "c.png")]) == 0
    assert GaussianMixtureSampler.load(kept).info["num_codes"] == 20
    assert main([*base, "--temperature", "0.5", "--out", str(tmp_path / "d.png")]) == 2
    assert "--temperature is for --sampler prior" in capsys.readouterr().err


def test_scale_flag_builds_and_records_the_scale(workdir, tmp_path):
    import keras

    out = tmp_path / "shared"
    extra = ["--epochs", "1", "--quiet", "--likelihood", "gaussian", "--scale", "shared"]
    assert main(train_args(workdir, out, *extra)) == 0
    assert json.loads((out / "config.json").read_text())["scale"] == "shared"
    model = keras.models.load_model(out / "model.keras", compile=False)
    assert model.scale_mode == "shared" and tuple(model.log_scale.shape) == (1,)


def test_discretized_likelihood_reads_its_data_quantized(workdir, tmp_path, monkeypatch):
    import vaecore.data

    calls = []
    real = vaecore.data.load_dataset

    def spy(name, split=None, **kwargs):
        calls.append((split, kwargs.get("quantize")))
        return real(name, split, **kwargs)

    monkeypatch.setattr(vaecore.data, "load_dataset", spy)
    out = tmp_path / "dl"
    extra = ["--epochs", "1", "--quiet", "--likelihood", "discretized_logistic"]
    assert main(train_args(workdir, out, *extra)) == 0
    assert ("train", True) in calls and ("test", True) in calls
    calls.clear()
    assert main(["evaluate", "--model", str(out), "--k", "2", "--split", "all"]) == 0
    assert calls == [("all", True)]
    calls.clear()
    assert main(train_args(workdir, tmp_path / "bern", "--epochs", "1", "--quiet")) == 0
    assert ("train", False) in calls
