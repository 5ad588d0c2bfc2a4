"""Turning a bijector into a flow: a `tfd.TransformedDistribution` over N(0, I)."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.annotations import DTypeLike, Shape
from tfnf.nets.conditioners import UnserializableConditioner

tfb = tfp.bijectors
tfd = tfp.distributions


def standard_normal(event_shape: Shape, dtype: DTypeLike = tf.float32) -> tfd.Sample:
    """`N(0, I)` with event shape `event_shape` (batch shape `[]`)."""
    dtype = tf.as_dtype(dtype)
    return tfd.Sample(
        tfd.Normal(tf.zeros([], dtype), tf.ones([], dtype)), sample_shape=tuple(event_shape), name="standard_normal"
    )


def make_flow(
    bijector: tfb.Bijector,
    event_shape: Shape,
    dtype: DTypeLike = tf.float32,
    builder: str | None = None,
    config: dict | None = None,
    preprocessing: str | None = None,
    name: str | None = None,
    context: dict | None = None,
) -> tfd.TransformedDistribution:
    """Wrap `bijector` (latent -> data) as a flow over a standard normal base.

    The builder's name and arguments (`config`) and the data preprocessing it
    prefers (`"shift"`: data in `[-0.5, 0.5]`, `"logit"`: data in `[0, 1]`
    through a logit, None: continuous data as is) are attached as
    `flow.tfnf_config`, so `tfnf.FlowModel` can rebuild and serialise the flow.
    A conditional flow also records what its context is (`context`:
    `{"num_classes": K}` for integer class labels, `{"context_shape": [k]}`
    for vectors; see `tfnf.flows.condition`). Builders call it through
    `tfnf.flows.flow_builder`, with keyword arguments.
    """
    flow = tfd.TransformedDistribution(standard_normal(event_shape, dtype), bijector, name=name or builder)
    flow.__dict__["tfnf_config"] = {
        "builder": builder,
        "config": dict(config or {}),
        "event_shape": tuple(int(d) for d in event_shape),
        "dtype": tf.as_dtype(dtype).name,
        "preprocessing": preprocessing,
    }
    if context is not None:
        flow.__dict__["tfnf_config"]["context"] = dict(context)
    return flow


def flow_config(flow: tfd.Distribution) -> dict | None:
    """The builder description attached by `make_flow`, or None for foreign flows."""
    return flow.__dict__.get("tfnf_config")


def check_serializable(description: dict | None) -> dict | None:
    """Raise `TypeError` if a flow's recorded description (`flow_config(flow)`) holds
    something that cannot be serialised (a custom conditioner callable), naming it;
    return the description otherwise. Such a flow trains and checkpoints as any
    other; only its builder configuration cannot be written out."""
    for value in tf.nest.flatten(description):
        if isinstance(value, UnserializableConditioner):
            raise TypeError(value.message())
    return description
