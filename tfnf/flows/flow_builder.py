"""`flow_builder`: the skeleton every builder shares, so a builder body is its architecture alone.

A builder is written as its architecture: a function of a `FlowSetting`
(what is common to every flow: event shape, dtype, context, conditioner) and
of its own arguments, returning the bijector (latent -> data) and the data
preprocessing it prefers:

    @flow_builder("nsf", recorded_when_set=("conditioner", "mixing", "seed"))
    def nsf(flow, num_couplings=4, hidden_units=(64, 64), ..., dropout=0.0, mixing=None, seed=None):
        ...
        return Architecture(tfb.Chain(parts, name="nsf"))

`flow_builder` turns it into the public builder
`nsf(event_shape, num_couplings=4, ..., *, num_classes=None, context_shape=None,
conditioner=None, base=None, dtype=tf.float32, name="nsf")`, which

1. checks every argument by its name (`argument_checks.CHECKS`, the event
   shape against the kinds of events the registry gives the builder, the
   `choices` it declares, `mixing` with its `seed`);
2. resolves what every flow shares: the context (`num_classes` /
   `context_shape`), the conditioner (checked against the event), the dtype;
3. records the configuration from the call itself: every argument as checked
   (refined by what the architecture resolved), except those of
   `recorded_when_set` left at their default, so a configuration saved before
   such an argument existed rebuilds as it was;
4. wraps the bijector with `make_flow` and applies `base` with `with_base`;
5. documents what every builder shares: its docstring is the architecture's,
   whose Args end with `base`, `dtype` and `name` (`COMMON_ARGUMENTS_DOC`),
   followed by the architecture's own Raises or the common one.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.flow_registry import IMAGE, flow_entry
from tfnf.flows import argument_checks as check
from tfnf.flows.bases import with_base
from tfnf.flows.condition import context_spec, image_context_shape
from tfnf.flows.flow_distribution import make_flow
from tfnf.flows.vector_mixing import mixing_config
from tfnf.nets import conditioners

# The arguments of a conditional flow (for builders that take a context).
CONTEXT_ARGUMENTS = ("num_classes", "context_shape")
# The types of the arguments every builder's public signature adds to its architecture's.
COMMON_TYPES = {
    "event_shape": Sequence[int], "num_classes": int | None, "context_shape": Sequence[int] | None,
    "conditioner": str | dict | Callable | None, "base": str | dict | None, "dtype": tf.DType | str, "name": str,
}


@dataclass(frozen=True)
class FlowSetting:
    """What the skeleton resolved for an architecture.

    Attributes:
      event_shape: the checked event shape, a tuple of ints.
      dtype: the flow's `tf.DType` (float32 or float64).
      context: `{"num_classes": K}`, `{"context_shape": [...]}` or None.
      context_size: the width of the context vector the bijectors read (None: none).
      context_image: `(h, w, c)` for an image context, else None.
      conditioner: the resolved conditioner (None: each bijector's default).
      name: the distribution's name.
    """

    event_shape: tuple
    dtype: tf.DType
    context: dict | None = None
    context_size: int | None = None
    context_image: tuple | None = None
    conditioner: Any = None
    name: str | None = None


@dataclass
class Architecture:
    """What an architecture returns: its `bijector` (latent -> data), the `preprocessing` of
    the data it prefers (`"shift"`, `"logit"` or None; see `make_flow`), the arguments it
    `resolved` (`{"num_levels": 3}`) that the configuration records instead of the given ones,
    and those of its `recorded_when_set` that do not apply to this flow (`unused`), left out."""

    bijector: tfp.bijectors.Bijector
    preprocessing: str | None = None
    resolved: dict = field(default_factory=dict)
    unused: tuple = ()


# The Args every builder's docstring ends with, and its Raises unless it has its own.
COMMON_ARGUMENTS_DOC = """
      base: the base distribution (see `tfnf.flows.bases`): None or
        `"standard_normal"` (default), `"diagonal_gaussian"`,
        `"gaussian_mixture"` (or `{"kind": "gaussian_mixture",
        "num_components": m}`), `"class_conditional_gaussian"` (with
        `num_classes`).
      dtype: float32 (default) or float64.
      name: the distribution's name (default: the builder's)."""
RAISES_DOC = """
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it)."""


def _public_docstring(doc):
    """An architecture's docstring (ending with its own Args, then maybe its own Raises) with
    `COMMON_ARGUMENTS_DOC` closing its Args and `RAISES_DOC` where it has no Raises."""
    own_args, has_raises, raises = (doc or "").rstrip().partition("\n\n    Raises:")
    return f"{own_args.rstrip()}{COMMON_ARGUMENTS_DOC}\n\n    Raises:{raises if has_raises else RAISES_DOC}\n    "


def _check(arguments, defaults, choices):
    """Every argument through its rule (`argument_checks.CHECKS`, `choices`); None passes where it is the default."""
    checked = dict(arguments)
    for name, value in arguments.items():
        if value is None and defaults.get(name, inspect.Parameter.empty) is None:
            continue
        if name in choices:
            checked[name] = check.choice(name, value, choices[name])
        elif name in check.CHECKS:
            checked[name] = check.CHECKS[name](name, value)
    if "mixing" in checked:
        mixing_config(checked["mixing"], checked.get("seed"))
    return checked


def _setting(event_shape, common, image_context):
    """The `FlowSetting` of a call: its dtype checked, its context and conditioner resolved."""
    context, size = context_spec(
        num_classes=common.get("num_classes"), context_shape=common.get("context_shape"),
        image_context=image_context and len(event_shape) == 3,
    )
    conditioner = conditioners.resolve(common.get("conditioner"))  # checked against the event as networks are built
    dtype = check.float_dtype("dtype", common["dtype"])
    return FlowSetting(event_shape, dtype, context, size, image_context_shape(context), conditioner, common["name"])


def _public_signature(architecture, takes_context, takes_conditioner, builder, event_shape):
    """`(event_shape, <the architecture's arguments>, *, [num_classes, context_shape,] [conditioner,]
    base, dtype, name)`: the public signature of a builder."""
    own = list(inspect.signature(architecture, eval_str=True).parameters.values())[1:]

    def keyword(name, default):
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=COMMON_TYPES[name])

    common = [keyword(n, default=None) for n in (CONTEXT_ARGUMENTS if takes_context else ())]
    common += [keyword("conditioner", default=None)] if takes_conditioner else []
    common += [keyword("base", default=None), keyword("dtype", default=tf.float32), keyword("name", default=builder)]
    event = inspect.Parameter(
        "event_shape", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=event_shape, annotation=COMMON_TYPES["event_shape"]
    )
    return inspect.Signature([event, *own, *common], return_annotation=tfp.distributions.TransformedDistribution)


def flow_builder(
    builder: str,
    recorded_when_set: tuple = (),
    choices: dict | None = None,
    takes_context: bool = True,
    takes_conditioner: bool = True,
    image_context: bool = False,
    default_event_shape: tuple = inspect.Parameter.empty,
    kinds: tuple | None = None,
) -> Callable:
    """Turn `architecture(flow: FlowSetting, **own_arguments) -> Architecture` into builder `builder`.

    Args:
      builder: the registry name (`tfnf.flow_registry`), recorded on every flow.
      recorded_when_set: arguments recorded only when they differ from their default.
      choices: `{argument: allowed strings}` checked before anything is built.
      takes_context: the builder takes `num_classes=` / `context_shape=`.
      takes_conditioner: the builder takes `conditioner=`.
      image_context: image events may be conditioned on an image (`context_shape=(h, w, c)`).
      default_event_shape: the default event shape, if the builder has one.
      kinds: the events it models (`("vector",)`, `("image",)` or both); None: the registry's
        (`tfnf.flow_registry`, which `build_flow`, `FlowModel.from_config` and `tfnf train` read).
    """
    kinds, choices = tuple(kinds or flow_entry(builder).kinds), dict(choices or {})

    def decorate(architecture: Callable[..., Architecture]) -> Callable[..., tfp.distributions.TransformedDistribution]:
        signature = _public_signature(architecture, takes_context, takes_conditioner, builder, default_event_shape)
        defaults = {n: p.default for n, p in signature.parameters.items()}
        own = list(inspect.signature(architecture).parameters)[1:]

        @functools.wraps(architecture)
        def build(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            event_shape = check.event_shape_of_kinds(builder, bound.arguments["event_shape"], kinds)
            arguments = _check({n: bound.arguments[n] for n in own}, defaults, choices)
            flow = _setting(event_shape, bound.arguments, image_context and IMAGE in kinds)
            made = architecture(flow, **arguments)
            config = dict(event_shape=event_shape, **arguments, name=flow.name)
            config.update(made.resolved)
            for name in recorded_when_set:
                if name in config and (config[name] == defaults[name] or name in made.unused):
                    del config[name]
            config.update(flow.context or {})
            if flow.conditioner is not None:
                config["conditioner"] = conditioners.describe(flow.conditioner)
            distribution = make_flow(
                made.bijector, event_shape=event_shape, dtype=flow.dtype, builder=builder, config=config,
                preprocessing=made.preprocessing, name=flow.name, context=flow.context,
            )
            return with_base(distribution, bound.arguments["base"])

        build.__signature__ = signature
        build.__doc__ = _public_docstring(architecture.__doc__)
        # what `typing.get_type_hints` (and Sphinx) read: the public signature's types, not the architecture's
        build.__annotations__ = {n: p.annotation for n, p in signature.parameters.items()}
        build.__annotations__["return"] = signature.return_annotation
        return build

    return decorate
