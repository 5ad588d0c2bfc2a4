"""Sphinx extension: the API pages, generated from the packages' `__all__` at build time.

The public surface is `tfnf.__all__` and the `__all__` of every subpackage of `tfnf`
that defines one (found when the build starts, so a package added or a name moved
needs no edit here). For each package the extension writes `api/<package>.rst`: one
autodoc entry per name, under the package where the name is defined (a name that
another package re-exports gets a cross-reference there instead of a second entry).

It also reports, as Sphinx warnings (errors under `sphinx-build -W`), every public
name without a docstring: functions, classes, modules, constants (a docstring
string or `#:` comment after the assignment) and every public method or property of
a public class, including those a class inherits from tfnf's own private bases.
Methods overriding a documented Keras or TFP method inherit its docstring, as
`help()` shows them.

Docstrings are read as tfnf writes them: code in single backticks becomes a
literal, Markdown code fences become code blocks, a property's opening sentence
stays a sentence (napoleon would read "text: more" as "type: description"), a
private tfnf base class gives way to its public bases in "Bases:", and a Keras
layer's signature is its `__init__`'s.
"""

import ast
import importlib
import inspect
import pathlib
import pkgutil
import re
import sys
import types

from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = "tfnf"
# ids of the classes the reference documents (a base outside it is replaced by its own bases)
_DOCUMENTED_CLASSES = set()
# Sections of the index, in reading order (the package's data flow); packages not
# listed here (a new one) follow in alphabetical order.
ORDER = ["tfnf", "tfnf.datasets", "tfnf.nets", "tfnf.bijectors", "tfnf.flows", "tfnf.keras", "tfnf.export",
         "tfnf.rules", "tfnf.files", "tfnf.cli"]


def public_packages():
    """`{package name: its __all__}` for `tfnf` and each of its subpackages that defines `__all__`."""
    root = importlib.import_module(ROOT)
    packages = {ROOT: list(root.__all__)}
    for info in pkgutil.iter_modules(root.__path__, ROOT + "."):
        if not info.ispkg:
            continue
        package = importlib.import_module(info.name)
        if hasattr(package, "__all__"):
            packages[info.name] = list(package.__all__)
    return dict(sorted(packages.items(), key=lambda item: (ORDER.index(item[0]) if item[0] in ORDER else len(ORDER), item[0])))


def _module_assignments(module_name):
    """Names assigned at the top level of a module's source."""
    module = importlib.import_module(module_name)
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return set()
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            names.update(child.id for child in ast.walk(target) if isinstance(child, ast.Name))
    return names


def _attribute_docs(module_name):
    """`{name: docstring}` of a module's documented top-level assignments (`#:` comments or a string after)."""
    analyzer = ModuleAnalyzer.for_module(module_name)
    return {name: "\n".join(lines).strip() for (scope, name), lines in analyzer.find_attr_docs().items() if scope == ""}


def data_home(package, name):
    """The module whose top level assigns `name`: `package`, one under it, or another tfnf module."""
    loaded = sorted(module for module in list(sys.modules) if module.startswith(ROOT + "."))
    candidates = [package] + [module for module in loaded if module.startswith(package + ".")] + loaded
    for module in candidates:
        if name in _module_assignments(module):
            return module
    return package


class Entry:
    """One public name of one package: what it is, where it is defined, its docstring."""

    def __init__(self, package, name):
        self.package, self.name = package, name
        self.value = getattr(importlib.import_module(package), name)
        if isinstance(self.value, types.ModuleType):
            self.kind, self.home = "module", self.value.__name__
            self.doc = inspect.getdoc(self.value)
        elif inspect.isclass(self.value):
            self.kind, self.home, self.doc = "class", self.value.__module__, inspect.getdoc(self.value)
        elif callable(self.value):
            self.kind, self.home, self.doc = "function", getattr(self.value, "__module__", package), inspect.getdoc(self.value)
        else:
            self.kind = "data"
            self.home = data_home(package, name)
            self.doc = _attribute_docs(self.home).get(name)

    @property
    def qualified(self):
        return f"{self.package}.{self.name}"


