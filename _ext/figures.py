"""Sphinx extension (listed in _config.yml): captions, numbers and alt text for a code cell
that shows *several* figures.

One figure per cell needs nothing from here: MyST-NB's own cell metadata captions it
(``"mystnb": {"figure": {"caption": ..., "name": "fig-..."}, "image": {"alt": ...}}``). But
MyST-NB 1.4 wraps *every* display output of such a cell in its own figure with the same
name and caption (a repeated caption, and "Duplicate explicit target name", an error under
``-W``). A cell with several figures instead lists them, in output order, under the cell
metadata key ``figures``::

    "figures": [
      {"name": "fig-mnist-samples", "caption": "Forty samples ...", "alt": "A grid of ..."},
      {"name": "fig-mnist-recon", "caption": "Test digits (top) ...", "alt": "Pairs of ..."}
    ]

Entry *i* goes to the cell's *i*-th output that holds an image (outputs without an image
are left alone); each image output is wrapped in a figure with that name (a target for
``{numref}``), the caption (MyST markdown: maths, ``{cite}``, ``{numref}`` work) and the
image's alt text. A list of the wrong length is a build warning (an error under ``-W``).
The README's "Writing a chapter" states the convention.

Numbers restart in every chapter ("Figure 1" is a chapter's first figure), as a chapter's own
text and its figures' titles count them: Sphinx's ``numfig`` counts through the whole book
unless the table of contents is numbered, so the numbers it assigns are renumbered per page.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import new_document

logger = logging.getLogger(__name__)

KEY = "figures"


def _caption(text: str, document) -> nodes.caption:
    """``text`` (MyST markdown, one paragraph) parsed into a caption node."""
    from myst_parser.parsers.sphinx_ import MystParser

    scratch = new_document(document["source"], document.settings)
    MystParser().parse(text, scratch)
    paragraphs = [n for n in scratch.children if isinstance(n, nodes.paragraph)]
    children = paragraphs[0].children if paragraphs else [nodes.Text(text)]
    caption = nodes.caption(text, "", *[c.deepcopy() for c in children])
    # targets defined while parsing (none expected) would be lost: refuse them loudly
    for name in scratch.nameids:
        logger.warning("figure caption defines a target %r, which is ignored", name)
    return caption


def _image_bundles(cell: nodes.Element) -> list[nodes.Element]:
    """The cell's output mime bundles that hold an image, in output order."""
    bundles = []
    for bundle in cell.findall(nodes.container):
        if bundle.get("nb_element") != "mime_bundle":
            continue
        if any(isinstance(n, nodes.image) for n in bundle.findall(nodes.image)):
            bundles.append(bundle)
    return bundles


class CellFigures(SphinxTransform):
    """Wrap each image output of a cell with a ``figures`` list in a captioned figure."""

    default_priority = 200  # early: before Sphinx collects targets and figure numbers

    def apply(self, **kwargs) -> None:
        for cell in list(self.document.findall(nodes.container)):
            if cell.get("nb_element") != "cell_code":
                continue
            entries = (cell.get("cell_metadata") or {}).get(KEY)
            if not entries:
                continue
            bundles = _image_bundles(cell)
            if len(bundles) != len(entries):
                logger.warning(
                    "cell %s lists %d figures in its %r metadata but shows %d images",
                    cell.get("cell_index"),
                    len(entries),
                    KEY,
                    len(bundles),
                    location=cell,
                )
            for bundle, entry in zip(bundles, entries, strict=False):  # warned above
                figure = nodes.figure()
                figure.source, figure.line = bundle.source, bundle.line
                bundle.replace_self(figure)
                figure += bundle
                if entry.get("alt"):
                    for image in bundle.findall(nodes.image):
                        image["alt"] = str(entry["alt"])
                if entry.get("caption"):
                    figure += _caption(str(entry["caption"]), self.document)
                if entry.get("name"):
                    name = nodes.fully_normalize_name(str(entry["name"]))
                    figure["names"].append(name)
                    self.document.note_explicit_target(figure, figure)


def _number_per_chapter(app, env) -> list[str]:
    """Renumber figures (and tables, code blocks) from 1 in every document, in page order."""
    changed = []
    for docname, by_type in env.toc_fignumbers.items():
        for numbers in by_type.values():
            renumbered = {
                fid: (k + 1,) for k, fid in enumerate(sorted(numbers, key=numbers.__getitem__))
            }
            if renumbered != numbers:
                numbers.clear()
                numbers.update(renumbered)
                changed.append(docname)
    return changed


def setup(app):
    app.add_transform(CellFigures)
    # after Sphinx's own numbering (TocTreeCollector, default priority 500)
    app.connect("env-get-updated", _number_per_chapter, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
