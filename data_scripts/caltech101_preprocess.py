"""Make fixed-size training sets (92 px and 128 px by default) from Caltech-101.

The original project trained its VAE on Caltech-101 at 92x92 and 128x128.
This tool writes ``<output>/92/<category>/image_0001.jpg`` and
``<output>/128/<category>/...`` from either

* the official folder layout, ``.../101_ObjectCategories/<category>/*.jpg``
  (pass ``101_ObjectCategories`` itself or the folder that contains it), or
* a tar archive with that layout, e.g. the book's shared
  ``caltech101_subset20.tar.gz`` or the official ``101_ObjectCategories.tar.gz``
  (read directly, no need to extract it first).

``BACKGROUND_Google`` (clutter pictures, not a category) is left out unless
``--include-background``. Grayscale pictures become RGB, so every output is a
3-channel JPEG.
"""

from __future__ import annotations

import argparse
import tarfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

try:
    from data_scripts import _common as common
    from data_scripts import resize
except ImportError:  # run as a script: python data_scripts/caltech101_preprocess.py
    import _common as common
    import resize

ROOT_NAME = "101_ObjectCategories"
BACKGROUND = "BACKGROUND_Google"
DEFAULT_SIZES = [(92, 92), (128, 128)]

EXAMPLE = """\
examples (from the repository root):
  python data_scripts/caltech101_preprocess.py \\
      --input /work/shared/data/caltech101/caltech101_subset20.tar.gz --output /tmp/caltech101
  python data_scripts/caltech101_preprocess.py --input ~/data/101_ObjectCategories \\
      --output ~/data/caltech101_sets --sizes 64 --mode pad --limit-per-category 30

Writes <output>/<size>/<category>/<name>.jpg for each size (92 and 128 by default).
The summary counts output files (one per image and size). Re-running skips
files that are already done. Exit codes: 0 ok, 1 a bad file with --strict, 2 bad arguments.
"""


@dataclass
class Item:
    """One input picture: its category, path inside the category, and how to read it."""

    category: str
    rel: PurePosixPath
    label: str
    source: Path | tarfile.TarInfo


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of this tool."""
    parser = common.make_parser(
        "caltech101_preprocess.py",
        "Resize Caltech-101 (folder layout or .tar/.tar.gz archive) into one JPEG set per size.",
        EXAMPLE,
    )
    parser.add_argument(
        "--input",
        required=True,
        type=Path,
        metavar="PATH",
        help=f"{ROOT_NAME} folder, a folder containing it, or a .tar/.tar.gz archive of it",
    )
    parser.add_argument("--output", required=True, type=Path, help="folder for the sets (created)")
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=common.size_arg,
        default=DEFAULT_SIZES,
        metavar="N|WxH",
        help="one or more target sizes (default: 92 128); each gets its own sub-folder",
    )
    parser.add_argument(
        "--mode",
        choices=("crop", "stretch", "pad"),
        default="crop",
        help="crop (default): centre crop to square then resize; stretch: plain resize "
        "(distorts the aspect ratio); pad: letterbox on --background",
    )
    parser.add_argument(
        "--background",
        type=common.color_arg,
        default=(255, 255, 255),
        metavar="COLOUR",
        help="pad colour for --mode pad: white (default), black, #rrggbb",
    )
    parser.add_argument(
        "--include-background",
        action="store_true",
        help=f"also process the {BACKGROUND} clutter folder (left out by default)",
    )
    parser.add_argument(
        "--categories", nargs="+", metavar="NAME", help="only these categories (default: all)"
    )
    parser.add_argument(
        "--limit-per-category",
        type=common.positive_int_arg,
        metavar="N",
        help="only the first N images of each category, by file name (quick trial runs)",
    )
    common.add_format_options(parser, choices=False)
    common.add_run_options(parser)
    return parser


def split_member(parts: Sequence[str]) -> tuple[str, PurePosixPath] | None:
    """``(category, path in category)`` for path parts below the root, or None.

    None for files directly in the root (no category) and for unsafe or
    hidden parts (``..``, ``/``, ``.git``): such names never reach an output path.
    """
    if len(parts) < 2 or any(p in ("", ".", "..") or p.startswith(("/", ".")) for p in parts):
        return None
    return parts[0], PurePosixPath(*parts[1:])


def folder_items(path: Path) -> tuple[list[Item], list[str]]:
    """Items and ignored files from the official folder layout below ``path``."""
    root = path / ROOT_NAME if (path / ROOT_NAME).is_dir() else path
    scan = common.scan_images(root)
    items, ignored = [], [str(root / p) for p in scan.ignored]
    for rel in scan.images:
        split = split_member(rel.parts)
        if split is None:
            ignored.append(str(root / rel))
        else:
            items.append(Item(split[0], split[1], str(root / rel), root / rel))
    return items, ignored


def archive_items(archive: Path, tar: tarfile.TarFile) -> tuple[list[Item], list[str]]:
    """Items and ignored files from a tar archive with the folder layout.

    Members below a ``101_ObjectCategories/`` folder (at any depth) are used;
    an archive without that folder is read as ``<category>/<file>``.
    """
    members = [m for m in tar.getmembers() if m.isfile()]
    all_parts = [PurePosixPath(m.name).parts for m in members]
    anchored = any(ROOT_NAME in parts for parts in all_parts)
    items, ignored = [], []
    for member, parts in zip(members, all_parts, strict=True):
        if anchored:
            if ROOT_NAME not in parts:
                continue
            parts = parts[parts.index(ROOT_NAME) + 1 :]
        label = f"{archive}:{member.name}"
        split = split_member(parts)
        if split is None or not common.is_image_name(parts[-1]):
            if not any(p.startswith(".") for p in parts[:-1]):  # hidden folders stay silent
                ignored.append(label)
            continue
        items.append(Item(split[0], split[1], label, member))
    return items, ignored


def select(items: list[Item], args: argparse.Namespace) -> list[Item]:
    """Apply --include-background, --categories and --limit-per-category.

    Items are sorted by category and file name first, so the limit keeps the
    first N files of each category (image_0001, image_0002, ...).
    """
    wanted = set(args.categories) if args.categories else None
    kept: list[Item] = []
    per_category: dict[str, int] = {}
    for item in sorted(items, key=lambda i: (i.category, i.rel.as_posix())):
        if item.category == BACKGROUND and not args.include_background:
            continue
        if wanted is not None and item.category not in wanted:
            continue
        count = per_category.get(item.category, 0)
        if args.limit_per_category is not None and count >= args.limit_per_category:
            continue
        per_category[item.category] = count + 1
        kept.append(item)
    return kept


def plan_tasks(
    items: list[Item], output: Path, sizes: list[common.Size], stats: common.Stats
) -> list[common.Task]:
    """One task per picture, writing ``<output>/<size>/<category>/<stem>.jpg`` per size.

    ``task.source`` is ``(item, {output path: size})``. Two pictures that map
    to the same output name (``a.png`` and ``a.jpg``) are not both written:
    the second is recorded as failed.
    """
    tasks, claimed = [], {}
    for item in items:
        rel_out = Path(item.category, *item.rel.with_suffix(".jpg").parts)
        key = rel_out.as_posix().lower()
        if key in claimed:
            stats.failed.append(
                (item.label, f"output name {rel_out} already used by {claimed[key]}")
            )
            continue
        claimed[key] = item.label
        targets = {output / common.size_name(size) / rel_out: size for size in sizes}
        tasks.append(common.Task(item.label, list(targets), (item, targets)))
    return tasks


def make_sizes(
    img, targets: dict[Path, common.Size], outputs: list[Path], args: argparse.Namespace
) -> None:
    """Resize one decoded picture to each pending output's size and save it as JPEG."""
    rgb = common.flatten(img, args.background)
    for path in outputs:
        out = resize.resize_image(rgb, targets[path], args.mode, args.background)
        common.save_atomic(out, path, "JPEG", args.quality)


