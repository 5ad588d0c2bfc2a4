"""Conditioner factories: named, serialisable recipes for the networks of a flow's couplings.

A flow builder builds one conditioner per coupling; what network that is is
the builder's `conditioner=` argument, one of

* None: the builder's default network (`"mlp"` for vectors, `"conv"` for images);
* a name, `"mlp"`, `"residual_mlp"` (vectors) or `"conv"`, `"gated_resnet"` (images),
  with the builder's widths (`hidden_units` / `hidden_channels`) and `dropout`;
* a `ConditionerFactory` from `mlp(...)`, `residual_mlp(...)`, `conv(...)`,
  `gated_resnet(...)`, whose own arguments override the builder's (None: the
  builder's value), or its `get_config()` dict;

The autoregressive builders (`maf`, `iaf`) take the same argument with the
autoregressive networks: `"made"` (`MADE`, the default) or `"residual_made"`
(`ResidualMADE`), `made(...)` / `residual_made(...)`, or a callable of the
protocol below whose layer maps `[batch, D]` to `[batch, D, num_params]` with
output `i` depending only on inputs `< i` (not checked: a network that peeks
gives a wrong density);

* any callable `f(transformed_shape, num_params, context_size=, dtype=, name=)`
  returning a Keras layer that maps the conditioning part `[batch, *cond_shape]`
  (and a context `[batch, k]` as `context=` when `context_size` is set) to
  `[batch, *transformed_shape, num_params]`; its `context_size` attribute says
  which context it reads. Such a flow trains and checkpoints as any other, but
  its builder configuration cannot be serialised (`check_serializable`).

Every network here zero-initialises its output layer, so a new coupling is
the identity. `build_network` builds any of these for one coupling or
autoregressive layer; it is the one place a default (`DEFAULTS`) is chosen,
for the builders and for a bijector built without a network alike. A wrong
kind of value is a `TypeError`, a value out of range a `ValueError`, as for
the builders' own arguments.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfnf.nets.conv_conditioner import ConvConditioner
from tfnf.nets.dense_conditioner import DenseConditioner
from tfnf.nets.gated_conv_conditioner import GatedConvConditioner
from tfnf.nets.made import MADE
from tfnf.nets.precision import network_dtype_policy
from tfnf.nets.residual_dense_conditioner import ResidualDenseConditioner
from tfnf.nets.residual_made import ResidualMADE

VECTOR, IMAGE, AUTOREGRESSIVE = "vector", "image", "autoregressive"

# name -> (event kind, {option: default}); a None option takes the builder's value.
KINDS = {
    "mlp": (VECTOR, {"hidden_units": None, "activation": "relu", "dropout": None}),
    "residual_mlp": (VECTOR, {"hidden_size": None, "num_blocks": 2, "activation": "relu", "dropout": None}),
    "conv": (IMAGE, {"hidden_channels": None, "dropout": None}),
    "gated_resnet": (IMAGE, {"hidden_channels": None, "num_blocks": 2, "dropout": None}),
    "made": (AUTOREGRESSIVE, {"hidden_units": None, "activation": "relu", "dropout": None}),
    "residual_made": (AUTOREGRESSIVE, {"hidden_size": None, "num_blocks": 2, "activation": "relu", "dropout": None}),
}
DEFAULTS = {VECTOR: "mlp", IMAGE: "conv", AUTOREGRESSIVE: "made"}


def _count(owner, name, value, minimum):
    """None, or `value` if it is an integer `>= minimum`: `TypeError` for another kind of
    value, `ValueError` for an integer out of range (as the builders' argument checks)."""
    if value is None:
        return None
    expected = f"an integer >= {minimum} or None"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {name} must be {expected}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return value


def _rate(owner, value):
    if value is None:
        return None
    expected = "a number in [0, 1) or None"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: dropout must be {expected}, got {value!r} ({type(value).__name__})")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: dropout must be {expected}, got {value!r}")
    return float(value)


