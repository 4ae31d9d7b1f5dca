"""List the images below a folder in a CSV file: one ``path`` and ``label`` per row.

The label is the name of the first sub-folder below ``--input`` (the usual
``<class>/<image>`` layout); images directly in ``--input`` get an empty
label. Paths are written relative to the folder that holds the CSV, so the
CSV and the images can be moved together; the vaecore CSV loader resolves
them against the CSV's folder. ``--absolute`` writes absolute paths instead.

Only real images are listed: the extension must be an image one *and* Pillow
must decode the file (so a truncated JPEG or a text file named ``.png`` never
reaches training). Skipped files are reported at the end.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

try:
    from data_scripts import _common as common
except ImportError:  # run as a script: python data_scripts/make_csv.py
    import _common as common

EXAMPLE = """\
examples (from the repository root):
  python data_scripts/make_csv.py --input /tmp/caltech101/92 --output /tmp/caltech101/caltech101_92.csv
  python data_scripts/make_csv.py --input /tmp/pokemon_64 --output /tmp/pokemon_64.csv --no-labels

Labels come from the first folder level below --input, so point --input at one
size folder (92/), not at a folder holding several (92/ and 128/).

The CSV has the columns path,label (or only path with --no-labels), sorted by
path. An existing CSV is kept unless --overwrite.
Exit codes: 0 ok, 1 a bad file with --strict, 2 bad arguments.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of this tool."""
    parser = common.make_parser(
        "make_csv.py",
        "Write a CSV of the image paths below a folder, labelled by sub-folder name.",
        EXAMPLE,
    )
    parser.add_argument(
        "--input", required=True, type=Path, help="folder of images (searched recursively)"
    )
    parser.add_argument(
        "--output", required=True, type=Path, metavar="FILE.csv", help="CSV file to write"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--relative",
        dest="absolute",
        action="store_false",
        help="paths relative to the CSV's folder, with / separators (default)",
    )
    where.add_argument("--absolute", dest="absolute", action="store_true", help="absolute paths")
    parser.set_defaults(absolute=False)
    parser.add_argument("--no-labels", action="store_true", help="write only the path column")
    parser.add_argument(
        "--check",
        choices=("full", "header"),
        default="full",
        help="full (default): decode every image, so truncated files are caught; "
        "header: only check that Pillow recognises the file (faster)",
    )
    common.add_run_options(parser)
    return parser


def check_image(path: Path, full: bool = True) -> None:
    """Raise BadImage unless ``path`` is an image Pillow can read.

    ``full`` decodes all pixels (catches truncation); otherwise only the
    header is parsed, which is enough to reject zero-byte and non-image files.
    """
    if full:
        common.open_image(path)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise common.BadImage(f"cannot read file ({exc.strerror or exc})") from exc
    if not data:
        raise common.BadImage("empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)):
            pass
    except Exception as exc:  # any decoder error means "not an image"
        raise common.BadImage(common.describe_error(exc)) from exc


def label_of(rel: Path) -> str:
    """The class label of an image at ``rel`` (relative to --input): its first folder."""
    return rel.parts[0] if len(rel.parts) > 1 else ""


def csv_path(image: Path, csv_dir: Path, absolute: bool) -> str:
    """The path written for ``image``: absolute, or relative to ``csv_dir`` with ``/``."""
    image = image.resolve()
    if absolute:
        return str(image)
    return Path(os.path.relpath(image, csv_dir.resolve())).as_posix()


def render_csv(rows: Sequence[tuple[str, str]], labels: bool) -> bytes:
    """The CSV file content (UTF-8, ``\\n`` line ends, header row first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "label"] if labels else ["path"])
    for path, label in rows:
        writer.writerow([path, label] if labels else [path])
    return buffer.getvalue().encode("utf-8")


def check_output(
    parser: argparse.ArgumentParser, output: Path, input_dir: Path, images: Sequence[Path]
) -> None:
    """Exit 2 if ``output`` is not a usable CSV path or would replace an input image."""
    if output.suffix.lower() != ".csv":
        parser.error(f"--output {output}: the file name must end in .csv")
    if output.is_dir():
        parser.error(f"--output {output}: is a folder; give a file name ending in .csv")
    target = output.resolve()
    if any((input_dir / rel).resolve() == target for rel in images):
        parser.error(f"--output {output}: is one of the input images; refusing to overwrite it")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, check every image, write the CSV; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    input_dir = common.check_input_dir(parser, args.input)
    output: Path = args.output
    scan = common.scan_images(input_dir)
    check_output(parser, output, input_dir, scan.images)

    stats = common.Stats(unit="rows")
    stats.ignored = [
        str(input_dir / p) for p in scan.ignored if (input_dir / p).resolve() != output.resolve()
    ]
    if output.exists() and not args.overwrite:
        print(f"{output} exists; use --overwrite to rebuild it")
        stats.skipped_existing = 1
        return common.finish(stats)

    if not scan.images:
        print("note: no images found in the input", file=sys.stderr)
    rows: list[tuple[str, str]] = []
    with common.progress(len(scan.images), "make_csv", args.quiet) as bar:
        for rel in scan.images:
            try:
                check_image(input_dir / rel, full=args.check == "full")
            except common.BadImage as exc:
                stats.failed.append((str(input_dir / rel), str(exc)))
                if args.strict:
                    bar.close()
                    print(
                        f"error: {input_dir / rel}: {exc} (stopping: --strict; no CSV written)",
                        file=sys.stderr,
                    )
                    return common.finish(stats, common.EXIT_FAILED)
            else:
                rows.append(
                    (csv_path(input_dir / rel, output.parent, args.absolute), label_of(rel))
                )
            bar.update(1)

    if not args.no_labels and any(label == "" for _, label in rows):
        print(
            "note: some images are directly in --input, not in a class folder: their label is empty",
            file=sys.stderr,
        )
    try:
        common.write_atomic(
            output, lambda handle: handle.write(render_csv(rows, not args.no_labels))
        )
    except OSError as exc:
        print(f"error: cannot write {output}: {exc}", file=sys.stderr)
        return common.finish(stats, common.EXIT_FAILED)
    stats.written = len(rows)
    print(f"wrote {output}")
    return common.finish(stats)


if __name__ == "__main__":
    common.run_main(main)
