"""Exceptions and warnings raised by :mod:`vaecore.data`.

They subclass the built-in types a reader would expect (``FileNotFoundError``,
``ValueError``), so ``except FileNotFoundError`` keeps working, while the message
always says which dataset or files are concerned and what to do about it.
"""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither on disk nor downloadable (offline, refused, or no URL)."""


class MissingFilesError(FileNotFoundError):
    """Files listed by the caller (path list, CSV rows) do not exist."""


class BadImageError(ValueError):
    """``strict=True`` was asked and some files are not decodable images."""


class BadImageWarning(UserWarning):
    """Some files were skipped because they are not decodable images."""
