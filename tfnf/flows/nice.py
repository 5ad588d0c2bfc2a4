"""`nice`: NICE (Dinh et al., 2015), additive couplings and a diagonal scaling."""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import AdditiveCoupling, DiagonalScale, conditioners
from tfnf.bijectors.transformers import AdditiveTransformer
from tfnf.flows import argument_checks as check
from tfnf.flows.bases import with_base
from tfnf.flows.condition import context_spec
from tfnf.flows.flow_distribution import make_flow
from tfnf.flows.vector_mixing import mixed_couplings, mixing_config

tfb = tfp.bijectors


def nice(
    event_shape,
    num_couplings=4,
    hidden_units=(256, 256),
    mask="alternate",
    dropout=0.0,
    num_classes=None,
    context_shape=None,
    base=None,
    dtype=tf.float32,
    name="nice",
    conditioner=None,
    mixing=None,
    seed=None,
):
    """NICE; returns a `tfd.TransformedDistribution` over N(0, I).

    Data -> latent: `num_couplings` additive couplings with alternating masks
    and MLP conditioners, then a learned diagonal scaling (the only part that
    changes volume). Vectors `x: [batch, D]`; image events `(H, W, C)` are
    flattened to `D = H*W*C` inside the flow, as in the paper. Continuous data
    as is; `tfnf.FlowModel` shifts pixel data to `[-0.5, 0.5]`.

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      num_couplings: number of additive couplings.
      hidden_units: MLP widths of the conditioners.
      mask: `"alternate"` (odd/even, as the paper) or `"half"`.
      dropout: dropout rate in the conditioners (training only).
      num_classes: a class-conditional flow over `K` classes: every
        conditioner also reads the one-hot label `[batch, K]`.
      context_shape: `(k,)`: a flow conditioned on a vector `[batch, k]` read
        by every conditioner. At most one of `num_classes`, `context_shape`;
        condition with `tfnf.flows.condition(flow, context)`.
      base: the base distribution (see `tfnf.flows.bases`): None or
        `"standard_normal"` (default), `"diagonal_gaussian"`,
        `"gaussian_mixture"` (or `{"kind": "gaussian_mixture",
        "num_components": m}`), `"class_conditional_gaussian"` (with
        `num_classes`).
      dtype: float32 (default) or float64.
      name: distribution name.
      conditioner: the coupling networks, as `realnvp`: None (MLPs of
        `hidden_units`), `"mlp"`, `"residual_mlp"`, a factory from
        `tfnf.bijectors.conditioners` or its config dict, or a callable.
      mixing: None (couplings alternate parts), `"lu"` (a learned
        `LULinear` between couplings) or `"reverse"` (`tfnf.flows.vector_mixing`);
        an `"lu"` mixing changes volume, so the flow is no longer volume
        preserving before the diagonal scaling.
      seed: seed of the `"lu"` mixings' initialisation.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it).
    """
    event_shape = check.event_shape_tuple("event_shape", event_shape)
    num_couplings = check.positive_int("num_couplings", num_couplings)
    hidden_units = check.hidden_units_tuple("hidden_units", hidden_units)
    dropout = check.probability("dropout", dropout)
    dtype = check.float_dtype("dtype", dtype)
    seed = check.optional_seed("seed", seed)
    context, context_size = context_spec(num_classes=num_classes, context_shape=context_shape)
    conditioner = conditioners.resolve(conditioner)
    mixing_options = mixing_config(mixing, seed)
    config = dict(
        event_shape=event_shape,
        num_couplings=num_couplings,
        hidden_units=hidden_units,
        mask=mask,
        dropout=dropout,
        name=name,
    )
    if context is not None:
        config.update(context)
    if conditioner is not None:  # recorded only when set: configurations saved before it rebuild as they were
        config["conditioner"] = conditioners.describe(conditioner)
    config.update(mixing_options)
    size = math.prod(event_shape)
    vector_shape = (size,)

    def coupling(k, parity):
        network = conditioners.make_conditioner(
            conditioner, vector_shape, mask, parity, AdditiveTransformer.num_params, context_size, dtype,
            f"coupling{k}_conditioner", hidden_units=hidden_units, dropout=dropout,
        )
        return AdditiveCoupling(
            vector_shape,
            mask=mask,
            parity=parity,
            conditioner=network,
            hidden_units=hidden_units,
            dropout=dropout,
            context_size=context_size,
            dtype=dtype,
            name=f"coupling{k}",
        )

    parts = mixed_couplings(coupling, num_couplings, vector_shape, mixing, seed, dtype)
    parts.append(DiagonalScale(vector_shape, dtype=dtype, name="scale"))
    if len(event_shape) > 1:
        parts.insert(0, tfb.Reshape(event_shape_out=event_shape, event_shape_in=vector_shape))
        parts.append(tfb.Reshape(event_shape_out=vector_shape, event_shape_in=event_shape))
    bijector = tfb.Chain(parts, name="nice")
    preprocessing = "shift" if len(event_shape) == 3 else None
    flow = make_flow(bijector, event_shape, dtype, "nice", config, preprocessing, name, context=context)
    return with_base(flow, base)
