"""Sphinx's configuration for the rendered site (`make site`; website/build.py runs Sphinx
with this folder as its configuration folder).

Everything a page loads ships in the wheels of the `site` extra: Furo's CSS and JavaScript,
Pygments' highlighting, Sphinx's search. Nothing loads from the network: no MathJax (Sphinx
adds it only to a page with maths, and there is none: website/build.py checks), no widget or
require.js scripts (website/scrub.py replaces the widgets), no web fonts (Furo uses the
system's).
"""

project = "Temporal order-management workshop"
author = "the workshop's authors"
extensions = ["myst_nb"]

# The notebooks ran already (website/execute.py), against a real dev server.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget manager from a CDN
nb_merge_streams = True  # one block of text per cell, as JupyterLab shows it
myst_enable_extensions = ["colon_fence"]

html_theme = "furo"
html_title = "Durable execution, hands on"
html_static_path = ["static"]
templates_path = ["templates"]  # Furo's footer without its credit link
html_css_files = ["site.css"]
html_show_sphinx = False  # Furo's footer credits link to the web
html_show_copyright = False
html_show_sourcelink = False
html_copy_source = False
pygments_style = "default"

exclude_patterns = ["**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]
