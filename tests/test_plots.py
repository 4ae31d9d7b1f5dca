"""vaecore.plots: every figure function returns a Figure with the expected content."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy.stats import norm  # noqa: E402

from vaecore import build_vae, plots  # noqa: E402

ARCH = {"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "tiny_plots"}


@pytest.fixture(scope="module")
def model():
    return build_vae(ARCH, seed=0)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((10, 8, 8, 1)).astype("float32")


@pytest.fixture(autouse=True)
def no_show_and_close(monkeypatch):
    """Fail if a plot function calls plt.show(); close every figure afterwards."""

    def forbidden(*args, **kwargs):
        raise AssertionError("plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)
    yield
    plt.close("all")


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


# --------------------------------------------------------------------------- image grids


def test_image_grid_grayscale(images):
    fig = plots.image_grid(images[:7], titles=[str(i) for i in range(7)], suptitle="digits")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 7
    assert axes[0].images[0].get_cmap().name == "gray"
    assert axes[0].images[0].get_array().shape == (8, 8)
    assert axes[3].get_title() == "3"
    assert fig._suptitle.get_text() == "digits"


def test_image_grid_rgb_tensor_and_layout():
    rgb = tf.random.uniform((6, 5, 5, 3), seed=1)
    fig = plots.image_grid(rgb, nrows=2)
    axes = image_axes(fig)
    assert len(axes) == 6
    assert axes[0].images[0].get_array().shape == (5, 5, 3)
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)


def test_image_grid_five_d_keeps_rows_and_labels(images):
    grid = images[:6].reshape(2, 3, 8, 8, 1)
    fig = plots.image_grid(grid, row_labels=["first", "second"])
    axes = image_axes(fig)
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)
    assert axes[0].get_ylabel() == "first" and axes[3].get_ylabel() == "second"


def test_image_grid_into_axes_is_one_montage(images):
    fig, ax = plt.subplots()
    out = plots.image_grid(images[:6], nrows=2, ncols=3, ax=ax)
    assert out is fig and len(ax.images) == 1
    assert ax.images[0].get_array().shape == (2 * 8 + 1, 3 * 8 + 2)  # 1-px padding


def test_image_grid_errors(images):
    with pytest.raises(ValueError, match="N, H, W, C"):
        plots.image_grid(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="cannot hold"):
        plots.image_grid(images, nrows=2, ncols=2)
    with pytest.raises(ValueError, match="titles"):
        plots.image_grid(images[:3], titles=["a"])


def test_reconstructions_rows(model, images):
    fig = plots.reconstructions(model, images, n=4)
    axes = image_axes(fig)
    assert len(axes) == 8
    top = np.stack([ax.images[0].get_array() for ax in axes[:4]])
    bottom = np.stack([ax.images[0].get_array() for ax in axes[4:]])
    np.testing.assert_allclose(top, images[:4, ..., 0], atol=1e-6)
    expected = np.asarray(model.reconstruct(images[:4]))[..., 0]
    np.testing.assert_allclose(bottom, expected, atol=1e-5)
    assert axes[0].get_ylabel() == "original" and axes[4].get_ylabel() == "reconstruction"


# --------------------------------------------------------------------------- scatters


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(2)
    return rng.normal(size=(200, 4)).astype("float32"), rng.integers(0, 3, 200)


def test_latent_scatter_2d_legend_has_class_names(codes):
    z, y = codes
    fig = plots.latent_scatter_2d(z, y, class_names=["zero", "one", "two"])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["zero", "one", "two"]
    assert ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[1]"
    np.testing.assert_allclose(ax.collections[0].get_offsets(), z[:, :2])


def test_latent_scatter_2d_dims_onehot_and_continuous(codes):
    z, y = codes
    fig = plots.latent_scatter_2d(z, np.eye(3)[y], dims=(2, 3))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "z[2]" and len(ax.get_legend().get_texts()) == 3
    fig = plots.latent_scatter_2d(z, z[:, 0], label_name="z0")  # continuous -> colour bar
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "z0"
    fig = plots.latent_scatter_2d(z)  # no labels, no legend
    assert fig.axes[0].get_legend() is None


def test_latent_scatter_errors(codes):
    z, y = codes
    with pytest.raises(ValueError, match="latent_dim=4"):
        plots.latent_scatter_2d(z, y, dims=(0, 4))
    with pytest.raises(ValueError, match="labels"):
        plots.latent_scatter_2d(z, y[:10])
    with pytest.raises(ValueError, match="3D axes"):
        plots.latent_scatter_3d(z, y, ax=plt.figure().add_subplot())


def test_latent_scatter_3d(codes):
    z, y = codes
    fig = plots.latent_scatter_3d(z, y, class_names=["a", "b", "c"], elev=30, azim=45)
    (ax,) = fig.axes
    assert ax.name == "3d" and ax.elev == 30 and ax.azim == 45
    assert ax.get_zlabel() == "z[2]"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]


def test_latent_scatter_3d_views(codes):
    z, y = codes
    angles = [(10, 20), (30, 40), (50, 60), (70, 80)]
    fig = plots.latent_scatter_3d_views(z, y, class_names=["a", "b", "c"], angles=angles)
    axes = [ax for ax in fig.axes if ax.name == "3d"]
    assert len(axes) == 4
    assert [(ax.elev, ax.azim) for ax in axes] == angles
    assert len(fig.legends) == 1
    fig.canvas.draw()  # renders without error


# --------------------------------------------------------------------------- manifold


def test_latent_manifold_size_and_ticks(model):
    n = 6
    fig = plots.latent_manifold(model, n=n)
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid.shape == (n * 8, n * 8)
    values = norm.ppf(np.linspace(0.05, 0.95, n))
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{v:.2f}" for v in values]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{v:.2f}" for v in values[::-1]]
    assert ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[1]"


def test_manifold_image_orientation(model):
    image, xs, ys = plots.manifold_image(model, n=4)
    assert image.shape == (32, 32, 1)
    top_left = np.asarray(model.decode(np.array([[xs[0], ys[0]]], np.float32)))[0]
    bottom_right = np.asarray(model.decode(np.array([[xs[-1], ys[-1]]], np.float32)))[0]
    np.testing.assert_allclose(image[:8, :8], top_left, atol=1e-5)
    np.testing.assert_allclose(image[-8:, -8:], bottom_right, atol=1e-5)
    assert ys[0] > ys[-1] and xs[0] < xs[-1]  # y grows upwards, x to the right
    with pytest.raises(ValueError, match="latent_dim=2"):
        plots.manifold_image(model, dims=(0, 2))


# --------------------------------------------------------------------------- training curves

HISTORY = {
    "loss": [3.0, 2.0, 1.5],
    "reconstruction_loss": [2.5, 1.8, 1.3],
    "kl_loss": [0.5, 0.2, 0.2],
    "val_loss": [3.2, 2.2, 1.7],
    "val_reconstruction_loss": [2.7, 2.0, 1.5],
    "val_kl_loss": [0.5, 0.2, 0.2],
}


def check_curves(fig, n_epochs):
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "Total loss",
        "Reconstruction loss",
        "KL divergence",
    ]
    # what a reader sees: the axes in words and units, the dashed curve named as the test split
    assert [ax.get_ylabel() for ax in axes] == [
        "reconstruction + β·KL (nats per image)",
        "−log p(x|z) (nats per image)",
        "KL(q(z|x) ‖ p(z)) (nats per image)",
    ]
    for ax in axes:
        assert ax.get_xlabel() == "epoch"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
        assert list(ax.lines[0].get_xdata()) == list(range(1, n_epochs + 1))


def test_training_curves_dict_and_dataframe():
    fig = plots.training_curves(HISTORY)
    check_curves(fig, 3)
    for ax, metric in zip(fig.axes, ["loss", "reconstruction_loss", "kl_loss"], strict=True):
        train, validation = ax.lines
        assert list(train.get_ydata()) == HISTORY[metric]
        assert list(validation.get_ydata()) == HISTORY[f"val_{metric}"]
    pd = pytest.importorskip("pandas")
    check_curves(plots.training_curves(pd.DataFrame(HISTORY)), 3)


def test_training_curves_from_real_fit_history_and_csv(model, images, tmp_path):
    csv_path = tmp_path / "log.csv"
    fit_model = build_vae(ARCH, seed=1)
    fit_model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    history = fit_model.fit(
        images,
        epochs=2,
        batch_size=5,
        validation_data=(images,),
        callbacks=[keras.callbacks.CSVLogger(str(csv_path))],
        verbose=0,
    )
    check_curves(plots.training_curves(history), 2)
    check_curves(plots.training_curves(csv_path), 2)
    check_curves(plots.training_curves(str(csv_path)), 2)


def test_training_curves_choices_and_errors(tmp_path):
    fig = plots.training_curves({"loss": [1.0, 0.5], "elbo": [-1.0, -0.5]}, metrics=["elbo"])
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "ELBO"
    fig, axes = plt.subplots(1, 3)
    assert plots.training_curves(HISTORY, ax=axes) is fig
    with pytest.raises(ValueError, match="available columns"):
        plots.training_curves(HISTORY, metrics=["accuracy"])
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        plots.training_curves(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="History"):
        plots.training_curves(42)


def test_training_curves_labels_say_what_and_in_which_unit():
    # no raw keys such as "reconstruction_loss" or "val_kl_loss" on an axis or in a legend
    fig = plots.training_curves(HISTORY)
    shown = [ax.get_ylabel() for ax in fig.axes] + [
        t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()
    ]
    assert not [text for text in shown if "_" in text], shown
    # the split is named by the caller where it is not the test split
    fig = plots.training_curves(HISTORY, val_label="validation (10% of train)")
    assert {t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()} == {
        "train",
        "validation (10% of train)",
    }
    # another unit, or none (e.g. a history logged per pixel)
    fig = plots.training_curves(HISTORY, metrics=["kl_loss"], units="bits per image")
    assert fig.axes[0].get_ylabel() == "KL(q(z|x) ‖ p(z)) (bits per image)"
    fig = plots.training_curves(HISTORY, metrics=["loss", "kl_loss"], units=None)
    assert [ax.get_ylabel() for ax in fig.axes] == ["reconstruction + β·KL", "KL(q(z|x) ‖ p(z))"]
    fig = plots.training_curves({"elbo": [-3.0, -2.0], "val_elbo": [-3.1, -2.2]}, metrics=["elbo"])
    assert fig.axes[0].get_ylabel() == "ELBO (nats per image, higher is better)"
    fig = plots.training_curves({"elbo": [-3.0, -2.0]}, metrics=["elbo"], units=None)
    assert fig.axes[0].get_ylabel() == "ELBO (higher is better)"
    # a metric the function does not know keeps its name, without inventing a unit
    fig = plots.training_curves({"accuracy_top5": [0.1, 0.2]}, metrics=["accuracy_top5"])
    assert fig.axes[0].get_ylabel() == "accuracy top5"
    assert fig.axes[0].get_title() == "Accuracy top5"
    plt.close("all")


def test_training_curves_from_run_directory_with_na(tmp_path):
    rows = [
        "epoch,kl_loss,loss,reconstruction_loss,val_loss",
        "0,0.5,3.0,2.5,NA",
        "1,0.4,2.0,1.6,NA",
    ]
    (tmp_path / "history.csv").write_text("\n".join(rows) + "\n")
    fig = plots.training_curves(tmp_path)
    assert len(fig.axes) == 3
    assert [len(ax.lines) for ax in fig.axes] == [1, 1, 1]  # all-NA validation dropped
    assert list(fig.axes[0].lines[0].get_ydata()) == [3.0, 2.0]


def test_as_jpeg_is_a_smaller_image_than_the_png_and_closes_the_figure():
    import io

    import matplotlib.pyplot as plt
    from PIL import Image as PILImage

    rng = np.random.default_rng(0)  # smooth colour fields with a little grain, like photographs
    yy, xx = np.mgrid[0:64, 0:64] / 64.0
    waves = [np.sin(2 * np.pi * (f1 * xx + f2 * yy) + p) for f1, f2, p in rng.uniform(0, 3, (24, 3))]
    photos = 0.5 + 0.25 * np.stack(waves).reshape(8, 3, 64, 64).transpose(0, 2, 3, 1)
    photos = np.clip(photos + 0.04 * rng.normal(size=photos.shape), 0, 1).astype("float32")  # grain
    fig = plots.image_grid(photos, nrows=2)
    png = io.BytesIO()
    fig.savefig(png, format="png", bbox_inches="tight")
    number = fig.number
    image = plots.as_jpeg(fig, quality=80)
    assert image.format == "jpeg" and image.data[:2] == b"\xff\xd8"  # a JPEG stream
    assert len(image.data) < 0.6 * png.getbuffer().nbytes
    assert PILImage.open(io.BytesIO(image.data)).size == PILImage.open(png).size
    assert number not in plt.get_fignums()
    with pytest.raises(ValueError, match="quality"):
        plots.as_jpeg(plots.image_grid(photos), quality=0)
