"""The conditional VAE (vaecore.conditional): arch, training, conditioning, saving, CLI, export.

Tiny models on 8x8 images where the label decides the image: label k lights row k,
so a model that uses its condition draws the right row, and one that ignores it
cannot do better than chance (1 in 8).
"""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import vaecore
from vaecore.arch import ArchDefError, validate_arch_def
from vaecore.cli import main
from vaecore.conditional import ConditionalVAE, build_cvae
from vaecore.export import decoder_spec, encoder_spec, run_network

K = 8
DENSE = {"input": (8, 8, 1), "latent": 2, "hidden": [32], "name": "cvae_dense", "condition": K}
CONV = {
    "input": (8, 8, 1),
    "latent": 3,
    "encode": [(4, 3, 2)],
    "hidden": [8],
    "name": "cvae_conv",
    "condition": {"binary": 3},
}
MAP = {
    "input": (8, 8, 1),
    "latent": (4, 4, 2),
    "encode": [(4, 3, 2)],
    "name": "cvae_map",
    "condition": {"classes": ["a", "b", "c"]},
}


def rows(labels: np.ndarray) -> np.ndarray:
    """8x8 images: row k fully on for label k, the rest off."""
    x = np.zeros((len(labels), 8, 8, 1), np.float32)
    x[np.arange(len(labels)), labels] = 1.0
    return x


def toy(n: int = 1024, seed: int = 0):
    labels = np.random.default_rng(seed).integers(0, K, n)
    return rows(labels), labels


def lit_row(images) -> np.ndarray:
    """Which row of each image is brightest."""
    return np.asarray(images)[..., 0].mean(axis=2).argmax(axis=1)


# ------------------------------------------------------------------ arch dict


@pytest.mark.parametrize(
    "condition, words",
    [
        ("ten", "expected a number of classes"),
        (1, "'classes' must be an int >= 2"),
        ({"binary": 0}, "'binary' must be an int >= 1"),
        ({"classes": 3, "binary": 2}, "needs exactly one of ['classes', 'binary']"),
        ({"binary": 2, "colour": 1}, "needs exactly one of"),
        ({"binary": ["a", "a"]}, "names must be 2 distinct non-empty strings"),
        ({"binary": 2, "names": ["a"]}, "names must be 2 distinct"),
    ],
)
def test_a_bad_condition_is_a_value_error_naming_the_field(condition, words):
    with pytest.raises(ArchDefError) as err:
        validate_arch_def({**DENSE, "condition": condition})
    assert isinstance(err.value, ValueError)
    assert "arch_def field 'condition'" in str(err.value) and words in str(err.value)


def test_conditions_are_normalized_and_validate_again_unchanged():
    assert validate_arch_def(DENSE)["condition"] == {"classes": K}
    assert validate_arch_def(CONV)["condition"] == {"binary": 3}
    spec = validate_arch_def(MAP)["condition"]
    assert spec == {"classes": 3, "names": ("a", "b", "c")}
    again = validate_arch_def(vaecore.arch.to_jsonable(validate_arch_def(MAP)))
    assert again["condition"] == spec


def test_a_plain_vae_refuses_a_condition_and_a_cvae_needs_one():
    with pytest.raises(ValueError, match="build it with vaecore.build_cvae"):
        vaecore.build_vae(DENSE)
    plain = {k: v for k, v in DENSE.items() if k != "condition"}
    with pytest.raises(ValueError, match="needs an arch_def with a 'condition'"):
        build_cvae(plain)


def test_a_model_without_a_condition_is_unchanged():
    plain = {k: v for k, v in DENSE.items() if k != "condition"}
    model = vaecore.build_vae(plain)
    assert type(model) is vaecore.VAE and not getattr(model, "conditional", False)
    assert "condition" not in model.get_config()["arch_def"]
    assert len(model.encoder.inputs) == 1 and len(model.decoder.inputs) == 1
    assert [layer.name for layer in model.decoder.layers] == ["z", "hidden_0", "pixel_logits", "logits"]
    assert "condition_shape" not in decoder_spec(model)
    assert "condition" not in decoder_spec(model)


# ------------------------------------------------------------ the model itself


