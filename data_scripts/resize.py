"""Resize every image in a folder to one fixed size for training.

A VAE needs all images at the same size. Three ways to get there:

* ``stretch``: resize to exactly WxH; changes the aspect ratio of
  non-square images (objects look squashed).
* ``crop``: cut the largest centred region with the target aspect ratio, then
  resize; keeps proportions, loses the borders.
* ``pad``: fit the whole image inside WxH and fill the rest (letterbox bars)
  with the background colour; keeps everything, adds bars.

Resampling is Lanczos (high quality, also when shrinking a lot). Small images
are enlarged. By default every output is 8-bit RGB (transparent images are
alpha-blended onto ``--background``); ``--color keep`` keeps grayscale and
alpha instead.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageOps

try:
    from data_scripts import _common as common
except ImportError:  # run as a script: python data_scripts/resize.py
    import _common as common

MODES = ("stretch", "crop", "pad")
RESAMPLE = Image.Resampling.LANCZOS

EXAMPLE = """\
examples (from the repository root):
  python data_scripts/resize.py --input /tmp/pokemon_rgb --output /tmp/pokemon_64 --size 64
  python data_scripts/resize.py --input photos --output photos_pad --size 160x128 --mode pad --background black

--size N makes NxN; --size WxH is width x height. Sub-folders are kept.
Re-running skips files that are already done.
Exit codes: 0 ok, 1 a bad file with --strict, 2 bad arguments.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of this tool."""
    parser = common.make_parser(
        "resize.py",
        "Resize all images below a folder to one size (stretch, centre crop or pad) "
        "with Lanczos resampling.",
        EXAMPLE,
    )
    parser.add_argument(
        "--input", required=True, type=Path, help="folder of images (searched recursively)"
    )
    parser.add_argument(
        "--output", required=True, type=Path, help="folder for the resized images (created)"
    )
    parser.add_argument(
        "--size",
        required=True,
        type=common.size_arg,
        metavar="N|WxH",
        help="target size: 64 or 160x128",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="crop",
        help="crop (default): centre crop to the target shape, then resize; "
        "stretch: resize ignoring the aspect ratio; pad: fit inside and letterbox",
    )
    parser.add_argument(
        "--background",
        type=common.color_arg,
        default=(255, 255, 255),
        metavar="COLOUR",
        help="colour for pad bars and behind transparent pixels: white (default), black, #rrggbb",
    )
    parser.add_argument(
        "--color",
        choices=("rgb", "keep"),
        default="rgb",
        help="rgb (default): write 8-bit RGB, alpha blended onto --background; "
        "keep: keep grayscale (L) and alpha (LA/RGBA; pad bars are then transparent)",
    )
    common.add_format_options(parser)
    common.add_run_options(parser)
    return parser


def fill_for(mode: str, background: common.Color) -> tuple[int, ...] | int:
    """The pad-bar fill value for an image mode (L, LA, RGB, RGBA).

    Modes with alpha get transparent bars (the background colour at alpha 0),
    so bars look like the rest of a transparent image after flattening.
    """
    gray = Image.new("RGB", (1, 1), background).convert("L").getpixel((0, 0))
    return {"L": gray, "LA": (gray, 0), "RGB": background, "RGBA": (*background, 0)}[mode]


def pad_to(img: Image.Image, size: common.Size, background: common.Color) -> Image.Image:
    """Fit ``img`` inside ``size`` (aspect ratio kept) and centre it on bars."""
    inner = ImageOps.contain(img, size, RESAMPLE)
    canvas = Image.new(img.mode, size, fill_for(img.mode, background))
    offset = ((size[0] - inner.width) // 2, (size[1] - inner.height) // 2)
    canvas.paste(inner, offset)
    return canvas


def resize_image(
    img: Image.Image,
    size: common.Size,
    mode: str = "crop",
    background: common.Color = (255, 255, 255),
    keep_color: bool = False,
) -> Image.Image:
    """Return ``img`` at exactly ``size`` (width, height) using ``mode``.

    With ``keep_color`` False the result is RGB (alpha blended onto
    ``background`` first); otherwise it is L, LA, RGB or RGBA. Resizing of
    alpha images uses premultiplied alpha (Pillow does this), so transparent
    pixels do not bleed their hidden colour into the edges.
    """
    img = common.normalize_mode(img) if keep_color else common.flatten(img, background)
    if mode == "stretch":
        return img.resize(size, RESAMPLE)
    if mode == "crop":
        return ImageOps.fit(img, size, RESAMPLE, centering=(0.5, 0.5))
    if mode == "pad":
        return pad_to(img, size, background)
    raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")


def for_format(img: Image.Image, fmt: str, background: common.Color) -> Image.Image:
    """Flatten alpha images onto ``background`` when the format is JPEG (no alpha)."""
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        return common.flatten(img, background)
    return img


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, resize every image, print the summary; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    input_dir = common.check_input_dir(parser, args.input)
    output_dir = common.check_output_dir(parser, args.output, input_dir)

    scan = common.scan_images(input_dir)
    stats = common.Stats(ignored=[str(input_dir / p) for p in scan.ignored])
    tasks = common.plan_folder_tasks(input_dir, output_dir, scan.images, args.format, stats)

    def work(task: common.Task, outputs: list[Path]) -> None:
        src, fmt = task.source
        img = resize_image(
            common.open_image(src), args.size, args.mode, args.background, args.color == "keep"
        )
        common.save_atomic(for_format(img, fmt, args.background), outputs[0], fmt, args.quality)

    return common.run_tasks(tasks, work, args, stats, protected=[input_dir], desc="resize")


if __name__ == "__main__":
    common.run_main(main)
