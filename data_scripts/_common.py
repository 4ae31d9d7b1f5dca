"""Shared helpers for the ``data_scripts`` command-line tools.

Everything the tools have in common lives here, so each script only says what
it does to one image:

* argument parsing and validation (sizes, colours, input/output folders),
* the safety rules (never write into the input, skip finished files,
  atomic writes),
* listing images recursively and telling junk (``.DS_Store``) apart from
  broken images (truncated JPEG, zero-byte file),
* decoding and colour-mode handling (alpha, palettes, 16-bit grayscale),
* the task loop with its progress bar, skip report and one-line summary.

Only the standard library, Pillow and tqdm are used, so the tools start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageColor, ImageOps, UnidentifiedImageError
from tqdm import tqdm

EXIT_OK = 0
EXIT_FAILED = 1  # --strict and a bad file, or an output could not be written
EXIT_USAGE = 2  # bad arguments (argparse uses 2 as well)

#: Extensions treated as image candidates (compared lower-case).
IMAGE_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".bmp",
        ".gif",
        ".tif",
        ".tiff",
        ".webp",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
    }
)
PNG_EXTENSIONS = frozenset({".png"})
JPEG_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})
#: Files that operating systems drop into image folders; never images.
JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db"})

#: How many paths of each kind the end-of-run report lists.
REPORT_LIMIT = 10
DEFAULT_JPEG_QUALITY = 95
MAX_SIDE = 65535  # largest side PNG/JPEG writers (and sane users) accept

Color = tuple[int, int, int]
Size = tuple[int, int]


class BadImage(Exception):
    """An input file that is not a decodable image; the message says why."""


# --------------------------------------------------------------------------
# Argument parsing
# --------------------------------------------------------------------------


def make_parser(prog: str, description: str, example: str) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` whose ``--help`` ends with a worked example.

    ``prog`` is fixed (not taken from ``sys.argv``) so ``--help`` reads the
    same whether the tool runs as a script or with ``python -m``.
    """
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add the options every tool shares: --overwrite, --strict, --quiet."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="rewrite output files that already exist (default: skip them, so a re-run "
        "only does the missing work)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop with exit code 1 at the first unreadable image instead of skipping it",
    )
    parser.add_argument("--quiet", action="store_true", help="hide the progress bar")


def add_format_options(parser: argparse.ArgumentParser, choices: bool = True) -> None:
    """Add --format (keep|png|jpg) and --quality for tools that write images."""
    if choices:
        parser.add_argument(
            "--format",
            choices=("keep", "png", "jpg"),
            default="keep",
            help="output format. keep (default): PNG stays .png, JPEG keeps its extension "
            "(.jpg/.jpeg), any other format (BMP, GIF, TIFF, WebP, ...) is written as "
            "lossless PNG with the extension changed to .png. png / jpg: write everything "
            "in that format",
        )
    parser.add_argument(
        "--quality",
        type=quality_arg,
        default=DEFAULT_JPEG_QUALITY,
        help=f"JPEG quality 1-100 (default {DEFAULT_JPEG_QUALITY}, 4:4:4 chroma)",
    )


def size_arg(text: str) -> Size:
    """Parse ``N`` (square) or ``WxH`` into ``(width, height)``; argparse type."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        if len(parts) == 1:
            width = height = int(parts[0])
        elif len(parts) == 2:
            width, height = int(parts[0]), int(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: use N (square) or WxH, e.g. 128 or 160x128"
        ) from None
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: sides must be between 1 and {MAX_SIDE} pixels"
        )
    return width, height


def size_name(size: Size) -> str:
    """``(92, 92)`` -> ``"92"``, ``(160, 128)`` -> ``"160x128"``: folder names."""
    width, height = size
    return str(width) if width == height else f"{width}x{height}"


def color_arg(text: str) -> Color:
    """Parse a background colour: ``white``, ``black``, ``#rrggbb``, ``#rgb``.

    Any CSS colour name or ``rgb(r, g, b)`` that Pillow knows works too. A
    colour with an alpha part is refused: the background must be opaque.
    """
    try:
        rgb = ImageColor.getrgb(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid colour {text!r}: use white, black or #rrggbb"
        ) from None
    if len(rgb) != 3:
        raise argparse.ArgumentTypeError(f"invalid colour {text!r}: the background must be opaque")
    return (int(rgb[0]), int(rgb[1]), int(rgb[2]))


def quality_arg(text: str) -> int:
    """Parse a JPEG quality 1..100; argparse type."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"invalid quality {text!r}: use an integer 1-100")
    return value