@pytest.mark.parametrize("arch", [DENSE, CONV, MAP], ids=["dense", "conv", "latent_map"])
def test_a_train_step_runs_with_a_finite_loss(arch):
    model = build_cvae(arch, seed=0)
    size = model.condition_size
    x, labels = toy(32)
    y = labels % size if model.condition_kind == "classes" else np.eye(8)[labels][:, :size]
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert set(history.history) >= {"loss", "kl_loss", "reconstruction_loss", "elbo"}
    terms = model.loss_terms(x[:4], y[:4])
    assert np.isfinite(float(terms["loss"]))
    assert model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)["loss"] > 0
    log_p = np.asarray(model.importance_weighted_log_likelihood(x[:4], y[:4], num_samples=4))
    assert log_p.shape == (4,) and np.all(np.isfinite(log_p))


def test_the_decoder_output_depends_on_the_condition():
    model = build_cvae(DENSE, seed=0)
    z = np.zeros((1, 2), np.float32)
    a, b = (np.asarray(model.decode(z, [label])) for label in (0, 5))
    assert np.abs(a - b).max() > 1e-4
    np.testing.assert_allclose(model.decode(z, [5]), model.decode(z, np.eye(K)[[5]]), atol=1e-6)


def test_labels_are_checked():
    model = build_cvae(DENSE)
    x = rows(np.array([0, 1]))
    with pytest.raises(ValueError, match="class labels must be integers 0..7"):
        model.encode(x, [0, 8])
    with pytest.raises(ValueError, match="got 3 conditions for 2 images"):
        model.encode(x, [0, 1, 2])
    with pytest.raises(ValueError, match="needs the condition to encode"):
        model.encode(x)
    with pytest.raises(ValueError, match="one-hot rows"):
        model.encode(x, np.ones((2, 3)))
    binary = build_cvae(CONV)
    with pytest.raises(ValueError, match="values must lie in"):
        binary.encode(x, [[2, 0, 0]])
    assert np.asarray(binary.encode(x, [1, 0, 1])[0]).shape == (2, 3)  # one row for all


def test_sample_takes_one_condition_or_one_each():
    model = build_cvae(DENSE, seed=0)
    assert np.asarray(model.sample(5, seed=1, condition=3)).shape == (5, 8, 8, 1)
    assert np.asarray(model.sample(3, seed=1, condition=[0, 1, 2])).shape == (3, 8, 8, 1)
    with pytest.raises(ValueError, match="got 2 conditions for 3 images"):
        model.sample(3, condition=[0, 1])
    # no condition: classes in turn; binary attributes count up
    np.testing.assert_array_equal(model.default_condition(10).argmax(1), np.arange(10) % K)
    bits = build_cvae(CONV).default_condition(4)
    np.testing.assert_array_equal(bits, [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])


@pytest.fixture(scope="module")
def trained():
    """The dense CVAE after 2 epochs on the row images (a tf.data pipeline of pairs)."""
    keras.utils.set_random_seed(0)
    x, labels = toy(1024)
    ds = tf.data.Dataset.from_tensor_slices((x, labels.astype(np.int32))).batch(32)
    model = build_cvae(DENSE, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(ds, epochs=2, verbose=0, shuffle=False)
    return model


def test_a_trained_model_draws_the_row_its_label_asks_for(trained):
    labels = np.arange(K)
    samples = trained.sample(K, seed=0, condition=labels)
    assert (lit_row(samples) == labels).mean() >= 0.75  # chance: 1/8
    x = rows(labels)
    recon = trained.reconstruct(x, labels)
    assert (lit_row(recon) == labels).mean() >= 0.75
    # style transfer: the code of a row-0 image decoded as every label (after 2 epochs
    # the code still holds a little of the label, so the bar is lower: 4x chance)
    z = np.repeat(np.asarray(trained.encode(x[:1], [0])[0]), K, axis=0)
    assert (lit_row(trained.decode(z, labels)) == labels).mean() >= 0.5
    # the condition carries the information: given the right label the image is likely
    right = np.asarray(trained.importance_weighted_log_likelihood(x, labels, num_samples=8, seed=0))
    wrong = np.asarray(
        trained.importance_weighted_log_likelihood(x, (labels + 4) % K, num_samples=8, seed=0)
    )
    assert right.mean() > wrong.mean() + 5.0


def test_save_and_reload_decode_the_same(trained, tmp_path):
    path = tmp_path / "cvae.keras"
    trained.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, ConditionalVAE) and loaded.condition_size == K
    assert loaded.get_config()["arch_def"]["condition"] == {"classes": K}
    z = np.random.default_rng(0).standard_normal((6, 2)).astype(np.float32)
    y = np.array([0, 1, 2, 5, 6, 7])
    np.testing.assert_array_equal(np.asarray(loaded.decode(z, y)), np.asarray(trained.decode(z, y)))
    named = build_cvae(MAP)
    named.save(tmp_path / "named.keras")
    assert keras.models.load_model(tmp_path / "named.keras").condition_names == ("a", "b", "c")


