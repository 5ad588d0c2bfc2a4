"""Sphinx configuration of tfnf's API reference (`make docs`; the HTML lands in docs/_build/html).

The pages under `api/` are generated at build time from the packages' `__all__` by
`_ext/public_api.py`, which also reports public names without a docstring. The build
runs nitpicky with warnings as errors, so a cross-reference that resolves nowhere or
a missing docstring fails it.
"""

import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent / "_ext"))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tfnf  # noqa: E402

project = "tfnf"
release = version = tfnf.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "public_api"]
exclude_patterns = ["_build"]
html_theme = "alabaster"

# Docstrings are Google style ("Args:", "Returns:") and quote code in single backticks,
# which reStructuredText renders as literal text here, not as a cross-reference.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
default_role = "literal"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_inherit_docstrings = True

# Every reference must resolve. The build has no network, so there is no intersphinx:
# the references below point into TensorFlow, TFP, Keras, NumPy and the standard
# library, whose objects are not documented here. They are ignored by module prefix
# (and only those); a reference to a tfnf name that does not exist still fails.
nitpicky = True
_EXTERNAL = r"(tf|tensorflow|tfp|tfd|tfb|tensorflow_probability|keras|tf_keras|np|numpy|matplotlib|tensorflow_datasets)"
_STDLIB = r"(os|pathlib|collections\.abc|typing|types|numbers)"
nitpick_ignore_regex = [
    (r"py:.*", _EXTERNAL + r"(\..+)?"),
    (r"py:.*", _STDLIB + r"\..+"),
]

# "Returns:" and "Yields:" hold prose here ("The nested dict of ...: use it as ..."), not
# "type: description": render them as titled paragraphs, so a colon in the prose is not
# read as a return type.
napoleon_custom_sections = [("Returns", "prose"), ("Yields", "prose")]
