"""How a bijector with a network (couplings, masked autoregressive layers) takes its network and context.

A conditional tfnf bijector takes its context the TFP way, as the keyword
`conditional_input` of every method: `flat_context` checks it and flattens it
to one row per example. `check_network_context` checks that a given network
reads the context width the bijector was built with; `build_network_once`
creates the network's weights when the bijector is made.
"""

import tensorflow as tf


def flat_context(conditional_input, context_size, batch_shape, dtype, owner):
    """`conditional_input: [*batch, k]` or `[k]` (shared by the batch) -> `[prod(batch), k]` in `dtype`.

    Args:
      conditional_input: what the bijector method received (None when not given).
      context_size: the bijector's context width `k`, or None for an unconditional bijector.
      batch_shape: the batch shape of the input being transformed (a 1-D int tensor).
      dtype: the bijector's float dtype.
      owner: how errors name the bijector, e.g. `"coupling0 is a conditional coupling"`'s
        `"coupling0"` plus its kind: `("coupling0", "coupling")`.

    Returns:
      None for an unconditional bijector, else the context `[prod(batch), k]`.

    Raises:
      ValueError: a context for an unconditional bijector, none for a conditional one,
        or one of the wrong width.
      TypeError: a context that does not hold real numbers.
    """
    name, kind = owner
    if context_size is None:
        if conditional_input is not None:
            raise ValueError(
                f"{name} is an unconditional {kind} but received conditional_input; "
                "build the flow with a context (num_classes= or context_shape=) to condition it"
            )
        return None
    if conditional_input is None:
        raise ValueError(
            f"{name} is a conditional {kind} (context_size={context_size}) but received no "
            "conditional_input; pass it as a keyword (tfnf.flows.condition(flow, context) builds the "
            "nested bijector_kwargs)"
        )
    context = tf.convert_to_tensor(conditional_input)
    if not (context.dtype.is_floating or context.dtype.is_integer):
        raise TypeError(f"conditional_input must hold real numbers, got dtype {context.dtype.name}")
    context = tf.cast(context, dtype)
    if context.shape.rank == 0 or (context.shape.rank is not None and context.shape[-1] not in (None, context_size)):
        raise ValueError(
            f"{name} expects conditional_input of shape [batch, {context_size}], "
            f"got {context.shape.as_list() if context.shape.rank is not None else 'unknown'}"
        )
    full_shape = tf.concat([batch_shape, [context_size]], axis=0)
    return tf.reshape(tf.broadcast_to(context, full_shape), [-1, context_size])


def build_network_once(network, input_shape, context_size, dtype):
    """Create `network`'s weights (outside any `tf.function`) by calling it on zeros
    `[1, *input_shape]` (and a zero context `[1, k]` when it reads one), unless it is built."""
    if network.built:
        return
    with tf.init_scope():
        x0 = tf.zeros([1, *input_shape], dtype)
        if context_size is None:
            network(x0)
        else:
            network(x0, context=tf.zeros([1, context_size], dtype))


def check_network_context(network, context_size, what):
    """The context width `network` reads (its `context_size` attribute, None if it has none);
    `ValueError` if `context_size` is set and differs from it (`what`: `"conditioner"` or `"network"`)."""
    reads = getattr(network, "context_size", None)
    if context_size is not None and reads != int(context_size):
        raise ValueError(f"context_size={context_size} but the given {what} reads context_size={reads}")
    return reads
