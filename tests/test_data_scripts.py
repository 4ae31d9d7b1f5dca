"""Tests for the command-line tools in ``data_scripts/``.

Offline and fast: every test builds its own tiny images in ``tmp_path``.
CLI behaviour (exit codes, messages, --help, re-runs) is tested by running the
scripts as subprocesses, exactly as a reader would; pixel-level behaviour by
importing the functions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import pytest
from PIL import Image

from data_scripts import _common as common
from data_scripts import caltech101_preprocess, make_csv, resize, rgba_to_rgb

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "data_scripts"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CALTECH_ARCHIVE = SHARED_DATA / "caltech101" / "caltech101_subset20.tar.gz"

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
FG = (200, 100, 50)  # colour of the semi-transparent fixture pixels
ALPHA = 128


# ---------------------------------------------------------------- helpers


def run_tool(tool: str, *args: object, module: bool = False) -> subprocess.CompletedProcess:
    """Run ``data_scripts/<tool>.py`` like a reader would (from the repo root)."""
    target = ["-m", f"data_scripts.{tool}"] if module else [str(SCRIPTS / f"{tool}.py")]
    return subprocess.run(
        [sys.executable, *target, *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree_hash(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root`` (hidden ones too), by relative path."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def blend(fg: int, bg: int, alpha: int) -> float:
    """Expected alpha-blended channel value."""
    return (fg * alpha + bg * (255 - alpha)) / 255


def jpeg_bytes(img: Image.Image) -> bytes:
    """``img`` encoded as JPEG."""
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def make_rgba() -> Image.Image:
    """8x6 RGBA: left half FG at alpha 128, right half fully transparent black."""
    img = Image.new("RGBA", (8, 6), (*FG, ALPHA))
    img.paste((0, 0, 0, 0), (4, 0, 8, 6))
    return img


def make_palette() -> Image.Image:
    """4x4 palette image: index 0 (red) is transparent, index 1 (green) is opaque."""
    img = Image.new("P", (4, 4), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 6))
    img.paste(1, (2, 0, 4, 4))
    return img


@pytest.fixture
def image_tree(tmp_path: Path) -> Path:
    """A class-folder tree with good, odd and broken files.

    5 decodable images (RGBA, palette+transparency, grayscale JPEG, 16-bit
    PNG, RGB JPEG), 3 broken ones (truncated JPEG, zero-byte JPEG, text named
    .png) and 2 non-image files (.DS_Store, notes.txt).
    """
    root = tmp_path / "in"
    (root / "cats").mkdir(parents=True)
    (root / "dogs").mkdir()
    make_rgba().save(root / "cats" / "rgba.png")
    make_palette().save(root / "cats" / "palette.png", transparency=0)
    Image.new("L", (10, 10), 77).save(root / "cats" / "gray.jpg", quality=95)
    Image.new("I;16", (6, 6), 32896).save(root / "dogs" / "gray16.png")
    Image.new("RGB", (30, 20), (10, 120, 230)).save(root / "dogs" / "photo.jpg", quality=95)
    data = jpeg_bytes(Image.effect_noise((64, 64), 60).convert("RGB"))
    (root / "dogs" / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (root / "dogs" / "empty.jpg").write_bytes(b"")
    (root / "dogs" / "notes.png").write_text("this is not a png\n")
    (root / "dogs" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "notes.txt").write_text("hello\n")
    return root


GOOD = ["cats/gray.jpg", "cats/palette.png", "cats/rgba.png", "dogs/gray16.png", "dogs/photo.jpg"]
BAD = ["dogs/empty.jpg", "dogs/notes.png", "dogs/truncated.jpg"]


def output_files(root: Path) -> list[str]:
    """Relative paths of the files below ``root`` (no hidden temp files expected)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------- CLI basics


@pytest.mark.parametrize("tool", ["rgba_to_rgb", "resize", "caltech101_preprocess", "make_csv"])
def test_help_explains_with_example(tool: str) -> None:
    result = run_tool(tool, "--help")
    assert result.returncode == 0
    assert "--input" in result.stdout and "--output" in result.stdout
    assert "example" in result.stdout.lower()
    assert f"python data_scripts/{tool}.py" in result.stdout


