"""Base distributions of flows, and `with_base(flow, base)` to give any flow another one.

Every builder's default base is `N(0, I)`. A learned base adds parameters
that train with the flow (and appear in `flow.trainable_variables`):

* `"diagonal_gaussian"`: `N(mu, diag(sigma^2))` with a learned mean and
  log-scale per element (`diagonal_gaussian`); a Gaussian, so sampling at a
  temperature works as for `N(0, I)`.
* `"gaussian_mixture"` (`{"kind": "gaussian_mixture", "num_components": m}`,
  default `m = 4`): a mixture of `m` diagonal Gaussians with learned weights,
  means and log-scales (`gaussian_mixture`); not a Gaussian, so it is sampled
  at temperature 1 only.
* `"class_conditional_gaussian"`: for flows with `num_classes=K`, a learned
  mean and log-scale per class, `N(mu_c, diag(sigma_c^2))`. It is written as
  `N(0, I)` followed by the elementwise affine map `z -> mu_c + sigma_c * z`
  at the latent end of the bijector (`ClassConditionalGaussian`), which is the
  same density; the class reaches it as every conditional bijector's context
  does (`tfnf.flows.condition`), and a temperature scales the standardised
  noise, `mu_c + T * sigma_c * eps`. `encode` returns that standardised `eps`.

Every builder takes `base=` (`tfnf.flows.flow_builder` applies it); for a
flow of your own use `with_base(flow, base)`.
The base is recorded in the flow's description, so `FlowModel` saves and
rebuilds it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.annotations import DTypeLike, Shape
from tfnf.bijectors.class_conditional_gaussian import ClassConditionalGaussian
from tfnf.bijectors.flow_bijector import check_event_shape
from tfnf.flows.condition import flow_context
from tfnf.flows.flow_distribution import flow_config

tfb = tfp.bijectors
tfd = tfp.distributions

BASES = ("standard_normal", "diagonal_gaussian", "gaussian_mixture", "class_conditional_gaussian")
DEFAULT_NUM_COMPONENTS = 4


def diagonal_gaussian(event_shape: Shape, dtype: DTypeLike = tf.float32, name: str = "diagonal_gaussian") -> tfd.Independent:
    """`N(mu, diag(exp(2 log_sigma)))` over `event_shape` with a learned `mu` and `log_sigma`
    (plain `tf.Variable`s; starts as `N(0, I)`). Batch shape `[]`."""
    event_shape = check_event_shape("event_shape", event_shape)
    dtype = tf.as_dtype(dtype)
    loc = tf.Variable(tf.zeros(event_shape, dtype), name=f"{name}_loc")
    scale = tfp.util.TransformedVariable(tf.ones(event_shape, dtype), tfb.Exp(), name=f"{name}_scale")
    return tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=len(event_shape), name=name)


def gaussian_mixture(
    event_shape: Shape, num_components: int = DEFAULT_NUM_COMPONENTS, dtype: DTypeLike = tf.float32, seed: int = 0,
    name: str = "gaussian_mixture",
) -> tfd.MixtureSameFamily:
    """A mixture of `num_components` diagonal Gaussians over `event_shape` with learned
    logits, means and log-scales (plain `tf.Variable`s). Batch shape `[]`.

    It starts with equal weights, unit scales and means drawn from
    `N(0, 0.5^2)` (seeded by `seed`), so the components differ from the start.
    """
    event_shape = check_event_shape("event_shape", event_shape)
    if isinstance(num_components, bool) or not isinstance(num_components, (int, np.integer)) or num_components < 1:
        raise ValueError(f"num_components must be a positive integer, got {num_components!r}")
    dtype = tf.as_dtype(dtype)
    m = int(num_components)
    means = 0.5 * np.random.default_rng(seed).standard_normal((m, *event_shape))
    logits = tf.Variable(tf.zeros([m], dtype), name=f"{name}_logits")
    loc = tf.Variable(tf.constant(means, dtype), name=f"{name}_loc")
    scale = tfp.util.TransformedVariable(tf.ones([m, *event_shape], dtype), tfb.Exp(), name=f"{name}_scale")
    components = tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=len(event_shape))
    return tfd.MixtureSameFamily(tfd.Categorical(logits=logits), components, name=name)


def base_spec(base: str | dict | None) -> dict | None:
    """`base` as recorded in a flow's description: None (the standard normal), or a dict
    `{"kind": ..., **options}` (see the module docstring).

    Raises `ValueError` / `TypeError` naming an unknown kind or option."""
    if base is None:
        return None
    if isinstance(base, str):
        spec = {"kind": base}
    elif isinstance(base, dict):
        spec = dict(base)
        if "kind" not in spec:
            raise ValueError(f'base given as a dict needs a "kind" (one of {BASES}), got {base!r}')
    else:
        raise TypeError(f"base must be one of {BASES} or a dict with a 'kind', got {base!r}")
    kind = spec["kind"]
    if kind not in BASES:
        raise ValueError(f"base must be one of {BASES}, got {kind!r}")
    options = {"gaussian_mixture": ("num_components", "seed")}.get(kind, ())
    unknown = sorted(set(spec) - {"kind", *options})
    if unknown:
        raise ValueError(f"base {kind!r} takes the options {list(options)}, got {unknown}")
    if kind == "standard_normal":
        return None
    if kind == "gaussian_mixture":
        m = spec.setdefault("num_components", DEFAULT_NUM_COMPONENTS)
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"base gaussian_mixture needs num_components a positive integer, got {m!r}")
        spec["num_components"] = int(m)
        spec["seed"] = int(spec.get("seed", 0))
    return spec


def with_base(flow: tfd.TransformedDistribution, base: str | dict | None) -> tfd.TransformedDistribution:
    """`flow` (any tfnf flow, or a `tfd.TransformedDistribution`) over another base.

    Args:
      flow: the flow; its bijector is shared, not copied (train either).
      base: `"standard_normal"`/None (returns `flow` itself), `"diagonal_gaussian"`,
        `"gaussian_mixture"` (or `{"kind": "gaussian_mixture", "num_components": m}`),
        or `"class_conditional_gaussian"` for a flow built with `num_classes=K`.

    Returns:
      A new `tfd.TransformedDistribution` with the new base; a tfnf flow's
      description records it (so `FlowModel` saves and rebuilds the base).

    Raises:
      ValueError: an unknown base, a flow whose base was already chosen, or a
        class-conditional base for a flow without `num_classes`.
    """
    spec = base_spec(base)
    if spec is None:
        return flow
    if not (isinstance(flow, tfd.Distribution) and hasattr(flow, "bijector") and hasattr(flow, "distribution")):
        raise TypeError(f"flow must be a tfd.TransformedDistribution (e.g. tfnf.flows.glow(...)), got {type(flow).__name__}")
    description = flow_config(flow)
    if description is not None and description["config"].get("base") is not None:
        raise ValueError(
            f"this flow already has the base {description['config']['base']!r}; build it anew to choose another"
        )
    if not flow.event_shape.is_fully_defined():
        raise ValueError(f"with_base needs a flow with a fully defined event shape, got {flow.event_shape}")
    event_shape, dtype = tuple(int(d) for d in flow.event_shape), tf.as_dtype(flow.dtype)
    bijector, distribution = flow.bijector, flow.distribution
    kind = spec["kind"]
    if kind == "diagonal_gaussian":
        distribution = diagonal_gaussian(event_shape, dtype, name=f"{flow.name}_diagonal_gaussian")
    elif kind == "gaussian_mixture":
        distribution = gaussian_mixture(
            event_shape, spec["num_components"], dtype, seed=spec["seed"], name=f"{flow.name}_gaussian_mixture"
        )
    else:  # class_conditional_gaussian
        context = flow_context(flow) if description is not None else None
        if not context or "num_classes" not in context:
            raise ValueError(
                "base 'class_conditional_gaussian' needs a class-conditional flow: build it with num_classes=K "
                f"(this flow's context: {context})"
            )
        table = ClassConditionalGaussian(event_shape, context["num_classes"], dtype=dtype)
        bijector = tfb.Chain([flow.bijector, table], name=f"{flow.bijector.name}_with_base")
    swapped = tfd.TransformedDistribution(distribution, bijector, name=flow.name)
    if description is not None:
        description = dict(description, config=dict(description["config"], base=spec))
        swapped.__dict__["tfnf_config"] = description
    return swapped
