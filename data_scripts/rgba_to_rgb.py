"""Flatten transparent images onto a background colour, writing RGB copies.

A VAE usually wants 3-channel RGB input, but many image sets (sprites,
Pokémon artwork, icons) are RGBA PNGs whose transparent background has
arbitrary, often black, colour values hidden under alpha 0. Dropping the
alpha channel would show those; this tool blends each pixel onto a chosen
background instead: ``out = a * colour + (1 - a) * background``.

Every image is written, transparent or not (grayscale, palette, CMYK and
16-bit images are converted to 8-bit RGB), so the output folder is a complete
RGB copy of the input, with the same sub-folders.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

try:
    from data_scripts import _common as common
except ImportError:  # run as a script: python data_scripts/rgba_to_rgb.py
    import _common as common

EXAMPLE = """\
examples (from the repository root):
  python data_scripts/rgba_to_rgb.py --input /tmp/pokemon --output /tmp/pokemon_rgb
  python data_scripts/rgba_to_rgb.py --input sprites --output sprites_rgb --background "#808080"

Sub-folders are kept. Re-running skips files that are already done.
Exit codes: 0 ok, 1 a bad file with --strict, 2 bad arguments.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of this tool."""
    parser = common.make_parser(
        "rgba_to_rgb.py",
        "Composite RGBA / LA / transparent-palette images onto a background colour with "
        "alpha blending and write every image as 8-bit RGB.",
        EXAMPLE,
    )
    parser.add_argument(
        "--input", required=True, type=Path, help="folder of images (searched recursively)"
    )
    parser.add_argument(
        "--output", required=True, type=Path, help="folder for the RGB images (created)"
    )
    parser.add_argument(
        "--background",
        type=common.color_arg,
        default=(255, 255, 255),
        metavar="COLOUR",
        help="white (default), black, #rrggbb or a CSS colour name",
    )
    common.add_format_options(parser)
    common.add_run_options(parser)
    return parser


def to_rgb(path: Path, background: common.Color):
    """Decode ``path`` and return it as RGB flattened onto ``background``."""
    return common.flatten(common.open_image(path), background)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, convert every image, print the summary; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    input_dir = common.check_input_dir(parser, args.input)
    output_dir = common.check_output_dir(parser, args.output, input_dir)

    scan = common.scan_images(input_dir)
    stats = common.Stats(ignored=[str(input_dir / p) for p in scan.ignored])
    tasks = common.plan_folder_tasks(input_dir, output_dir, scan.images, args.format, stats)

    def work(task: common.Task, outputs: list[Path]) -> None:
        src, fmt = task.source
        img = to_rgb(src, args.background)
        common.save_atomic(img, outputs[0], fmt, args.quality)

    return common.run_tasks(tasks, work, args, stats, protected=[input_dir], desc="rgba_to_rgb")


if __name__ == "__main__":
    common.run_main(main)
