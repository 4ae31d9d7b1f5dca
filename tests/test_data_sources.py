"""General sources: folder (labels from sub-folders, stable split), path list, CSV."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.test_data_fixtures import class_folders, isolate, random_pixels, save_image
from vaecore.data import DatasetNotFoundError, MissingFilesError, load_dataset
from vaecore.data.sources import hash_fraction, split_indices


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)


def labels_of(ds):
    return np.concatenate([y.numpy() for _, y in ds])


def test_folder_labels_from_subfolders(tmp_path):
    root = tmp_path / "pets"
    class_folders(root, {"cat": 3, "dog": 5, "emu": 2})
    ds = load_dataset("folder", "all", path=root, labels=True, image_size=16, batch_size=4)
    assert ds.class_names == ("cat", "dog", "emu")
    assert ds.num_examples == 10
    x, _ = next(iter(ds))
    assert x.shape == (4, 16, 16, 3) and x.dtype.name == "float32"
    assert sorted(labels_of(ds).tolist()) == [0] * 3 + [1] * 5 + [2] * 2


def test_folder_recursive_and_unlabelled(tmp_path):
    root = tmp_path / "photos"
    save_image(root / "top.jpg", random_pixels((16, 16, 3)))
    save_image(root / "2024" / "june" / "deep.png", random_pixels((16, 16, 3)))
    ds = load_dataset("folder", "all", path=root, batch_size=None)
    assert ds.num_examples == 2 and ds.class_names is None
    with pytest.raises(ValueError, match="sub-folder"):
        load_dataset("folder", "all", path=root, labels=True)


def test_folder_splits_are_disjoint_complete_and_stable(tmp_path):
    root = tmp_path / "many"
    class_folders(root, {"a": 30, "b": 30}, size=(8, 8))
    names = {}
    for split in ("train", "test", "all"):
        ds = load_dataset("folder", split, path=root, batch_size=None, shuffle=False)
        names[split] = ds.num_examples
    assert names["train"] + names["test"] == names["all"] == 60
    assert 0 < names["test"] < 20  # ~10%
    rel = [f"a/img_{i:03d}.jpg" for i in range(30)] + [f"b/img_{i:03d}.jpg" for i in range(30)]
    train, test = set(split_indices(rel, "train")), set(split_indices(rel, "test"))
    assert not train & test and len(train | test) == 60
    # adding files never moves an existing file to the other split
    more = rel + [f"c/new_{i}.jpg" for i in range(50)]
    assert set(split_indices(more, "test")) & set(range(60)) == test
    assert split_indices(rel, "test", test_fraction=0.5).size > len(test)


def test_split_rule_is_pinned():
    # Regression pin: changing the hash rule would silently move readers' images between splits.
    assert hash_fraction("a/img_000.jpg") == pytest.approx(0.305773887, abs=1e-9)
    rel = [f"a/img_{i:03d}.jpg" for i in range(30)]
    assert split_indices(rel, "test").tolist() == [4, 12, 17]


def test_test_fraction_option(tmp_path):
    root = tmp_path / "f"
    class_folders(root, {"a": 20}, size=(8, 8))
    n_test = load_dataset(
        "folder", "test", path=root, test_fraction=0.5, batch_size=None
    ).num_examples
    assert 4 <= n_test <= 16
    with pytest.raises(ValueError, match="test_fraction"):
        load_dataset("folder", path=root, test_fraction=1.5)


def test_empty_folder_names_the_folder(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    (root / "notes.txt").write_text("hi")
    with pytest.raises(DatasetNotFoundError, match="no image files.*empty.*notes.txt"):
        load_dataset("folder", path=root)
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_dataset("folder", path=tmp_path / "nope")


def test_paths_with_string_labels(tmp_path):
    files = [save_image(tmp_path / f"{i}.png", random_pixels((8, 8, 3), i)) for i in range(4)]
    ds = load_dataset(
        "paths", "all", paths=files, file_labels=["b", "a", "b", "c"], labels=True, shuffle=False
    )
    assert ds.class_names == ("a", "b", "c")
    np.testing.assert_array_equal(labels_of(ds), [1, 0, 1, 2])


def test_paths_missing_files_error_or_skip(tmp_path):
    good = save_image(tmp_path / "ok.png", random_pixels((8, 8, 3)))
    gone = [tmp_path / "gone1.png", tmp_path / "gone2.png"]
    with pytest.raises(MissingFilesError) as err:
        load_dataset("paths", paths=[good, *gone])
    assert (
        "2 of 3" in str(err.value)
        and str(gone[0]) in str(err.value)
        and "missing='skip'" in str(err.value)
    )
    with pytest.warns(UserWarning, match="2 of 3 listed files do not exist"):
        ds = load_dataset("paths", "all", paths=[good, *gone], missing="skip")
    assert ds.num_examples == 1


def write_csv(path, rows, header=("path", "label")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_csv_relative_paths_and_labels(tmp_path):
    base = tmp_path / "set"
    for i in range(4):
        save_image(base / "img" / f"{i}.jpg", random_pixels((10, 10, 3), i))
    write_csv(base / "index.csv", [(f"img/{i}.jpg", i % 2) for i in range(4)])
    ds = load_dataset(
        "csv", "all", path=base / "index.csv", label_column="label", labels=True, shuffle=False
    )
    np.testing.assert_array_equal(labels_of(ds), [0, 1, 0, 1])
    assert ds.class_names is None  # integer labels are used as they are
    x, _ = next(iter(ds))
    assert x.shape == (4, 10, 10, 3)


def test_csv_custom_column_and_semicolons(tmp_path):
    save_image(tmp_path / "a.png", random_pixels((6, 6, 3)))
    (tmp_path / "list.csv").write_text("file;kind\na.png;cat\n")
    ds = load_dataset(
        "csv", "all", path=tmp_path / "list.csv", column="file", label_column="kind", labels=True
    )
    assert ds.class_names == ("cat",)


def test_csv_missing_rows_listed(tmp_path):
    save_image(tmp_path / "a.png", random_pixels((6, 6, 3)))
    write_csv(tmp_path / "l.csv", [("a.png", 0), ("lost/b.png", 1)])
    with pytest.raises(MissingFilesError, match=r"1 of 2 listed files do not exist:\n.*lost/b.png"):
        load_dataset("csv", path=tmp_path / "l.csv")
    with pytest.warns(UserWarning, match="lost/b.png"):
        assert load_dataset("csv", "all", path=tmp_path / "l.csv", missing="skip").num_examples == 1


def test_csv_unknown_column_lists_columns(tmp_path):
    write_csv(tmp_path / "l.csv", [("a.png", 0)])
    with pytest.raises(ValueError, match=r"no column 'filename'.*\['path', 'label'\]"):
        load_dataset("csv", path=tmp_path / "l.csv", column="filename")


def test_general_sources_reject_data_dir(tmp_path):
    with pytest.raises(TypeError, match="does not use data_dir"):
        load_dataset("folder", path=tmp_path, data_dir=tmp_path)


def test_limit_covers_every_class_of_a_folder(tmp_path):
    root = tmp_path / "classes"
    class_folders(root, {"a": 6, "b": 6, "c": 6}, size=(8, 8))
    ds = load_dataset("folder", "all", path=root, limit=3, labels=True)
    assert sorted(labels_of(ds).tolist()) == [0, 1, 2]


def test_cache_true_gives_the_same_images_reshuffled(tmp_path):
    root = tmp_path / "cached"
    class_folders(root, {"a": 5, "b": 5}, size=(8, 8))
    plain = load_dataset("folder", "all", path=root, shuffle=False, batch_size=None)
    cached = load_dataset("folder", "all", path=root, cache=True, seed=0, batch_size=None)
    reference = sorted(x.numpy().tobytes() for x in plain)
    epochs = [[x.numpy().tobytes() for x in cached] for _ in range(2)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == reference
    assert epochs[0] != epochs[1]  # reshuffled every epoch


def test_binarize_files(tmp_path):
    root = tmp_path / "grey"
    for i in range(4):
        save_image(root / f"{i}.png", np.full((8, 8), 128, np.uint8))
    ds = load_dataset("folder", "all", path=root, binarize=True, channels=1, batch_size=4, seed=2)
    first, second = next(iter(ds)).numpy(), next(iter(ds)).numpy()
    assert set(np.unique(first)) == {0.0, 1.0}
    assert not np.array_equal(first, second)
    assert abs(first.mean() - 128 / 255) < 0.1


def test_folder_symlink_loop_and_relative_path(tmp_path, monkeypatch):
    root = tmp_path / "loop"
    save_image(root / "a" / "x.png", random_pixels((8, 8, 3)))
    (root / "a" / "back").symlink_to(root, target_is_directory=True)  # a cycle
    monkeypatch.chdir(tmp_path)
    ds = load_dataset("folder", "all", path="loop", batch_size=None)
    assert ds.num_examples == 1


def test_own_data_defaults_to_every_file(tmp_path):
    root = tmp_path / "mine"
    class_folders(root, {"a": 10, "b": 10})
    assert load_dataset("folder", path=root, image_size=8).num_examples == 20
    train = load_dataset("folder", "train", path=root, image_size=8).num_examples
    test = load_dataset("folder", "test", path=root, image_size=8).num_examples
    assert train + test == 20


def test_file_pipelines_declare_their_length(tmp_path):
    root = tmp_path / "pets"
    class_folders(root, {"cat": 4, "dog": 6})
    for batch_size, drop, expected in [(4, False, 3), (4, True, 2), (None, False, 10)]:
        ds = load_dataset(
            "folder", "all", path=root, image_size=8, batch_size=batch_size, drop_remainder=drop
        )
        assert int(ds.cardinality()) == expected == sum(1 for _ in ds)
    binarized = load_dataset("folder", "all", path=root, image_size=8, batch_size=4, binarize=True)
    assert int(binarized.cardinality()) == 3


def test_keras_metrics_on_a_file_pipeline_are_exact_batch_means(tmp_path):
    """With an unknown length, Keras 3 averages an extra empty step into its metrics."""
    import keras
    import tensorflow as tf

    import vaecore

    root = tmp_path / "pets"
    class_folders(root, {"cat": 5, "dog": 5}, size=(8, 8))
    ds = load_dataset("folder", "all", path=root, image_size=8, batch_size=4, shuffle=False)
    images = np.concatenate([x.numpy() for x in ds])
    keras.utils.set_random_seed(0)
    model = vaecore.build_vae(
        {"input": (8, 8, 3), "latent": 2, "encode": [(4, 3, 2)], "name": "tiny"},
        likelihood="gaussian",
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    in_memory = tf.data.Dataset.from_tensor_slices(images).batch(4)
    # The KL term has no sampling noise: both pipelines hold the same batches.
    from_files = model.evaluate(ds, return_dict=True, verbose=0)["kl_loss"]
    from_memory = model.evaluate(in_memory, return_dict=True, verbose=0)["kl_loss"]
    np.testing.assert_allclose(from_files, from_memory, rtol=1e-5)
