"""What every built chapter page weighs: its HTML and images, and with its scripts and styles.

Reads ``_build/html/book/*.html`` (the README's first command builds it) and reports, per page:

* ``html``: the page's own file; ``images``: every local ``<img src>`` it shows (each file
  once); ``html_images`` = html + images, the target is <= 4 MB;
* ``scripts`` and ``styles``: every local ``<script src>``, ``<link rel="preload" as="script">``
  and ``<link rel="stylesheet">`` of the page (each file once); ``total`` = html_images + scripts +
  styles, the target is <= 8 MB. Not counted: what those load in turn (MathJax's fonts and
  TeX extensions, the icon fonts of the theme's CSS), which the browser fetches on demand;
* the in-page explorers (``vaecore-explorer`` divs written by ``vaecore.web``; a
  ``vaecore-choice`` menu counts each of its models), their weight precisions, the bytes of
  their specs, and which shared runtime files the page loads (``_static/vaecore/``).

``tests/test_pages.py`` asserts the budget on every build. Usage::

    python benchmarks/page_sizes.py [--json benchmarks/results/page_sizes.json]
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

BUILD = Path(__file__).resolve().parent.parent / "_build" / "html" / "book"
PAGE_LIMIT = 4_000_000  # html + images
TOTAL_LIMIT = 8_000_000  # with scripts and stylesheets
_MOUNT = re.compile(r'vaecoreWeb\.(mount|mountChoice)\("[^"]+", (.*?)\);</script>', re.S)
_TAG = re.compile(r"<(img|script|link)\b([^>]*)>", re.I)
_ATTR = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')


def assets(page: Path) -> dict[str, set[Path]]:
    """The local files a page references: {"images", "scripts", "styles"} -> resolved paths."""
    found: dict[str, set[Path]] = {"images": set(), "scripts": set(), "styles": set()}
    for tag, attributes in _TAG.findall(page.read_text(encoding="utf-8")):
        a = {k.lower(): v for k, v in _ATTR.findall(attributes)}
        tag, rel = tag.lower(), a.get("rel", "").lower()
        if tag == "img" and "src" in a:
            kind, url = "images", a["src"]
        elif tag == "script" and "src" in a:
            kind, url = "scripts", a["src"]
        elif tag == "link" and rel == "stylesheet" and "href" in a:
            kind, url = "styles", a["href"]
        elif tag == "link" and rel == "preload" and a.get("as") == "script" and "href" in a:
            kind, url = "scripts", a["href"]
        else:
            continue
        url = html_lib.unescape(url)
        if url.startswith(("data:", "http://", "https://", "//")):
            continue  # inline (counted in html) or remote (tests/test_browser.py forbids those)
        found[kind].add((page.parent / unquote(urlsplit(url).path)).resolve())
    return found


def page_weight(page: Path) -> dict:
    """One row: bytes of the page's html, images, scripts, styles; html_images and total sums."""
    files = assets(page)
    missing = sorted(str(p) for kind in files.values() for p in kind if not p.is_file())
    sizes = {kind: sum(p.stat().st_size for p in paths if p.is_file()) for kind, paths in files.items()}
    row = {"html": page.stat().st_size, **sizes}
    row["html_images"] = row["html"] + row["images"]
    row["total"] = row["html_images"] + row["scripts"] + row["styles"]
    row["missing"] = missing
    return row


def page_sizes(build: Path) -> list[dict]:
    """One row per chapter page: its weight and its explorers."""
    rows = []
    for page in sorted(build.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        explorers, spec_bytes = [], 0
        for kind, payload in _MOUNT.findall(text):
            spec = json.loads(payload)
            explorers += spec["explorers"] if kind == "mountChoice" else [spec]
            spec_bytes += len(payload.encode("utf-8"))
        runtimes = sorted(set(re.findall(r'src="[^"]*_static/vaecore/(vaecore_web\.[0-9a-f]+\.js)"', text)))
        rows.append({
            "page": page.name,
            **page_weight(page),
            "bytes": page.stat().st_size,  # (the html alone, as in earlier results files)
            "explorers": len(explorers),
            "precisions": sorted({e["precision"] for e in explorers}),
            "explorer_bytes": spec_bytes,
            "shared_runtimes": runtimes,
        })  # fmt: skip
    return rows


def over_budget(row: dict) -> list[str]:
    """What of the budget a row misses, in words (empty: within it)."""
    out = []
    if row["html_images"] > PAGE_LIMIT:
        out.append(f"html + images {row['html_images'] / 1e6:.2f} MB > {PAGE_LIMIT / 1e6:.0f} MB")
    if row["total"] > TOTAL_LIMIT:
        out.append(f"with scripts and styles {row['total'] / 1e6:.2f} MB > {TOTAL_LIMIT / 1e6:.0f} MB")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=BUILD, help="the built book's html/book folder")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    if not args.build.is_dir():
        print(f"page_sizes: no built book at {args.build}; run the README's first command", file=sys.stderr)
        return 2
    rows = page_sizes(args.build)
    mb = lambda n: f"{n / 1e6:.2f}"  # noqa: E731
    print(f"{'page':<22} {'html':>6} {'images':>6} {'+img':>6} {'scripts':>7} {'styles':>6} {'total':>6}"
          f" {'explorers':>9} {'weights':<14} {'explorer MB':>11}")  # fmt: skip
    for r in rows:
        print(
            f"{r['page']:<22} {mb(r['html']):>6} {mb(r['images']):>6} {mb(r['html_images']):>6} {mb(r['scripts']):>7} "
            f"{mb(r['styles']):>6} {mb(r['total']):>6} {r['explorers']:>9} "
            f"{'/'.join(r['precisions']) or '-':<14} {mb(r['explorer_bytes']):>11}"
        )
    over = {r["page"]: over_budget(r) for r in rows if over_budget(r)}
    print(f"budget: html + images <= {PAGE_LIMIT / 1e6:.0f} MB, with scripts and styles <= {TOTAL_LIMIT / 1e6:.0f} MB"
          + "".join(f"\n  over: {page}: {'; '.join(why)}" for page, why in over.items()))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
