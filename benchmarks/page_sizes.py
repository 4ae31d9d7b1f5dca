"""Size of every built chapter page, and what its in-page explorers weigh.

Reads ``_build/html/book/*.html`` (the README's first command builds it) and reports,
per page: bytes, the number of in-page explorers (``vaecore-explorer`` divs written by
``vaecore.web``; a ``vaecore-choice`` menu counts each of its models), their weight
precisions, and the share of the page they take. The target is <= 10 MB per page
(``tests/test_browser.py`` asserts it on every build). Usage::

    python benchmarks/page_sizes.py [--json benchmarks/results/page_sizes.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

BUILD = Path(__file__).resolve().parent.parent / "_build" / "html" / "book"
LIMIT = 10_000_000
_MOUNT = re.compile(r'vaecoreWeb\.(mount|mountChoice)\("[^"]+", (.*?)\);</script>', re.S)


def page_sizes(build: Path) -> list[dict]:
    """One row per chapter page: name, bytes, explorers, precisions, bytes in explorer specs."""
    rows = []
    for page in sorted(build.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        explorers, spec_bytes = [], 0
        for kind, payload in _MOUNT.findall(text):
            spec = json.loads(payload)
            explorers += spec["explorers"] if kind == "mountChoice" else [spec]
            spec_bytes += len(payload.encode("utf-8"))
        rows.append({
            "page": page.name,
            "bytes": page.stat().st_size,
            "explorers": len(explorers),
            "precisions": sorted({e["precision"] for e in explorers}),
            "explorer_bytes": spec_bytes,
        })  # fmt: skip
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=BUILD, help="the built book's html/book folder")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    if not args.build.is_dir():
        print(f"page_sizes: no built book at {args.build}; run the README's first command", file=sys.stderr)
        return 2
    rows = page_sizes(args.build)
    print(f"{'page':<26} {'MB':>6} {'explorers':>9} {'weights':<14} {'explorer MB':>11}")
    for r in rows:
        print(
            f"{r['page']:<26} {r['bytes'] / 1e6:>6.2f} {r['explorers']:>9} "
            f"{'/'.join(r['precisions']) or '-':<14} {r['explorer_bytes'] / 1e6:>11.2f}"
        )
    over = [r["page"] for r in rows if r["bytes"] > LIMIT]
    print(f"largest page {max(r['bytes'] for r in rows) / 1e6:.2f} MB (target <= {LIMIT / 1e6:.0f} MB)"
          + (f"; over: {over}" if over else ""))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
