"""The public API is annotated: every public function, and every public method and property of a
public class defined in tfnf, declares the types of its parameters (except `self` / `cls` /
`*args` / `**kwargs`) and of what it returns, and the annotations resolve (`typing.get_type_hints`),
as `py.typed` promises type checkers and the API reference shows."""

import importlib
import inspect
import types
import typing

import numpy as np
import pytest
import tensorflow as tf

PACKAGES = ("tfnf", "tfnf.flows", "tfnf.keras", "tfnf.export", "tfnf.datasets")
UNANNOTATED_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
# Left without a return annotation, on purpose: `tfnf.flow_registry` imports nothing but `dataclasses`
# and `importlib` (tests/test_flow_registry.py), so `typing.Callable` is out of reach, and an
# unannotated return (Any to a type checker) serves callers better than `object`.
NO_RETURN_ANNOTATION = {"tfnf.flow_registry.load_builder"}


def _defined_in_tfnf(value):
    return (getattr(value, "__module__", None) or "").split(".")[0] == "tfnf"


def _public_callables():
    """`{qualified name: function}` of the public functions, methods and property getters."""
    found = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, types.ModuleType) or not callable(value):
                continue
            if inspect.isclass(value):
                for base in value.__mro__:
                    if not _defined_in_tfnf(base):
                        continue
                    for member, attribute in vars(base).items():
                        if member.startswith("_") and member != "__init__":
                            continue
                        qualified = f"{value.__module__}.{value.__qualname__}.{member}"
                        if isinstance(attribute, property):
                            found.setdefault(qualified, attribute.fget)
                        elif isinstance(attribute, (classmethod, staticmethod)):
                            found.setdefault(qualified, attribute.__func__)
                        elif inspect.isfunction(attribute):
                            found.setdefault(qualified, attribute)
            elif _defined_in_tfnf(value):
                found.setdefault(f"{value.__module__}.{value.__qualname__}", value)
    return found


PUBLIC = _public_callables()


def test_the_walk_finds_the_public_api():
    for expected in (
        "tfnf.keras.flow_model.FlowModel.fit",
        "tfnf.keras.flow_model.FlowModel.sample",
        "tfnf.keras.flow_model.FlowModel.flow",  # from a tfnf base class
        "tfnf.flows.data_flow.DataFlow.log_prob",
        "tfnf.flows.glow.glow",
        "tfnf.flows.bases.with_base",
        "tfnf.export.saved_model.export_saved_model",
        "tfnf.export.saved_model.FlowExport.__init__",
    ):
        assert expected in PUBLIC


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_callable_is_annotated(name):
    function = PUBLIC[name]
    signature = inspect.signature(function)
    missing = [
        parameter.name
        for index, parameter in enumerate(signature.parameters.values())
        if parameter.kind not in UNANNOTATED_KINDS
        and not (index == 0 and parameter.name in ("self", "cls"))
        and parameter.annotation is inspect.Parameter.empty
    ]
    assert not missing, f"{name}: parameters without annotations: {missing}"
    if name not in NO_RETURN_ANNOTATION:
        assert signature.return_annotation is not inspect.Signature.empty, f"{name}: no return annotation"
    # every annotation resolves (modules that import TensorFlow for type checkers only name it `tf`)
    typing.get_type_hints(function, localns={"tf": tf, "np": np})


def test_builders_show_their_public_signature():
    import tensorflow_probability as tfp

    from tfnf.flows import glow

    signature = inspect.signature(glow)
    assert signature.return_annotation is tfp.distributions.TransformedDistribution
    assert list(signature.parameters)[:3] == ["event_shape", "num_levels", "num_steps"]
    assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values())
    hints = typing.get_type_hints(glow)
    assert hints["num_levels"] is int and hints["return"] is tfp.distributions.TransformedDistribution
    assert "flow" not in hints


@pytest.mark.parametrize("package", ["tfnf.bijectors", "tfnf.nets"])
def test_bijector_and_network_constructors_are_annotated(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        cls = getattr(module, name)
        if not (inspect.isclass(cls) and _defined_in_tfnf(cls) and "__init__" in vars(cls)):
            continue
        signature = inspect.signature(cls.__init__)
        missing = [
            p.name for p in list(signature.parameters.values())[1:]
            if p.kind not in UNANNOTATED_KINDS and p.annotation is inspect.Parameter.empty
        ]
        assert not missing, f"{package}.{name}.__init__: parameters without annotations: {missing}"
        assert signature.return_annotation is not inspect.Signature.empty, f"{package}.{name}.__init__"
        typing.get_type_hints(cls.__init__, localns={"tf": tf, "np": np})