def open_archive(parser: argparse.ArgumentParser, path: Path) -> tarfile.TarFile:
    """Open a tar/tar.gz/tar.bz2/tar.xz archive or exit 2 with a clear message."""
    try:
        if not tarfile.is_tarfile(path):
            parser.error(f"--input {path}: not a folder and not a tar archive")
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        parser.error(f"--input {path}: cannot read the archive ({exc})")
    raise AssertionError("unreachable")  # parser.error exits


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build every size set, print the summary; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    src: Path = args.input
    if not src.exists():
        parser.error(f"--input {src}: no such file or folder")
    sizes = list(dict.fromkeys(args.sizes))  # drop repeated sizes, keep order

    tar = None
    if src.is_dir():
        items, ignored = folder_items(src)
    else:
        tar = open_archive(parser, src)
        try:
            items, ignored = archive_items(src, tar)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            parser.error(f"--input {src}: cannot read the archive ({exc})")
    if args.categories:
        missing = sorted(set(args.categories) - {i.category for i in items})
        if missing:
            parser.error(f"--categories: not found in the input: {', '.join(missing)}")
    output = common.check_output_dir(parser, args.output, src)

    stats = common.Stats(ignored=ignored)
    tasks = plan_tasks(select(items, args), output, sizes, stats)
    if tar is not None:  # read a compressed archive front to back, never seeking back
        tasks.sort(key=lambda t: t.source[0].source.offset_data)

    def work(task: common.Task, outputs: list[Path]) -> None:
        item, targets = task.source
        if tar is None:
            data = item.source
        else:
            try:
                data = tar.extractfile(item.source).read()
            except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                raise common.BadImage(f"cannot read from the archive ({exc})") from exc
        make_sizes(common.open_image(data), targets, outputs, args)

    try:
        return common.run_tasks(tasks, work, args, stats, protected=[src], desc="caltech101")
    finally:
        if tar is not None:
            tar.close()


if __name__ == "__main__":
    common.run_main(main)
