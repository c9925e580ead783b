"""Sphinx configuration of the autograd_mini site (``make docs``)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # the package itself, also without an install

import autograd_mini  # noqa: E402

project = "autograd_mini"
author = "the autograd_mini authors"
copyright = "the autograd_mini authors, MIT licence"
release = version = autograd_mini.__version__

extensions = [
    # The docstrings are plain prose with doctests, no Google/NumPy sections, so
    # there is no napoleon: it would read "The whole page: ..." as a type.
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax's files in the site itself: no network
    "myst_nb",
    "autograd_docs",
]

# The notebooks are committed already executed (the test suite runs them);
# the site shows those outputs as they are, which keeps the build fast.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
autoclass_content = "class"
add_module_names = False

# A reference that leads nowhere is a warning, and the test build turns
# warnings into errors. Type names from outside the project are not pages of
# this site; they are named here rather than linked.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"(collections\.abc|typing|os|graphviz|contextlib|types|random|torch)\..*"),
    ("py:class", r"(Number|Operand|Points|Sequence|Iterable|Iterator|Callable|Any)"),
]

html_theme = "furo"
html_title = f"autograd_mini {release}"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {"navigation_with_keys": True}
# Search works from files, but a result's summary is fetched from its page,
# which a browser refuses for file:// pages: the results are listed without it.
html_show_search_summary = False