class ConditionerFactory:
    """A named recipe for conditioners (`name` a key of `KINDS`, `options` its arguments).

    Its configuration `{"name": ..., **options}` is plain JSON, so a flow
    built with it can be serialised and rebuilt (`from_config`).
    """

    def __init__(self, name: str, **options) -> None:
        if not isinstance(name, str):
            raise TypeError(f"conditioner must be one of {sorted(KINDS)}, got {name!r} ({type(name).__name__})")
        if name not in KINDS:
            raise ValueError(f"conditioner must be one of {sorted(KINDS)}, got {name!r}")
        kind, defaults = KINDS[name]
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise TypeError(f"conditioner {name!r} takes the options {sorted(defaults)}, got unknown {unknown}")
        self.name = name
        self.event_kind = kind
        self.options = {**defaults, **options}
        owner = f"conditioner {name!r}"
        if "hidden_units" in self.options and self.options["hidden_units"] is not None:
            units = self.options["hidden_units"]
            if isinstance(units, (str, bytes)) or not isinstance(units, (list, tuple)):
                raise TypeError(f"{owner}: hidden_units must be a sequence of positive integers or None, got {units!r}")
            self.options["hidden_units"] = [_count(owner, "hidden_units", u, 1) for u in units]
        for option in ("hidden_size", "hidden_channels"):
            if option in self.options:
                self.options[option] = _count(owner, option, self.options[option], 1)
        if "num_blocks" in self.options:
            self.options["num_blocks"] = _count(owner, "num_blocks", self.options["num_blocks"], 0)
        self.options["dropout"] = _rate(owner, self.options["dropout"])

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"conditioners.{self.name}({arguments})"

    def __eq__(self, other):
        return isinstance(other, ConditionerFactory) and self.get_config() == other.get_config()

    def get_config(self):
        """`{"name": ..., **options}`: JSON-serialisable, read back by `from_config`."""
        return {"name": self.name, **self.options}

    @classmethod
    def from_config(cls, config):
        """The factory a `get_config()` dict describes."""
        config = dict(config)
        return cls(config.pop("name", None), **config)

    def check_event(self, event_shape, autoregressive=False):
        """Raise `ValueError` unless this conditioner suits couplings over `event_shape`
        (or, with `autoregressive=True`, the autoregressive layers of `maf` / `iaf`)."""
        kind = AUTOREGRESSIVE if autoregressive else IMAGE if len(event_shape) == 3 else VECTOR
        if kind != self.event_kind:
            suited = sorted(n for n, (k, _) in KINDS.items() if k == kind)
            what = "autoregressive layers (maf, iaf)" if autoregressive else (
                f"event_shape={tuple(event_shape)}, {'an' if kind == IMAGE else 'a'} {kind}"
            )
            usage = "autoregressive layers (maf, iaf)" if self.event_kind == AUTOREGRESSIVE else f"{self.event_kind} couplings"
            raise ValueError(f"conditioner {self.name!r} is for {usage}, but it was given for {what}; use one of {suited}")

    def _residual_width(self, hidden_units):
        """A residual network's `hidden_size`, or (None) the largest of the builder's `hidden_units`."""
        size = self.options["hidden_size"]
        if size is not None:
            return size
        if not hidden_units:
            raise ValueError(
                f"conditioner {self.name!r} takes its width from hidden_units, which is empty; "
                f"give {self.name}(hidden_size=...) or non-empty hidden_units"
            )
        return max(hidden_units)

    def build(
        self,
        transformed_shape,
        num_params,
        context_size=None,
        dtype="float32",
        name=None,
        hidden_units=(64, 64),
        hidden_channels=128,
        dropout=0.0,
        fourier_frequencies=(),
    ):
        """The conditioner of one coupling whose transformed part is `transformed_shape`
        (`(d_trans,)` or `(H, W, C_trans)`); options left None take the builder's
        `hidden_units`, `hidden_channels`, `dropout` given here."""

        def option(key, builder_value):
            value = self.options.get(key)
            return builder_value if value is None else value

        self.check_event(transformed_shape, autoregressive=self.event_kind == AUTOREGRESSIVE)
        dropout = option("dropout", dropout)
        common = dict(dropout=dropout, context_size=context_size, dtype=dtype, name=name)
        if self.name == "made":
            units = option("hidden_units", hidden_units)
            return MADE(
                transformed_shape[0], num_params, hidden_units=tuple(units), activation=self.options["activation"], **common
            )
        if self.name == "residual_made":
            return ResidualMADE(
                transformed_shape[0],
                num_params,
                hidden_size=self._residual_width(hidden_units),
                num_blocks=self.options["num_blocks"],
                activation=self.options["activation"],
                **common,
            )
        if self.name == "mlp":
            units = option("hidden_units", hidden_units)
            return DenseConditioner(
                transformed_shape,
                num_params,
                hidden_units=tuple(units),
                activation=self.options["activation"],
                fourier_frequencies=fourier_frequencies,
                **common,
            )
        if self.name == "residual_mlp":
            return ResidualDenseConditioner(
                transformed_shape,
                num_params,
                hidden_size=self._residual_width(hidden_units),
                num_blocks=self.options["num_blocks"],
                activation=self.options["activation"],
                fourier_frequencies=fourier_frequencies,
                **common,
            )
        channels = option("hidden_channels", hidden_channels)
        if self.name == "conv":
            return ConvConditioner(transformed_shape[-1], num_params, hidden_channels=channels, **common)
        if channels is None:
            raise ValueError("conditioner 'gated_resnet' needs hidden_channels, got None")
        return GatedConvConditioner(
            transformed_shape[-1], num_params, hidden_channels=channels, num_blocks=self.options["num_blocks"], **common
        )

    def __call__(self, transformed_shape, num_params, context_size=None, dtype="float32", name=None):
        """The factory protocol: a conditioner with this factory's options and the library's default widths."""
        return self.build(transformed_shape, num_params, context_size=context_size, dtype=dtype, name=name)


