"""The book reads like a book (issue 18, section 4): checked on the built pages and the notebooks.

* every image of a chapter page is a numbered figure with a caption and alt text that says what
  it shows (not the hashed file name MyST-NB gives it);
* the setup cell (the first code cell) and the closing "scale and time" cell are collapsed;
* every page carries the footer that says what the book is, and the logo has alt text;
* no committed output holds an absolute path of the machine the notebook ran on.

The page checks need the book built (``jupyter-book build .``, README); without ``_build/html``
they skip, except in CI (``$CI`` set), where they fail. The convention these checks hold
chapters to is the README's "Writing a chapter".
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build" / "html"
BOOK = ROOT / "book"
IN_CI = bool(os.environ.get("CI"))

# chapters (re-)executed now by another session, which adds the captions and folding with them;
# that session removes this marker
OTHER_SESSION: set[str] = set()
OTHER_REASON = "re-executed by another session with captions"

# notebooks whose committed outputs still name a path of the machine they ran on, fixed when
# the chapter is re-executed (their data cells print through vaecore.data.show_path then)
MACHINE_PATH_OUTPUTS: dict[str, str] = {}
MACHINE_PATH = re.compile(r"(?<![\w.])(/work/|/tmp/|/root/|/home/)")
HASHED_NAME = re.compile(r"(^|/)[0-9a-f]{32,}\.(png|jpe?g|gif|svg)$")


def _chapters() -> list[str]:
    """The chapter notebooks in the table of contents, in book order."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"file:\s*book/(\S+)", toc)
    return [n for n in names if (BOOK / f"{n}.ipynb").is_file()]


def _params(names, xfail: dict[str, str]):
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=xfail[n])) if n in xfail else n
        for n in names
    ]


CHAPTERS = _chapters()
BY_OTHERS = {n: OTHER_REASON for n in OTHER_SESSION}


def _page(name: str):
    from bs4 import BeautifulSoup

    path = BUILD / "book" / f"{name}.html"
    if not path.is_file():
        message = f"{path.relative_to(ROOT)} is not built (run jupyter-book build . first)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _article(name: str):
    article = _page(name).select_one("article.bd-article")
    assert article is not None, f"{name}: no article element"
    return article


@pytest.mark.parametrize("chapter", _params(CHAPTERS, BY_OTHERS))
def test_every_figure_has_a_number_caption_and_alt_text(chapter):
    images = _article(chapter).find_all("img")
    problems = []
    for img in images:
        src, alt = img.get("src", ""), (img.get("alt") or "").strip()
        figure = img.find_parent("figure")
        caption = figure.find("figcaption") if figure is not None else None
        if caption is None or caption.select_one(".caption-number") is None:
            problems.append(f"{src}: not a numbered figure with a caption")
        elif len(caption.get_text(" ", strip=True)) < 20:
            problems.append(f"{src}: caption too short to say what it shows")
        if not alt or HASHED_NAME.search(alt) or alt == src or len(alt) < 15:
            problems.append(f"{src}: alt text {alt!r} does not say what the figure shows")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("chapter", _params(CHAPTERS, BY_OTHERS))
def test_setup_and_closing_cells_are_collapsed(chapter):
    cells = _article(chapter).select("div.cell")
    assert cells, f"{chapter}: no code cells on the page"
    for where, cell in [("setup (first)", cells[0]), ("closing (last)", cells[-1])]:
        classes = cell.get("class", [])
        assert "tag_hide-input" in classes or "tag_hide-cell" in classes, (
            f"{chapter}: the {where} code cell is not tagged hide-input / hide-cell"
        )
        assert cell.find("details") is not None, f"{chapter}: the {where} cell is not folded"


def test_long_theory_cells_are_folded():
    cells = json.loads((BOOK / "02_theory.ipynb").read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and len("".join(cell["source"]).splitlines()) > 20:
            assert "hide-input" in cell["metadata"].get("tags", []), (
                f"02_theory cell {i} is not folded"
            )


@pytest.mark.parametrize("page", ["intro", *CHAPTERS, "references"])
def test_footer_and_logo_on_every_page(page):
    soup = _page(page)
    footer = soup.select_one(".extra_footer .vae-footer")
    assert footer is not None, f"{page}: no book footer"
    assert "Variational Autoencoders" in footer.get_text()
    logos = soup.select("img.logo__image")
    assert logos and all(len(img.get("alt", "")) > 10 for img in logos), f"{page}: logo without alt"


def _output_texts(cell: dict):
    for output in cell.get("outputs", []):
        if "text" in output:
            yield "".join(output["text"])
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                yield "".join(value) if isinstance(value, list) else str(value)


@pytest.mark.parametrize(
    "notebook", _params(sorted(p.stem for p in BOOK.glob("*.ipynb")), MACHINE_PATH_OUTPUTS)
)
def test_no_machine_paths_in_committed_outputs(notebook):
    cells = json.loads((BOOK / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    found = []
    for i, cell in enumerate(cells):
        for text in _output_texts(cell):
            for match in MACHINE_PATH.finditer(text):
                found.append(f"cell {i}: {text[max(0, match.start() - 40) : match.end() + 40]!r}")
    assert not found, "\n".join(found[:10])