def test_vaecore_train_resumes_a_conditional_run(tmp_path):
    x, labels = toy(64)
    ds = tf.data.Dataset.from_tensor_slices((x, labels)).batch(32)

    def fresh():
        model = build_cvae(DENSE, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        return model

    vaecore.train(fresh(), ds, epochs=1, run_dir=tmp_path / "run", verbose=0)
    history = vaecore.train(fresh(), ds, epochs=2, run_dir=tmp_path / "run", verbose=0)
    assert history["epoch"] == [0, 1]
    assert isinstance(keras.models.load_model(tmp_path / "run" / "model.keras"), ConditionalVAE)


def test_the_toolbox_and_diagnostics_take_the_condition(trained):
    from vaecore import diagnostics
    from vaecore.toolbox import VAEToolbox

    tb = VAEToolbox(trained)
    x = rows(np.arange(K))
    z = tb.encode(x, condition=np.arange(K))
    np.testing.assert_allclose(z, np.asarray(trained.encode(x, np.arange(K))[0]), atol=1e-6)
    np.testing.assert_allclose(
        tb.decode(z, condition=3), np.asarray(trained.decode(z, [3] * K)), atol=1e-6
    )
    assert tb.interpolate(x[0], x[1], steps=3, condition=2).shape == (3, 8, 8, 1)
    assert tb.latent_translate(x[:2], np.ones(2), scales=(0, 1), condition=[0, 1]).shape == (
        2, 2, 8, 8, 1,
    )  # fmt: skip
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(K))).batch(4)
    codes, labels = tb.encode_dataset(ds)
    np.testing.assert_allclose(codes, z, atol=1e-5)
    with pytest.raises(ValueError, match="needs the condition"):
        tb.encode(x)
    r = diagnostics.evaluate(trained, x, num_samples=4, y=np.arange(K))
    assert np.isfinite(r["nll"]) and r["num_images"] == K
    plain = vaecore.build_vae({k: v for k, v in DENSE.items() if k != "condition"})
    with pytest.raises(ValueError, match="condition= is for a conditional VAE"):
        VAEToolbox(plain).decode(np.zeros((1, 2)), condition=1)


# ----------------------------------------------------------------- web export


@pytest.mark.parametrize("arch", [DENSE, CONV, MAP], ids=["dense", "conv", "latent_map"])
def test_the_numpy_runtime_equals_keras_on_z_and_y(arch):
    model = build_cvae(arch, seed=0)
    spec = decoder_spec(model, precision="float32")
    size = model.condition_size
    assert spec["condition_shape"] == [size]
    assert any(op["op"] == "concat_condition" for op in spec["layers"])
    assert spec["condition"]["kind"] == model.condition_kind and spec["condition"]["size"] == size
    rng = np.random.default_rng(0)
    for i in range(2):
        z = rng.standard_normal((1, model.latent_dim)).astype(np.float32)
        y = np.zeros((1, size), np.float32)
        y[0, i] = 1.0
        expected = np.asarray(model.decode_logits(z, y))[0]
        np.testing.assert_allclose(run_network(spec, z[0], condition=y[0]), expected, atol=1e-4)
    enc = encoder_spec(model, precision="float32")
    x = rows(np.array([1]))
    np.testing.assert_allclose(
        run_network(enc, x[0], condition=y[0]).reshape(-1),
        np.asarray(model.encode(x, y)[0])[0],
        atol=1e-4,
    )
    with pytest.raises(ValueError, match="takes a condition"):
        run_network(spec, z[0])


# ----------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def rows_folder(tmp_path_factory):
    """4 sub-folders (classes 0..3) of 8x8 PNGs: class k lights rows 2k and 2k + 1."""
    root = tmp_path_factory.mktemp("cvae_cli")
    for k in range(4):
        folder = root / "images" / f"c{k}"
        folder.mkdir(parents=True)
        for i in range(10):
            pixels = np.zeros((8, 8), np.uint8)
            pixels[2 * k : 2 * k + 2] = 255
            Image.fromarray(pixels, "L").save(folder / f"img_{i}.png")
    arch = {"input": [8, 8, 1], "latent": 2, "hidden": [16], "name": "rows", "condition": 4}
    (root / "arch.json").write_text(json.dumps(arch))
    return root


def _train(root: Path, out: Path, *extra: str) -> int:
    return main(
        ["train", "--dataset", "folder", "--path", str(root / "images"), "--arch",
         str(root / "arch.json"), "--batch-size", "8", "--lr", "0.01", "--out", str(out),
         "--quiet", *extra]
    )  # fmt: skip