def mlp(hidden_units=None, activation="relu", dropout=None):
    """The MLP conditioner (`DenseConditioner`) for vector couplings; None: the builder's value."""
    return ConditionerFactory("mlp", hidden_units=hidden_units, activation=activation, dropout=dropout)


def residual_mlp(hidden_size=None, num_blocks=2, activation="relu", dropout=None):
    """A residual MLP (`ResidualDenseConditioner`) for vector couplings: `num_blocks` blocks of two
    dense layers with a skip connection, `hidden_size` wide (None: the largest of the builder's `hidden_units`)."""
    return ConditionerFactory(
        "residual_mlp", hidden_size=hidden_size, num_blocks=num_blocks, activation=activation, dropout=dropout
    )


def conv(hidden_channels=None, dropout=None):
    """Glow's conv conditioner (`ConvConditioner`) for image couplings; None: the builder's value."""
    return ConditionerFactory("conv", hidden_channels=hidden_channels, dropout=dropout)


def gated_resnet(hidden_channels=None, num_blocks=2, dropout=None):
    """A gated residual conv net (`GatedConvConditioner`, Flow++ style) for image couplings;
    None: the builder's `hidden_channels` / `dropout`."""
    return ConditionerFactory("gated_resnet", hidden_channels=hidden_channels, num_blocks=num_blocks, dropout=dropout)


def made(hidden_units=None, activation="relu", dropout=None):
    """The MADE (`MADE`) of `maf` / `iaf` layers; None: the builder's `hidden_units` / `dropout`."""
    return ConditionerFactory("made", hidden_units=hidden_units, activation=activation, dropout=dropout)


def residual_made(hidden_size=None, num_blocks=2, activation="relu", dropout=None):
    """A masked residual network (`ResidualMADE`) for `maf` / `iaf` layers: `num_blocks` residual
    blocks `hidden_size` wide (None: the largest of the builder's `hidden_units`)."""
    return ConditionerFactory(
        "residual_made", hidden_size=hidden_size, num_blocks=num_blocks, activation=activation, dropout=dropout
    )


