"""Sphinx extension (listed in _config.yml): the reference list uses the text's author-year labels.

``bibtex_reference_style: author_year`` makes sphinxcontrib-bibtex write in-text citations as
"[Alemi et al., 2018]", but the bibliography's labels come from the pybtex *formatting* style,
which by default is ``alpha`` ("[APF+18]"): the reader cannot find one from the other. This
registers the formatting style ``author_year_labels`` (``bibtex_default_style`` in
_config.yml): pybtex's ``alpha`` (same entries, same author-year-title order) with labels made by
sphinxcontrib-bibtex's own author-year template, the one the in-text citations use (last names,
"A and B" for two authors, "A et al." for more; then ", " and the year), so both always agree.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle

STYLE = "author_year_labels"


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels as the in-text author-year citations print them: "Alemi et al., 2018"."""

    def format_labels(self, sorted_entries):
        from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
        from sphinxcontrib.bibtex.style.template import join, year

        style = AuthorYearReferenceStyle()
        template = join(sep=style.author_year_sep)[style.person.author_or_editor_or_title(full=False), year]
        for entry in sorted_entries:
            yield template.format_data({"entry": entry, "style": style}).render_as("text")


class AuthorYearStyle(AlphaStyle):
    default_label_style = STYLE


def setup(app):
    register_plugin("pybtex.style.labels", STYLE, AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", STYLE, AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
