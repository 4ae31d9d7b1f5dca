"""Sphinx extension (listed in _config.yml): the book theme's navigation works, and the page
styles in ``_ext/static/book.css`` are loaded on every page.

Two bugs of the theme stack that jupyter-book 1.x installs (Sphinx 7.4, sphinx-book-theme
1.3.0, pydata-sphinx-theme 0.17.1, pinned in requirements.txt), fixed here:

* **Dead sidebar toggles and a second search box.** pydata-sphinx-theme 0.17 defaults
  ``navbar_persistent`` to ``["search-button-field"]`` in Python whenever the *user's*
  theme options lack the key; sphinx-book-theme's own empty default (its theme.conf) is not
  the user's, so the top navbar of pydata is rendered: an extra band holding a search box
  and hidden duplicates of the ☰ and page-contents toggles. Both themes' scripts bind the
  first ``.primary-toggle`` / ``.secondary-toggle`` in the page (``querySelector``), which
  are those hidden duplicates, so the visible toggles in the article header did nothing.
  Setting ``navbar_persistent = []`` (the book theme's intent) removes the band.
* **``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``.** Sphinx 7.4 adds an
  inline script registered after ``Builder.init()`` (``app.add_js_file(None, body=...)``,
  as sphinx-thebe and sphinx-togglebutton do) twice: once with filename ``None``, once in
  ``prepare_writing`` with filename ``''``, which its duplicate check sees as different
  (fixed upstream in Sphinx 8.2, which jupyter-book 1.x does not allow). Each page's script
  list is deduplicated before it is written.

Also: ``default_mode`` is ``auto`` (the theme follows the system's light or dark setting), and
the theme's ``_static/scripts/fontawesome.js`` (1.5 MB on every page: Font Awesome's script that
swaps each ``<i class="fa-...">`` icon for an inline SVG, there "so that users can add custom
icons", which the book has none of) is replaced by a one-line stub in the built book: the theme's
own CSS already carries Font Awesome's classes and webfonts (``vendor/fontawesome/webfonts``,
fetched only for the icons a page shows), so every icon is still drawn, by the font.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
CSS = "book.css"
FONTAWESOME_JS = "scripts/fontawesome.js"  # under _static, from pydata-sphinx-theme
FONTAWESOME_STUB = (
    "/* pydata-sphinx-theme's Font Awesome SVG script, left out of the book (_ext/book_theme.py):\n"
    " * the theme's CSS draws the icons with Font Awesome's webfonts. */\n"
)


def _theme_options(app, config):
    options = config.html_theme_options
    options.setdefault("navbar_persistent", [])
    # the logo (_ext/static/logo.svg) says what it draws, for readers who cannot see it
    logo = options.setdefault("logo", {})
    logo.setdefault(
        "alt_text", "VAE book logo: an encoder narrows to a latent code, a decoder widens it back"
    )
    # The theme follows the reader's system setting; without a default the theme's script
    # logs "Got invalid theme mode: ." (a console error) on every page.
    config.html_context = {"default_mode": "auto", **config.html_context}
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def _script_key(script):
    name = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return name, tuple(sorted((k, str(v)) for k, v in attributes.items()))


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: Sphinx restores its own list after each page


def _stub_fontawesome_js(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / FONTAWESOME_JS
    if target.is_file():
        target.write_text(FONTAWESOME_STUB, encoding="utf-8")


def setup(app):
    app.connect("config-inited", _theme_options)
    app.connect("build-finished", _stub_fontawesome_js)
    app.add_css_file(CSS, priority=900)  # after the theme's own styles
    app.connect("html-page-context", _dedupe_scripts, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