def positive_int_arg(text: str) -> int:
    """Parse an integer >= 1; argparse type."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: use an integer >= 1")
    return value


# --------------------------------------------------------------------------
# Safety rules for input and output paths
# --------------------------------------------------------------------------


def is_within(path: Path, root: Path) -> bool:
    """True if ``path`` is ``root`` or lies below it, after resolving symlinks."""
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents


def check_input_dir(parser: argparse.ArgumentParser, path: Path) -> Path:
    """Exit 2 unless ``path`` is an existing folder."""
    if not path.exists():
        parser.error(f"--input {path}: no such file or folder")
    if not path.is_dir():
        parser.error(f"--input {path}: not a folder")
    return path


def check_output_dir(parser: argparse.ArgumentParser, output: Path, protected: Path) -> Path:
    """Exit 2 if ``output`` would write into the input, else create it.

    ``output`` must not be the input folder or lie inside it: outputs would
    mix with inputs and be picked up again on the next run. A parent of the
    input is allowed; each output file is checked again when written (see
    :func:`run_tasks`) so it can never land inside the input.
    """
    if is_within(output, protected):
        what = "is" if output.resolve() == protected.resolve() else "is inside"
        parser.error(
            f"--output {output} {what} the input {protected}; choose a folder outside "
            "the input so the originals are never overwritten"
        )
    if output.exists() and not output.is_dir():
        parser.error(f"--output {output}: exists and is not a folder")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"--output {output}: cannot create the folder ({exc.strerror or exc})")
    return output


# --------------------------------------------------------------------------
# Finding images
# --------------------------------------------------------------------------


@dataclass
class Scan:
    """Result of :func:`scan_images`: image candidates and ignored files.

    Both lists hold paths relative to the scanned root, sorted.
    """

    images: list[Path] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def is_image_name(name: str) -> bool:
    """True for a file name that may hold an image (extension, not junk, not hidden)."""
    lower = name.lower()
    if lower in JUNK_NAMES or name.startswith("."):
        return False
    return os.path.splitext(lower)[1] in IMAGE_EXTENSIONS


def scan_images(root: Path) -> Scan:
    """List files below ``root`` recursively, split into images and ignored files.

    Hidden folders (``.git``, ``.ipynb_checkpoints``) are not entered. Files
    with an image extension are *candidates*: whether they decode is found
    out later. Everything else (``.DS_Store``, ``Thumbs.db``, ``notes.txt``,
    hidden files such as macOS ``._x.jpg``) is ignored and reported.
    """
    scan = Scan()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = Path(dirpath).relative_to(root)
        for name in filenames:
            target = scan.images if is_image_name(name) else scan.ignored
            target.append(rel_dir / name)
    scan.images.sort(key=lambda p: p.as_posix())
    scan.ignored.sort(key=lambda p: p.as_posix())
    return scan


# --------------------------------------------------------------------------
# Decoding and colour modes
# --------------------------------------------------------------------------


def describe_error(exc: BaseException) -> str:
    """A short reason for a decode failure, without Python object reprs."""
    if isinstance(exc, UnidentifiedImageError):
        return "not an image Pillow can read"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def open_image(source: Path | bytes) -> Image.Image:
    """Decode an image fully (a file path or the raw bytes) or raise BadImage.

    The whole image is decoded here (``load()``), so truncated files fail now
    and not halfway through a later step. EXIF orientation is applied, so
    phone photos come out upright. Multi-frame files give their first frame.
    """
    try:
        data = source.read_bytes() if isinstance(source, Path) else source
    except OSError as exc:
        raise BadImage(f"cannot read file ({exc.strerror or exc})") from exc
    if not data:
        raise BadImage("empty file (0 bytes)")
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        ImageOps.exif_transpose(img, in_place=True)
    except Exception as exc:  # Pillow's decoders raise many types (OSError, SyntaxError, ...)
        raise BadImage(describe_error(exc)) from exc
    return img


def has_transparency(img: Image.Image) -> bool:
    """True if the image has an alpha channel or a transparent colour/index."""
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def to_8bit(img: Image.Image) -> Image.Image:
    """Bring 16-bit and float grayscale to 8-bit ``L`` by *scaling*, not clipping.

    Pillow's own ``convert("L")`` clips 16-bit values to 255, which turns most
    16-bit PNGs white. Here 0..65535 maps to 0..255 (divide by 257, rounded).
    A 32-bit ``I`` image whose values all fit in 0..255 is converted as is.
    A float ``F`` image with values in 0..1 is scaled by 255. (A tRNS
    transparent colour on a 16-bit grayscale PNG is dropped: rare.)
    """
    mode = img.mode
    if mode.startswith("I;16") or (mode == "I" and img.getextrema()[1] > 255):
        return img.convert("I").point(lambda v: v * (1 / 257) + 0.5).convert("L")
    if mode == "I":
        return img.convert("L")
    if mode == "F":
        scale = 255.0 if img.getextrema()[1] <= 1.0 else 1.0
        return img.point(lambda v: v * scale + 0.5).convert("L")
    return img


def flatten(img: Image.Image, background: Color) -> Image.Image:
    """Any image -> 8-bit RGB, alpha-blended onto ``background``.

    RGBA, LA, PA and images with a transparent colour or palette index
    (``info["transparency"]``) are composited with proper alpha blending:
    ``out = a * colour + (1 - a) * background``. Other modes (L, 1, P, CMYK,
    16-bit) are just converted to RGB.
    """
    img = to_8bit(img)
    try:
        if has_transparency(img):
            rgba = img.convert("RGBA")
            out = Image.new("RGB", img.size, background)
            out.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
            return out
        return img if img.mode == "RGB" else img.convert("RGB")
    except ValueError as exc:
        raise BadImage(f"cannot convert colour mode {img.mode} to RGB") from exc


def normalize_mode(img: Image.Image) -> Image.Image:
    """Any image -> one of L, LA, RGB, RGBA, 8-bit, keeping alpha and grayness.

    Used when a tool is asked to keep the colour mode (``--color keep``):
    16-bit gray becomes L, palettes become RGB or RGBA, a transparent colour
    key becomes a real alpha channel, CMYK becomes RGB.
    """
    img = to_8bit(img)
    mode = img.mode
    keyed = "transparency" in img.info
    try:
        if mode in ("LA", "RGBA"):
            return img
        if mode in ("L", "RGB"):
            return img.convert(mode + "A") if keyed else img
        if mode == "1":
            return img.convert("LA" if keyed else "L")
        if mode == "La":
            return img.convert("LA")
        if mode in ("P", "PA", "RGBa"):
            return img.convert("RGBA" if has_transparency(img) else "RGB")
        return img.convert("RGB")
    except ValueError as exc:
        raise BadImage(f"cannot convert colour mode {mode}") from exc


# --------------------------------------------------------------------------
# Writing outputs
# --------------------------------------------------------------------------


def output_relpath(rel: Path, choice: str) -> tuple[Path, str]:
    """Map an input path to its output path and Pillow format for ``--format``.

    keep: PNG -> PNG, JPEG -> JPEG (same extension), anything else -> PNG
    (lossless, and every mode can be written); png/jpg: that format, with the
    extension changed (``.jpeg`` is kept as is for jpg).
    """
    ext = rel.suffix.lower()
    if choice == "jpg":
        return (rel if ext in JPEG_EXTENSIONS else rel.with_suffix(".jpg")), "JPEG"
    if choice == "keep" and ext in JPEG_EXTENSIONS:
        return rel, "JPEG"
    return (rel if ext in PNG_EXTENSIONS else rel.with_suffix(".png")), "PNG"


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(dst: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create ``dst`` by calling ``write(handle)`` on a temporary file, then ``os.replace``.

    A run that is killed leaves either the old file or the complete new one,
    never a half-written file, so "the output exists" means "the output is
    done". The temporary file is hidden (``.name.xxxx.part``, in the same
    folder so the rename is atomic) and removed if ``write`` fails.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_atomic(img: Image.Image, dst: Path, fmt: str, quality: int = DEFAULT_JPEG_QUALITY) -> None:
    """Save ``img`` to ``dst`` in Pillow format ``fmt`` atomically (see :func:`write_atomic`).

    Metadata (EXIF, ICC, text chunks) is not copied. JPEG is written with
    4:4:4 chroma (no colour blur); images with alpha must be flattened first.
    """
    params: dict[str, object] = {"quality": quality, "subsampling": 0} if fmt == "JPEG" else {}
    img.info = {}  # PNG would otherwise copy ICC/transparency/text from the source
    write_atomic(dst, lambda handle: img.save(handle, format=fmt, **params))


# --------------------------------------------------------------------------
# The task loop, report and summary
# --------------------------------------------------------------------------


@dataclass
class Task:
    """One input and the output files made from it.

    ``label`` names the input in reports (a path, or ``archive.tar.gz:member``);
    ``source`` is whatever the tool's work function needs to read it.
    """

    label: str
    outputs: list[Path]
    source: object = None


@dataclass
class Stats:
    """Counts for the summary line and the paths for the skip report."""

    written: int = 0
    skipped_existing: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    unit: str = ""  # e.g. "rows" for make_csv: "written 352 rows, ..."

    def summary(self) -> str:
        """The one-line summary printed at the end of every run."""
        written = f"{self.written} {self.unit}" if self.unit else str(self.written)
        line = (
            f"written {written}, skipped-existing {self.skipped_existing}, "
            f"failed {len(self.failed)}"
        )
        if self.ignored:
            line += f", ignored {len(self.ignored)} (not images)"
        return line


def print_report(stats: Stats, stream=None) -> None:
    """Print the failed and ignored files (count and the first few) to stderr."""
    stream = stream or sys.stderr
    if stats.failed:
        print(f"failed {len(stats.failed)} file(s), not written:", file=stream)
        for label, reason in stats.failed[:REPORT_LIMIT]:
            print(f"  {label}: {reason}", file=stream)
        _print_more(len(stats.failed), stream)
    if stats.ignored:
        print(f"ignored {len(stats.ignored)} file(s) that are not images:", file=stream)
        for label in stats.ignored[:REPORT_LIMIT]:
            print(f"  {label}", file=stream)
        _print_more(len(stats.ignored), stream)
    stream.flush()


def _print_more(count: int, stream) -> None:
    """The '... and N more' line of a truncated report list."""
    if count > REPORT_LIMIT:
        print(f"  ... and {count - REPORT_LIMIT} more", file=stream)


def finish(stats: Stats, code: int = EXIT_OK) -> int:
    """Print the report and the summary line; return the exit code."""
    print_report(stats)
    print(stats.summary(), flush=True)
    return code


def progress(total: int, desc: str, quiet: bool) -> tqdm:
    """A tqdm progress bar on stderr (hidden with --quiet)."""
    return tqdm(
        total=total, desc=desc, unit="img", file=sys.stderr, disable=quiet, dynamic_ncols=True
    )


def run_tasks(
    tasks: Sequence[Task],
    work: Callable[[Task, list[Path]], None],
    args: argparse.Namespace,
    stats: Stats,
    protected: Iterable[Path] = (),
    desc: str = "",
) -> int:
    """Run ``work(task, outputs_to_write)`` for each task; return the exit code.

    * Outputs that already exist are skipped unless ``args.overwrite``: since
      every write is atomic, an existing output is a finished one.
    * ``work`` raises :class:`BadImage` for an unreadable input: it is
      recorded and skipped, or with ``args.strict`` the run stops (exit 1).
    * No output may land inside a ``protected`` path (the input), even
      through a symlink: the run stops (exit 1) before writing it.
    * A failed write (disk full, permissions) stops the run (exit 1).
    """
    protected = list(protected)
    if not tasks and not stats.failed:
        print("note: no images found in the input", file=sys.stderr)
    if args.strict and stats.failed:
        label, reason = stats.failed[0]
        print(f"error: {label}: {reason} (stopping: --strict)", file=sys.stderr)
        return finish(stats, EXIT_FAILED)
    with progress(len(tasks), desc, args.quiet) as bar:
        for task in tasks:
            todo = (
                list(task.outputs)
                if args.overwrite
                else [p for p in task.outputs if not p.exists()]
            )
            stats.skipped_existing += len(task.outputs) - len(todo)
            for path in todo:
                if any(is_within(path, root) for root in protected):
                    bar.close()
                    print(
                        f"error: refusing to write {path}: it is inside the input", file=sys.stderr
                    )
                    return finish(stats, EXIT_FAILED)
            if todo:
                try:
                    work(task, todo)
                except BadImage as exc:
                    stats.failed.append((task.label, str(exc)))
                    if args.strict:
                        bar.close()
                        print(f"error: {task.label}: {exc} (stopping: --strict)", file=sys.stderr)
                        return finish(stats, EXIT_FAILED)
                except OSError as exc:
                    bar.close()
                    print(f"error: cannot write output for {task.label}: {exc}", file=sys.stderr)
                    return finish(stats, EXIT_FAILED)
                else:
                    stats.written += len(todo)
            bar.update(1)
    return finish(stats)


def plan_folder_tasks(
    input_dir: Path, output_dir: Path, images: Sequence[Path], fmt_choice: str, stats: Stats
) -> list[Task]:
    """One task per input image, mirroring sub-folders into ``output_dir``.

    The task's ``source`` is ``(input path, Pillow format)``. Two inputs that
    would map to the same output (``a.gif`` and ``a.png`` with
    ``--format keep``) cannot both be written: the second is recorded as
    failed in ``stats`` rather than silently overwriting the first.
    """
    tasks: list[Task] = []
    claimed: dict[Path, Path] = {}
    for rel in images:
        rel_out, fmt = output_relpath(rel, fmt_choice)
        key = Path(rel_out.as_posix().lower())  # collide case-insensitively (macOS, Windows)
        if key in claimed:
            stats.failed.append(
                (
                    str(input_dir / rel),
                    f"output name {rel_out} already used by {input_dir / claimed[key]}",
                )
            )
            continue
        claimed[key] = rel
        tasks.append(Task(str(input_dir / rel), [output_dir / rel_out], (input_dir / rel, fmt)))
    return tasks


def run_main(main: Callable[[Sequence[str] | None], int]) -> None:
    """Call ``main`` and exit with its code; Ctrl-C exits 130 without a traceback."""
    try:
        sys.exit(main(None))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