def test_the_cli_trains_samples_and_evaluates_a_conditional_model(rows_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(rows_folder, run, "--epochs", "2") == 0
    assert json.loads((run / "arch.json").read_text())["condition"] == {"classes": 4}
    assert isinstance(keras.models.load_model(run / "model.keras"), ConditionalVAE)
    assert _train(rows_folder, run, "--epochs", "3") == 0  # resumes
    assert vaecore.read_history(run)["epoch"] == [0, 1, 2]
    out = tmp_path / "two.png"
    assert main(["sample", "--model", str(run), "--num", "4", "--condition", "2", "--out", str(out)]) == 0
    assert Image.open(out).size == (2 * 8 + 1, 2 * 8 + 1)
    for cmd in (["reconstruct", "--num", "4"], ["interpolate", "--pairs", "1", "--steps", "3"]):
        assert main([*cmd, "--model", str(run), "--split", "all", "--out", str(tmp_path / "g.png")]) == 0
    result = tmp_path / "eval.json"
    assert main(["evaluate", "--model", str(run), "--split", "all", "--k", "4", "--json", str(result)]) == 0
    r = json.loads(result.read_text())
    assert r["conditional"] == "classes" and r["num_images"] == 40 and np.isfinite(r["nll_nats"])
    assert "-log p(x|y)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "cmd, words",
    [
        (["sample", "--condition", "7"], "--condition '7': a class label is 0..3"),
        (["sample", "--condition", "1", "--sampler", "gmm"], "--sampler gmm"),
    ],
)
def test_cli_condition_errors_are_one_line(rows_folder, tmp_path, capsys, cmd, words):
    run = tmp_path / "run"
    assert _train(rows_folder, run, "--epochs", "1") == 0
    capsys.readouterr()
    assert main([*cmd, "--model", str(run), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaecore: error:") and len(err.strip().splitlines()) == 1
    assert words in err and "Traceback" not in err


def test_cli_refuses_a_condition_column_without_a_condition(rows_folder, tmp_path, capsys):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"input": [8, 8, 1], "latent": 2, "hidden": [8], "name": "p"}))
    code = main(
        ["train", "--dataset", "folder", "--path", str(rows_folder / "images"), "--arch",
         str(plain), "--condition-column", "Smiling", "--out", str(tmp_path / "never")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--condition-column is for a conditional VAE" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "never").exists()


def test_condition_columns_pick_named_attributes():
    """CelebA-style labels: 40 named 0/1 columns, of which --condition-column picks some."""
    from vaecore.cli import CliError
    from vaecore.cli.conditional import check_condition, labelled, parse_condition

    arch = {"name": "faces", "condition": {"binary": 2}}
    cfg = {"condition_column": "Smiling, Eyeglasses", "dataset": "celeba"}
    check_condition(cfg, arch)
    assert arch["condition"] == {"binary": 2, "names": ["Smiling", "Eyeglasses"]}
    names = ["Bald", "Eyeglasses", "Smiling"]
    ds = tf.data.Dataset.from_tensor_slices(
        (np.zeros((3, 8, 8, 1), np.float32), np.array([[0, 1, 0], [1, 0, 1], [0, 1, 1]]))
    ).batch(3)
    ds.attribute_names, ds.num_examples = names, 3
    picked = labelled(ds, cfg, arch["condition"])
    (_, y), = list(picked)
    np.testing.assert_array_equal(y, [[0, 1], [1, 0], [1, 1]])
    assert picked.num_examples == 3
    with pytest.raises(CliError, match="has no label column"):
        labelled(ds, {**cfg, "condition_column": "Smiling,Blond_Hair"}, {"binary": 2})
    with pytest.raises(CliError, match="names 1 attribute"):
        check_condition({"condition_column": "Smiling"}, {"condition": {"binary": 2}})
    with pytest.raises(CliError, match="labels of 'celeba' have 3 columns"):
        labelled(ds, {"dataset": "celeba"}, {"binary": 2})
    model = build_cvae({**CONV, "condition": {"binary": ["Smiling", "Eyeglasses", "Male"]}})
    np.testing.assert_array_equal(parse_condition("Smiling,Male", model, 4), [1, 0, 1])
    np.testing.assert_array_equal(parse_condition("0,1,0", model, 4), [0, 1, 0])
    with pytest.raises(CliError, match="takes 3 attribute values"):
        parse_condition("1,0", model, 4)