class UnserializableConditioner:
    """Stands in a flow's recorded configuration for a custom conditioner callable:
    `get_config` (called by Keras when it saves a model holding the configuration)
    raises a `TypeError` naming it."""

    def __init__(self, factory):
        self.factory = factory

    def message(self):
        return (
            f"conditioner={self.factory!r} is a custom callable and cannot be serialised; build the flow with "
            f"a named conditioner ({sorted(KINDS)} or tfnf.nets.conditioners.<name>(...)) to save its "
            "configuration, or keep this flow's weights with save_weights / tf.train.Checkpoint"
        )

    def __repr__(self):
        return f"UnserializableConditioner({self.factory!r})"

    def get_config(self):
        raise TypeError(self.message())


def resolve(conditioner):
    """The builder argument `conditioner` as None (the default network), a `ConditionerFactory`
    or a custom callable; raises `TypeError` / `ValueError` naming what was given."""
    if conditioner is None or isinstance(conditioner, ConditionerFactory):
        return conditioner
    if isinstance(conditioner, str):
        return ConditionerFactory(conditioner)
    if isinstance(conditioner, dict):
        return ConditionerFactory.from_config(conditioner)
    if isinstance(conditioner, UnserializableConditioner):
        return conditioner.factory
    if callable(conditioner):
        return conditioner
    raise TypeError(
        f"conditioner must be None, one of {sorted(KINDS)}, a tfnf.nets.conditioners factory, its config dict "
        f"or a callable returning a Keras layer, got {conditioner!r} ({type(conditioner).__name__})"
    )


def describe(conditioner):
    """What a flow's configuration records for a resolved `conditioner`: None, the factory's
    config dict, or an `UnserializableConditioner` for a custom callable."""
    if conditioner is None:
        return None
    if isinstance(conditioner, ConditionerFactory):
        return conditioner.get_config()
    return UnserializableConditioner(conditioner)


def build_network(
    conditioner, event_shape, input_shape, num_params, context_size=None, dtype=tf.float32, name=None,
    autoregressive=False, **builder_options
):
    """The network of one coupling or autoregressive layer: the one place a default is chosen.

    Args:
      conditioner: resolved (`resolve`): None (the default of the event's kind,
        `DEFAULTS`), a `ConditionerFactory` (checked against `event_shape`) or a
        custom callable (checked to return a Keras layer).
      event_shape: the flow's event, `(D,)` or `(H, W, C)`.
      input_shape: what the network transforms: a coupling's transformed part
        `(d_trans,)` / `(H, W, C_trans)`, or `(D,)` for an autoregressive layer.
      num_params: transformer parameters per transformed element.
      context_size: None, or the width `k` of the context `[batch, k]` it also reads.
      dtype: the flow's float dtype (the network's policy follows Keras' global
        mixed policy, `network_dtype_policy`).
      name: the layer's name (None: Keras names it).
      autoregressive: a network of `maf` / `iaf` layers rather than of couplings.
      **builder_options: the builder's `hidden_units`, `hidden_channels`,
        `dropout`, `fourier_frequencies`, for options a factory leaves None.

    Returns:
      A Keras layer `[batch, *cond_shape] -> [batch, *input_shape, num_params]`.
    """
    policy = network_dtype_policy(tf.as_dtype(dtype))  # the global mixed policy, if one is set
    event_shape, input_shape = tuple(event_shape), tuple(input_shape)
    if conditioner is None:
        kind = AUTOREGRESSIVE if autoregressive else IMAGE if len(event_shape) == 3 else VECTOR
        conditioner = ConditionerFactory(DEFAULTS[kind])
    if isinstance(conditioner, ConditionerFactory):
        conditioner.check_event(event_shape, autoregressive=autoregressive)
        return conditioner.build(
            input_shape, num_params, context_size=context_size, dtype=policy, name=name, **builder_options
        )
    layer = conditioner(input_shape, num_params, context_size=context_size, dtype=policy, name=name)
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"conditioner={conditioner!r} must return a Keras layer, got {type(layer).__name__}")
    return layer