def class_members(cls):
    """Public methods and properties of `cls`, its own and those of tfnf base classes, in source order."""
    members = {}
    for base in reversed(cls.__mro__):
        if not base.__module__.startswith(ROOT + ".") and base is not cls:
            continue
        for name, value in vars(base).items():
            if name.startswith("_"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if inspect.isfunction(value) or isinstance(value, property):
                members[name] = base
    return list(members)


def member_doc(cls, name):
    """The docstring `help(cls)` shows for a member (inherited from a base's override if it has none)."""
    return inspect.getdoc(getattr(cls, name, None))


def collect():
    """Every package's entries, with missing docstrings reported."""
    packages = public_packages()
    entries = {package: [Entry(package, name) for name in names] for package, names in packages.items()}
    # A name is documented in the package whose module defines it (the longest package
    # prefix of its home module among those listing it); elsewhere it links there.
    homes = {}
    for package, package_entries in entries.items():
        for entry in package_entries:
            key = (entry.kind, id(entry.value)) if entry.kind != "data" else ("data", entry.home, entry.name)
            homes.setdefault(key, []).append(entry)
    canonical = {}
    for listed in homes.values():
        best = max(listed, key=lambda entry: (entry.home == entry.package or entry.home.startswith(entry.package + "."),
                                              len(entry.package)))
        for entry in listed:
            canonical[id(entry)] = best
    for package, package_entries in entries.items():
        for entry in package_entries:
            entry.canonical = canonical[id(entry)]
            if entry.canonical is not entry:
                continue
            where = source_file(entry.home, entry.value if entry.kind in ("class", "function") else None)
            if not entry.doc:
                logger.warning(f"public {entry.kind} {entry.qualified} has no docstring", type="tfnf", subtype="docstring",
                               location=where)
            if entry.kind == "class":
                entry.members = class_members(entry.value)
                for member in entry.members:
                    if not member_doc(entry.value, member):
                        logger.warning(f"public member {entry.qualified}.{member} has no docstring", type="tfnf",
                                       subtype="docstring", location=member_location(entry.value, member))
    return entries


def source_file(module_name, obj=None):
    """Where a warning about a name points: `file:line` of `obj` (or of the module)."""
    try:
        path = inspect.getsourcefile(importlib.import_module(module_name))
        line = inspect.getsourcelines(inspect.unwrap(obj))[1] if obj is not None else 1
    except (TypeError, OSError):
        return f"{module_name}:"
    return f"{path}:{line}"


def member_location(cls, name):
    """`file:line` of the class in `cls`'s MRO that defines the member `name`."""
    for base in cls.__mro__:
        if name in vars(base):
            value = vars(base)[name]
            value = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            return source_file(base.__module__, value if inspect.isfunction(value) else base)
    return source_file(cls.__module__, cls)


def _prose_before_colon(line):
    """Whether a docstring's first line starts with a phrase and a colon ("The current `loc: [C]`")."""
    head = line.split(":", 1)[0] if ":" in line else ""
    return bool(head.strip()) and (any(character.isspace() for character in head.strip()) or "`" in head)


_CODE = re.compile(r"(?<![`:\w\\])`([^`\n]+)`(?![`_])(\w?)")


def _literal_code(line):
    """tfnf's docstrings quote code in single backticks, Markdown style: make those ``literals``, so
    napoleon does not split `x: [batch, k]` at its colon, and `ActNorm`s stays valid markup."""
    return _CODE.sub(lambda match: f"``{match[1]}``" + (f"\\ {match[2]}" if match[2] else ""), line)


def _code_fences(lines):
    """Markdown code fences (in docstrings tfnf inherits from Keras) as code-block directives."""
    result, fence = [], None
    for line in lines:
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = line[: len(line) - len(line.lstrip())]
            result += [f"{fence}.. code-block:: {stripped[3:].strip() or 'text'}", ""]
        elif fence is not None and stripped == "```":
            fence = None
            result.append("")
        elif fence is not None:
            result.append(f"{fence}   {line[len(fence):]}" if line.strip() else "")
        else:
            result.append(line)
    return result


def _public_bases(app, name, obj, options, bases):
    """Show a class's public ancestry: a private tfnf base (not in the reference) gives way to its own bases."""
    resolved = []
    for base in bases:
        pending = [base]
        while pending:
            candidate = pending.pop(0)
            if (getattr(candidate, "__module__", "").startswith(ROOT + ".") and id(candidate) not in _DOCUMENTED_CLASSES
                    and inspect.isclass(candidate)):
                pending[:0] = [ancestor for ancestor in candidate.__bases__ if ancestor is not object]
            elif candidate not in resolved:
                resolved.append(candidate)
    bases[:] = resolved or [object]


def _init_signature(app, what, name, obj, options, signature, return_annotation):
    """A Keras layer's signature from its `__init__` (Keras' `Layer.__new__(*args, **kwargs)` hides it)."""
    if what != "class" or signature != "(*args, **kwargs)" or obj.__init__ is object.__init__:
        return None
    from sphinx.util.inspect import signature as sphinx_signature, stringify_signature

    init = sphinx_signature(obj.__init__, bound_method=True, type_aliases=app.config.autodoc_type_aliases)
    return stringify_signature(init, show_return_annotation=False), return_annotation


def _before_napoleon(app, what, name, obj, options, lines):
    """Before napoleon: quote code as literals; remember a property's docstring whose first line
    napoleon would misread."""
    lines[:] = [_literal_code(line) for line in _code_fences(lines)]
    if what == "property" and lines and _prose_before_colon(lines[0]):
        app.env.temp_data.setdefault("tfnf_property_docs", {})[name] = list(lines)


def _after_napoleon(app, what, name, obj, options, lines):
    """After napoleon: parse such a property's docstring as prose with sections.

    Napoleon reads the first line of a property's docstring as "type: description";
    tfnf's properties open with a sentence instead ("Width `k` of the context
    `conditional_input: [batch, k]`..."), which would become a bogus type.
    """
    from sphinx.ext.napoleon.docstring import GoogleDocstring

    original = app.env.temp_data.get("tfnf_property_docs", {}).pop(name, None)
    if original is not None:
        lines[:] = GoogleDocstring(original, app.config, app, "function", name, obj, options).lines()


def _title(text, underline):
    return f"{text}\n{underline * len(text)}\n"


def _reference(name, kind, target):
    """An entry that links to where `target` is documented."""
    role = {"module": "mod", "class": "class", "function": "func", "data": "data"}[kind]
    return [f".. py:data:: {name}", "", f"   Re-exported: :py:{role}:`{target}`.", ""]


def _kind(value):
    return "class" if inspect.isclass(value) else "function" if callable(value) else "data"


def render_module(module, documented):
    """A module a package exports (`tfnf.flows.bases`): its docstring, then each name of its `__all__`
    (a link for those documented on a package page)."""
    lines = [_title(f"``{module.__name__}``", "-"), f".. automodule:: {module.__name__}", "   :no-index:", ""]
    for name in getattr(module, "__all__", []):
        value, qualified = getattr(module, name), f"{module.__name__}.{name}"
        kind = _kind(value)
        if kind != "data" and id(value) in documented:
            lines += _reference(qualified, kind, documented[id(value)])
            continue
        lines += [f".. auto{kind}:: {qualified}", ""]
        doc = _attribute_docs(module.__name__).get(name) if kind == "data" else inspect.getdoc(value)
        if not doc:
            logger.warning(f"public {kind} {qualified} has no docstring", type="tfnf", subtype="docstring",
                           location=source_file(module.__name__, value if kind != "data" else None))
        if kind == "class":
            members = class_members(value)
            for member in members:
                if not member_doc(value, member):
                    logger.warning(f"public member {qualified}.{member} has no docstring", type="tfnf",
                                   subtype="docstring", location=member_location(value, member))
            if members:
                lines[-1:] = [f"   :members: {', '.join(members)}", ""]
    return lines


def render(package, package_entries, entries):
    """The reStructuredText of one package's page."""
    documented = {id(entry.value): entry.qualified for listed in entries.values() for entry in listed
                  if entry.canonical is entry and entry.kind in ("class", "function")}
    module = importlib.import_module(package)
    lines = [_title(f"``{package}``", "="), f".. py:module:: {package}", ""]
    summary = inspect.getdoc(module)
    if not summary:
        logger.warning(f"public package {package} has no docstring", type="tfnf", subtype="docstring",
                       location=source_file(package))
    else:
        lines += [_literal_code(line) for line in _code_fences(summary.splitlines())] + [""]
    for entry in package_entries:
        if entry.canonical is not entry:
            lines += _reference(entry.name, entry.kind, entry.canonical.qualified)
            continue
        if entry.kind == "module":
            if entry.value.__name__ in entries:  # a package with its own page
                lines += [f"* ``{entry.name}``: the package :py:mod:`{entry.value.__name__}`.", ""]
            else:
                lines += render_module(entry.value, documented)
            continue
        if entry.kind == "class":
            lines += [f".. autoclass:: {entry.qualified}", "   :show-inheritance:"]
            if entry.members:
                lines.append(f"   :members: {', '.join(entry.members)}")
            lines.append("")
        elif entry.kind == "function":
            lines += [f".. autofunction:: {entry.qualified}", ""]
        else:
            value = repr(entry.value)
            lines += [f".. py:data:: {entry.name}"]
            if len(value) <= 200 and "\n" not in value:
                lines.append(f"   :value: {value}")
            doc = [_literal_code(line) for line in _code_fences((entry.doc or "").splitlines())]
            lines += ["", *("   " + line if line else "" for line in doc), ""]
    return "\n".join(lines) + "\n"


def write_pages(app):
    """Write `api/<package>.rst` for every public package and `api/index.rst` listing them."""
    entries = collect()
    _DOCUMENTED_CLASSES.clear()
    _DOCUMENTED_CLASSES.update(
        id(entry.value) for package_entries in entries.values() for entry in package_entries if entry.kind == "class")
    folder = pathlib.Path(app.srcdir) / "api"
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("*.rst"):
        stale.unlink()
    for package, package_entries in entries.items():
        (folder / f"{package}.rst").write_text(render(package, package_entries, entries))
    toc = "\n".join(f"   {package}" for package in entries)
    (folder / "index.rst").write_text(_title("API reference", "=") + "\n.. toctree::\n   :maxdepth: 1\n\n" + toc + "\n")


def setup(app):
    app.connect("builder-inited", write_pages)
    app.connect("autodoc-process-docstring", _before_napoleon, priority=100)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-signature", _init_signature)
    app.connect("autodoc-process-docstring", _after_napoleon, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
