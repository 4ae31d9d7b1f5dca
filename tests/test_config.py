"""Data directories, cache and the fast mode are steered by environment variables."""

from pathlib import Path

import pytest

from vaecore import config


def test_data_dirs_order(monkeypatch, tmp_path):
    monkeypatch.setenv("VAECORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VAECORE_CACHE_DIR", str(tmp_path / "cache"))
    assert config.data_dirs() == [tmp_path / "data", tmp_path / "cache" / "data"]
    monkeypatch.delenv("VAECORE_DATA_DIR")
    assert config.data_dirs() == [tmp_path / "cache" / "data"]


def test_default_cache_is_under_home(monkeypatch):
    monkeypatch.delenv("VAECORE_CACHE_DIR", raising=False)
    assert config.cache_dir() == Path("~/.cache/vaecore").expanduser()


@pytest.mark.parametrize("value, fast", [("1", True), ("yes", True), ("0", False), ("", False), ("false", False)])
def test_fast_mode(monkeypatch, value, fast):
    monkeypatch.setenv("VAECORE_FAST", value)
    assert config.fast_mode() is fast


def test_run_dir_separates_fast_runs(monkeypatch, tmp_path):
    monkeypatch.setenv("VAECORE_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("VAECORE_FAST", "0")
    assert config.run_dir("mnist") == tmp_path / "mnist"
    monkeypatch.setenv("VAECORE_FAST", "1")
    assert config.run_dir("mnist") == tmp_path / "mnist-fast"