def test_runs_as_module_too(image_tree: Path, tmp_path: Path) -> None:
    result = run_tool(
        "resize",
        "--input",
        image_tree,
        "--output",
        tmp_path / "out",
        "--size",
        8,
        "--quiet",
        module=True,
    )
    assert result.returncode == 0, result.stderr
    assert "written 5" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "{tmp}/nope", "--output", "{tmp}/out", "--size", "8"], "no such file"),
        (["--input", "{tree}/notes.txt", "--output", "{tmp}/out", "--size", "8"], "not a folder"),
        (["--input", "{tree}", "--output", "{tmp}/out", "--size", "0"], "invalid size"),
        (["--input", "{tree}", "--output", "{tmp}/out", "--size", "12x"], "invalid size"),
        (
            ["--input", "{tree}", "--output", "{tmp}/out", "--size", "8", "--background", "nope"],
            "invalid colour",
        ),
        (["--input", "{tree}", "--output", "{tree}", "--size", "8"], "is the input"),
        (
            ["--input", "{tree}", "--output", "{tree}/cats/small", "--size", "8"],
            "is inside the input",
        ),
        (["--input", "{tree}", "--size", "8"], "required"),
    ],
)
def test_resize_bad_arguments_exit_2(
    image_tree: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    before = tree_hash(image_tree)
    filled = [a.format(tmp=tmp_path, tree=image_tree) for a in args]
    result = run_tool("resize", *filled)
    assert result.returncode == 2
    assert message in result.stderr
    assert tree_hash(image_tree) == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("tool", ["rgba_to_rgb", "make_csv"])
def test_other_tools_refuse_missing_input(tmp_path: Path, tool: str) -> None:
    out = tmp_path / ("out.csv" if tool == "make_csv" else "out")
    result = run_tool(tool, "--input", tmp_path / "missing", "--output", out)
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_empty_input_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_tool(
        "resize", "--input", tmp_path / "empty", "--output", tmp_path / "out", "--size", 4
    )
    assert result.returncode == 0
    assert "no images found" in result.stderr
    assert result.stdout.strip() == "written 0, skipped-existing 0, failed 0"
    assert (tmp_path / "out").is_dir()


def test_rgba_to_rgb_refuses_output_inside_input(image_tree: Path) -> None:
    result = run_tool("rgba_to_rgb", "--input", image_tree, "--output", image_tree / "rgb")
    assert result.returncode == 2
    assert "inside the input" in result.stderr
    assert not (image_tree / "rgb").exists()


# ---------------------------------------------------------------- rgba_to_rgb


def test_flatten_blends_alpha_onto_background() -> None:
    for background in (WHITE, BLACK, (0, 128, 255)):
        out = common.flatten(make_rgba(), background)
        assert out.mode == "RGB"
        got = out.getpixel((1, 1))
        for channel in range(3):
            assert abs(got[channel] - blend(FG[channel], background[channel], ALPHA)) <= 1
        assert out.getpixel((6, 1)) == background  # alpha 0: hidden black never shows


def test_flatten_palette_transparency_la_and_16bit() -> None:
    palette = make_palette()
    palette.info["transparency"] = 0
    out = common.flatten(palette, (10, 20, 30))
    assert out.getpixel((0, 0)) == (10, 20, 30)
    assert out.getpixel((3, 0)) == (0, 255, 0)

    la = Image.new("LA", (2, 2), (100, 51))
    got = common.flatten(la, WHITE).getpixel((0, 0))
    assert all(abs(c - blend(100, 255, 51)) <= 1 for c in got)

    gray16 = Image.new("I;16", (2, 2), 32896)  # 128 * 257: must scale, not clip to 255
    assert common.flatten(gray16, WHITE).getpixel((0, 0)) == (128, 128, 128)
    assert common.flatten(Image.new("I;16", (1, 1), 65535), WHITE).getpixel((0, 0)) == WHITE
    assert common.flatten(Image.new("L", (1, 1), 9), WHITE).getpixel((0, 0)) == (9, 9, 9)


def test_rgba_to_rgb_cli_converts_reports_and_keeps_input(image_tree: Path, tmp_path: Path) -> None:
    before = tree_hash(image_tree)
    out = tmp_path / "deep" / "out"  # parents are created
    result = run_tool(
        "rgba_to_rgb", "--input", image_tree, "--output", out, "--background", "black"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "written 5, skipped-existing 0, failed 3, ignored 2 (not images)"
    )
    for bad in BAD:
        assert str(image_tree / bad) in result.stderr
    assert "empty file (0 bytes)" in result.stderr
    assert ".DS_Store" in result.stderr
    assert "rgba_to_rgb" in result.stderr  # the progress bar
    assert output_files(out) == GOOD  # same sub-folders, same names
    for rel in GOOD:
        assert Image.open(out / rel).mode == "RGB"
    rgba = Image.open(out / "cats" / "rgba.png")
    assert rgba.getpixel((6, 1)) == BLACK
    assert all(
        abs(c - blend(f, 0, ALPHA)) <= 1 for c, f in zip(rgba.getpixel((1, 1)), FG, strict=True)
    )
    assert Image.open(out / "cats" / "palette.png").getpixel((0, 0)) == BLACK
    assert Image.open(out / "dogs" / "gray16.png").getpixel((0, 0)) == (128, 128, 128)
    assert Image.open(out / "dogs" / "photo.jpg").format == "JPEG"
    assert tree_hash(image_tree) == before


def test_rerun_skips_and_overwrite_rewrites(image_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        run_tool("rgba_to_rgb", "--input", image_tree, "--output", out, "--quiet").returncode == 0
    )
    marker = out / "cats" / "rgba.png"
    marker.write_bytes(b"left alone by a re-run")

    again = run_tool("rgba_to_rgb", "--input", image_tree, "--output", out, "--quiet")
    assert again.returncode == 0
    assert "written 0, skipped-existing 5, failed 3" in again.stdout
    assert marker.read_bytes() == b"left alone by a re-run"
    assert again.stderr.count("%|") == 0  # --quiet hides the progress bar

    forced = run_tool(
        "rgba_to_rgb", "--input", image_tree, "--output", out, "--quiet", "--overwrite"
    )
    assert forced.returncode == 0
    assert "written 5, skipped-existing 0" in forced.stdout
    assert Image.open(marker).mode == "RGB"
    assert not [p for p in out.rglob(".*")]  # no temp files left behind


def test_strict_fails_on_first_bad_file(image_tree: Path, tmp_path: Path) -> None:
    result = run_tool(
        "rgba_to_rgb", "--input", image_tree, "--output", tmp_path / "out", "--strict"
    )
    assert result.returncode == 1
    assert "--strict" in result.stderr
    assert str(image_tree / "dogs" / "empty.jpg") in result.stderr


def test_strict_passes_on_clean_tree_with_junk(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    make_rgba().save(root / "a.png")
    (root / "Thumbs.db").write_bytes(b"junk")
    result = run_tool("rgba_to_rgb", "--input", root, "--output", tmp_path / "out", "--strict")
    assert result.returncode == 0, result.stderr
    assert "written 1, skipped-existing 0, failed 0, ignored 1" in result.stdout


def test_never_writes_through_a_symlink_into_input(image_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    try:
        (out / "cats").symlink_to(image_tree / "cats", target_is_directory=True)
    except OSError:
        pytest.skip("no symlinks here")
    before = tree_hash(image_tree)
    result = run_tool(
        "rgba_to_rgb", "--input", image_tree, "--output", out, "--quiet", "--overwrite"
    )
    assert result.returncode == 1
    assert "inside the input" in result.stderr
    assert tree_hash(image_tree) == before


def test_output_format_rules_and_name_collisions(tmp_path: Path) -> None:
    assert common.output_relpath(Path("a/x.PNG"), "keep") == (Path("a/x.PNG"), "PNG")
    assert common.output_relpath(Path("x.jpeg"), "keep") == (Path("x.jpeg"), "JPEG")
    assert common.output_relpath(Path("x.gif"), "keep") == (Path("x.png"), "PNG")
    assert common.output_relpath(Path("x.webp"), "jpg") == (Path("x.jpg"), "JPEG")
    assert common.output_relpath(Path("x.jpg"), "png") == (Path("x.png"), "PNG")

    root = tmp_path / "in"
    root.mkdir()
    make_palette().save(root / "x.gif", transparency=0)
    make_rgba().save(root / "x.png")
    result = run_tool("rgba_to_rgb", "--input", root, "--output", tmp_path / "out", "--quiet")
    assert result.returncode == 0
    assert "written 1, skipped-existing 0, failed 1" in result.stdout
    assert "already used by" in result.stderr


def test_write_atomic_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dst = tmp_path / "sub" / "img.png"

    def broken(handle) -> None:
        handle.write(b"half an ima")
        raise OSError("disk full")

    with pytest.raises(OSError):
        common.write_atomic(dst, broken)
    assert list((tmp_path / "sub").iterdir()) == []
    common.save_atomic(make_rgba(), dst, "PNG")
    assert Image.open(dst).mode == "RGBA"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["img.png"]


def test_open_image_applies_exif_orientation_and_rejects_junk(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (40, 20), (90, 90, 90)).save(path, exif=exif)
    assert common.open_image(path).size == (20, 40)
    with pytest.raises(common.BadImage, match="0 bytes"):
        common.open_image(b"")
    with pytest.raises(common.BadImage, match="not an image"):
        common.open_image(b"hello, I am text")


def test_metadata_is_not_copied(tmp_path: Path) -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    root = tmp_path / "in"
    root.mkdir()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(root / "a.png", icc_profile=icc)
    assert Image.open(root / "a.png").info.get("icc_profile")
    result = run_tool("rgba_to_rgb", "--input", root, "--output", tmp_path / "out", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "icc_profile" not in Image.open(tmp_path / "out" / "a.png").info


def test_color_and_size_parsing() -> None:
    assert common.color_arg("white") == WHITE
    assert common.color_arg("#ff8000") == (255, 128, 0)
    assert common.color_arg("#000") == BLACK
    assert common.size_arg("64") == (64, 64)
    assert common.size_arg("160x128") == (160, 128)
    for bad in ("#12345", "transparent-ish", "#ff800080"):
        with pytest.raises(Exception, match="colour"):
            common.color_arg(bad)
    for bad in ("0", "-3", "a", "1x2x3", "99999"):
        with pytest.raises(Exception, match="size"):
            common.size_arg(bad)


# ---------------------------------------------------------------- resize


def bullseye(width: int, height: int) -> Image.Image:
    """Blue image with a red centre square one third of the shorter side."""
    img = Image.new("RGB", (width, height), (0, 0, 255))
    side = min(width, height) // 3
    left, top = (width - side) // 2, (height - side) // 2
    img.paste((255, 0, 0), (left, top, left + side, top + side))
    return img


@pytest.mark.parametrize("mode", ["stretch", "crop", "pad"])
@pytest.mark.parametrize("size", [(32, 32), (40, 24), (7, 13)])
def test_resize_gives_exact_size(mode: str, size: tuple[int, int]) -> None:
    out = resize.resize_image(bullseye(90, 30), size, mode)
    assert out.size == size
    assert out.mode == "RGB"


def test_crop_keeps_centre_and_pad_shows_background() -> None:
    wide = Image.new("RGB", (90, 30), (0, 0, 255))
    wide.paste((255, 0, 0), (30, 0, 60, 30))  # the centre third is red
    crop = resize.resize_image(wide, (16, 16), "crop")
    assert crop.getpixel((0, 8))[0] > 240 and crop.getpixel((15, 8))[0] > 240  # only red is left

    pad = resize.resize_image(wide, (30, 30), "pad", background=(0, 255, 0))
    assert pad.getpixel((15, 0)) == (0, 255, 0)  # bars above and below
    assert pad.getpixel((15, 29)) == (0, 255, 0)
    assert pad.getpixel((15, 15))[0] > 240  # the image in the middle
    assert pad.getpixel((0, 15))[2] > 240

    stretch = resize.resize_image(wide, (30, 30), "stretch")
    assert stretch.getpixel((2, 15))[2] > 240 and stretch.getpixel((15, 15))[0] > 240


def test_resize_keep_color_keeps_gray_and_alpha() -> None:
    gray = resize.resize_image(Image.new("L", (20, 10), 80), (8, 8), "pad", BLACK, keep_color=True)
    assert gray.mode == "L" and gray.getpixel((4, 4)) == 80 and gray.getpixel((4, 0)) == 0
    rgba = resize.resize_image(make_rgba(), (12, 12), "pad", WHITE, keep_color=True)
    assert rgba.mode == "RGBA" and rgba.getpixel((6, 0))[3] == 0  # transparent bars


def test_resize_cli_sizes_and_modes(image_tree: Path, tmp_path: Path) -> None:
    before = tree_hash(image_tree)
    out = tmp_path / "out"
    result = run_tool(
        "resize", "--input", image_tree, "--output", out, "--size", "12x8", "--mode", "pad"
    )
    assert result.returncode == 0, result.stderr
    assert "written 5, skipped-existing 0, failed 3, ignored 2" in result.stdout
    assert output_files(out) == GOOD
    for rel in GOOD:
        img = Image.open(out / rel)
        assert img.size == (12, 8) and img.mode == "RGB"
    assert Image.open(out / "cats" / "rgba.png").getpixel((11, 4)) == WHITE
    assert tree_hash(image_tree) == before

    again = run_tool("resize", "--input", image_tree, "--output", out, "--size", "12x8", "--quiet")
    assert "written 0, skipped-existing 5" in again.stdout


# ---------------------------------------------------------------- make_csv


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV as dicts."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_make_csv_relative_paths_resolve_against_csv_folder(
    image_tree: Path, tmp_path: Path
) -> None:
    before = tree_hash(image_tree)
    target = tmp_path / "lists" / "nested" / "all.csv"  # parents created
    result = run_tool("make_csv", "--input", image_tree, "--output", target)
    assert result.returncode == 0, result.stderr
    assert "written 5 rows, skipped-existing 0, failed 3, ignored 2" in result.stdout
    rows = read_csv(target)
    assert [r["label"] for r in rows] == ["cats", "cats", "cats", "dogs", "dogs"]
    assert [r["path"] for r in rows] == sorted(r["path"] for r in rows)
    for row in rows:
        assert not os.path.isabs(row["path"]) and "\\" not in row["path"]
        resolved = (target.parent / row["path"]).resolve()
        assert resolved.is_file()
        assert resolved.relative_to(image_tree.resolve()).as_posix() in GOOD
    for bad in BAD:
        assert str(image_tree / bad) in result.stderr
    assert tree_hash(image_tree) == before

    again = run_tool("make_csv", "--input", image_tree, "--output", target)
    assert again.returncode == 0 and "skipped-existing 1" in again.stdout


def test_make_csv_absolute_no_labels_and_csv_inside_input(image_tree: Path) -> None:
    target = image_tree / "index.csv"  # a CSV next to the images is fine
    result = run_tool(
        "make_csv", "--input", image_tree, "--output", target, "--absolute", "--no-labels"
    )
    assert result.returncode == 0, result.stderr
    rows = read_csv(target)
    assert list(rows[0]) == ["path"] and len(rows) == 5
    assert all(os.path.isabs(r["path"]) and Path(r["path"]).is_file() for r in rows)

    rerun = run_tool(
        "make_csv", "--input", image_tree, "--output", target, "--overwrite", "--quiet"
    )
    assert "ignored 2" in rerun.stdout  # its own CSV is not reported as junk


def test_make_csv_refuses_bad_output_and_strict(image_tree: Path, tmp_path: Path) -> None:
    before = tree_hash(image_tree)
    for output in (image_tree / "cats" / "rgba.png", tmp_path / "list.txt", tmp_path):
        result = run_tool("make_csv", "--input", image_tree, "--output", output)
        assert result.returncode == 2
    assert "must end in .csv" in result.stderr or "is a folder" in result.stderr
    strict = run_tool("make_csv", "--input", image_tree, "--output", tmp_path / "x.csv", "--strict")
    assert strict.returncode == 1
    assert not (tmp_path / "x.csv").exists()
    assert tree_hash(image_tree) == before


def test_make_csv_header_check_and_labels() -> None:
    assert make_csv.label_of(Path("cats/x.png")) == "cats"
    assert make_csv.label_of(Path("cats/sub/x.png")) == "cats"
    assert make_csv.label_of(Path("x.png")) == ""
    assert (
        make_csv.render_csv([("a b/x,1.png", "c")], labels=True) == b'path,label\n"a b/x,1.png",c\n'
    )


# ---------------------------------------------------------------- caltech101_preprocess


@pytest.fixture
def caltech_folder(tmp_path: Path) -> Path:
    """A tiny official layout: 2 categories + BACKGROUND_Google, one gray image."""
    root = tmp_path / "caltech" / "101_ObjectCategories"
    for category, count in (("airplanes", 3), ("brain", 2), ("BACKGROUND_Google", 1)):
        (root / category).mkdir(parents=True)
        for i in range(1, count + 1):
            bullseye(30 + 7 * i, 20 + 3 * i).save(
                root / category / f"image_{i:04d}.jpg", quality=95
            )
    Image.new("L", (25, 40), 90).save(root / "brain" / "image_0003.jpg")
    (root / "brain" / "image_0004.jpg").write_bytes(b"")
    return root.parent


def make_tar(folder: Path, dest: Path) -> Path:
    """Pack ``folder/101_ObjectCategories`` into a .tar.gz like the shared archive."""
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(folder / "101_ObjectCategories", arcname="101_ObjectCategories")
    return dest


EXPECTED_CALTECH = [
    f"{size}/{name}"
    for size in ("12", "8x6")
    for name in (
        "airplanes/image_0001.jpg",
        "airplanes/image_0002.jpg",
        "airplanes/image_0003.jpg",
        "brain/image_0001.jpg",
        "brain/image_0002.jpg",
        "brain/image_0003.jpg",
    )
]


def check_caltech_output(out: Path, expected: list[str]) -> None:
    """All expected JPEGs exist, RGB, at the size named by their folder."""
    assert output_files(out) == sorted(expected)
    for rel in expected:
        img = Image.open(out / rel)
        width, _, height = rel.split("/")[0].partition("x")
        assert img.format == "JPEG" and img.mode == "RGB"
        assert img.size == (int(width), int(height or width))


@pytest.mark.parametrize("source", ["folder", "root", "tar"])
def test_caltech_both_layouts_give_both_sizes(
    caltech_folder: Path, tmp_path: Path, source: str
) -> None:
    if source == "tar":
        src = make_tar(caltech_folder, tmp_path / "subset.tar.gz")
    else:
        src = caltech_folder if source == "folder" else caltech_folder / "101_ObjectCategories"
    before = tree_hash(caltech_folder)
    out = tmp_path / "sets"
    result = run_tool(
        "caltech101_preprocess", "--input", src, "--output", out, "--sizes", 12, "8x6"
    )
    assert result.returncode == 0, result.stderr
    assert "written 12, skipped-existing 0, failed 1" in result.stdout  # 6 images x 2 sizes
    assert "brain/image_0004.jpg" in result.stderr and "empty file" in result.stderr
    check_caltech_output(out, EXPECTED_CALTECH)
    assert tree_hash(caltech_folder) == before

    again = run_tool(
        "caltech101_preprocess", "--input", src, "--output", out, "--sizes", 12, "8x6", "--quiet"
    )
    assert "written 0, skipped-existing 12" in again.stdout


def test_caltech_background_limit_and_categories(caltech_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "sets"
    result = run_tool(
        "caltech101_preprocess",
        *("--input", caltech_folder, "--output", out, "--sizes", 10, "--quiet"),
        *("--include-background", "--limit-per-category", 1),
    )
    assert result.returncode == 0, result.stderr
    assert output_files(out) == [
        "10/BACKGROUND_Google/image_0001.jpg",
        "10/airplanes/image_0001.jpg",
        "10/brain/image_0001.jpg",
    ]
    only = run_tool(
        "caltech101_preprocess",
        *(
            "--input",
            caltech_folder,
            "--output",
            tmp_path / "only",
            "--sizes",
            10,
            "--categories",
            "brain",
        ),
        "--quiet",
    )
    assert output_files(tmp_path / "only") == [f"10/brain/image_000{i}.jpg" for i in (1, 2, 3)]
    assert only.returncode == 0
    missing = run_tool(
        "caltech101_preprocess",
        "--input",
        caltech_folder,
        "--output",
        tmp_path / "x",
        "--categories",
        "dragons",
    )
    assert missing.returncode == 2 and "dragons" in missing.stderr


def test_caltech_bad_inputs(caltech_folder: Path, tmp_path: Path) -> None:
    not_tar = tmp_path / "fake.tar.gz"
    not_tar.write_bytes(b"not an archive")
    result = run_tool("caltech101_preprocess", "--input", not_tar, "--output", tmp_path / "o")
    assert result.returncode == 2 and "not a tar archive" in result.stderr
    inside = run_tool(
        "caltech101_preprocess", "--input", caltech_folder, "--output", caltech_folder / "sets"
    )
    assert inside.returncode == 2 and "inside the input" in inside.stderr
    bad_size = run_tool(
        "caltech101_preprocess",
        "--input",
        caltech_folder,
        "--output",
        tmp_path / "o",
        "--sizes",
        "x",
    )
    assert bad_size.returncode == 2 and "invalid size" in bad_size.stderr


def test_caltech_archive_member_names_are_sanitised() -> None:
    assert caltech101_preprocess.split_member(("cat", "x.jpg")) == ("cat", PurePosixPath("x.jpg"))
    assert caltech101_preprocess.split_member(("cat", "sub", "x.jpg")) == (
        "cat",
        PurePosixPath("sub/x.jpg"),
    )
    assert caltech101_preprocess.split_member(("..", "x.jpg")) is None
    assert caltech101_preprocess.split_member(("cat", "..", "x.jpg")) is None
    assert caltech101_preprocess.split_member(("x.jpg",)) is None


@pytest.mark.skipif(not CALTECH_ARCHIVE.is_file(), reason="shared Caltech-101 archive not present")
def test_caltech_on_shared_archive(tmp_path: Path) -> None:
    out = tmp_path / "caltech"
    result = run_tool(
        "caltech101_preprocess",
        *("--input", CALTECH_ARCHIVE, "--output", out, "--limit-per-category", 2, "--quiet"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "written 404, skipped-existing 0, failed 0"
    for size in (92, 128):
        categories = sorted(p.name for p in (out / str(size)).iterdir())
        assert len(categories) == 101 and "BACKGROUND_Google" not in categories
        assert sorted(p.name for p in (out / str(size) / "Faces").iterdir()) == [
            "image_0001.jpg",
            "image_0002.jpg",
        ]
        for path in (out / str(size)).rglob("*.jpg"):
            with Image.open(path) as img:
                assert img.size == (size, size) and img.mode == "RGB"


def test_tools_import_without_tensorflow() -> None:
    code = (
        "import sys; import data_scripts.resize, data_scripts.rgba_to_rgb, "
        "data_scripts.make_csv, data_scripts.caltech101_preprocess; "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False"
    assert rgba_to_rgb.build_parser().prog == "rgba_to_rgb.py"
