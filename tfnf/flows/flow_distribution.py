"""Turning a bijector into a flow: a `tfd.TransformedDistribution` over N(0, I)."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors.conditioners import UnserializableConditioner

tfb = tfp.bijectors
tfd = tfp.distributions


def standard_normal(event_shape, dtype=tf.float32):
    """`N(0, I)` with event shape `event_shape` (batch shape `[]`)."""
    dtype = tf.as_dtype(dtype)
    return tfd.Sample(
        tfd.Normal(tf.zeros([], dtype), tf.ones([], dtype)), sample_shape=tuple(event_shape), name="standard_normal"
    )


def make_flow(bijector, event_shape, dtype, builder, config, preprocessing, name, context=None):
    """Wrap `bijector` (latent -> data) as a flow over a standard normal base.

    The builder's name and arguments (`config`) and the data preprocessing it
    prefers (`"shift"`: data in `[-0.5, 0.5]`, `"logit"`: data in `[0, 1]`
    through a logit, None: continuous data as is) are attached as
    `flow.tfnf_config`, so `tfnf.FlowModel` can rebuild and serialise the flow.
    A conditional flow also records what its context is (`context`:
    `{"num_classes": K}` for integer class labels, `{"context_shape": [k]}`
    for vectors; see `tfnf.flows.condition`).
    """
    flow = tfd.TransformedDistribution(standard_normal(event_shape, dtype), bijector, name=name)
    flow.__dict__["tfnf_config"] = {
        "builder": builder,
        "config": dict(config),
        "event_shape": tuple(int(d) for d in event_shape),
        "dtype": tf.as_dtype(dtype).name,
        "preprocessing": preprocessing,
    }
    if context is not None:
        flow.__dict__["tfnf_config"]["context"] = dict(context)
    return flow


def flow_config(flow):
    """The builder description attached by `make_flow`, or None for foreign flows."""
    return flow.__dict__.get("tfnf_config")


def check_serializable(description):
    """Raise `TypeError` if a flow's recorded description (`flow_config(flow)`) holds
    something that cannot be serialised (a custom conditioner callable), naming it;
    return the description otherwise. Such a flow trains and checkpoints as any
    other; only its builder configuration cannot be written out."""
    for value in tf.nest.flatten(description):
        if isinstance(value, UnserializableConditioner):
            raise TypeError(value.message())
    return description
