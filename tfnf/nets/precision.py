"""Which dtype policy a flow's networks compute in under Keras mixed precision.

A flow's log-determinants and base density must be accurate to far below a
bit per dimension, so they stay in the flow's own dtype. Its networks (the
coupling conditioners) are where the arithmetic is, and under
`keras.mixed_precision.set_global_policy("mixed_bfloat16")` (CPUs with bf16,
TPUs) or `"mixed_float16"` (GPUs) they compute in 16 bits with float32
variables; their outputs are cast back to float32 before any log-det is formed.
"""

import keras
import tensorflow as tf

MIXED_POLICIES = ("mixed_bfloat16", "mixed_float16")


def network_dtype_policy(dtype):
    """The dtype policy (a name) for a network inside a flow of floating `dtype`.

    The global Keras policy when it is a mixed one and `dtype` is float32,
    otherwise `dtype` itself. A global policy that would compute the whole flow
    in 16 bits (`"bfloat16"`, `"float16"`), or a mixed policy with a float64
    flow, is a `ValueError`: it cannot be honoured without corrupting the density.
    """
    dtype = tf.as_dtype(dtype)
    policy = keras.config.dtype_policy().name
    if policy in MIXED_POLICIES:
        if dtype != tf.float32:
            raise ValueError(
                f"the Keras dtype policy is {policy!r}, which needs a float32 flow (its log-dets stay float32); "
                f"got a {dtype.name} flow: build it with dtype=tf.float32 or set the policy to 'float64'/'float32'"
            )
        return policy
    if policy not in ("float32", "float64"):
        raise ValueError(
            f"the Keras dtype policy is {policy!r}: a flow cannot compute its log-determinants in 16 bits; "
            f"use one of {MIXED_POLICIES} (networks in 16 bits, densities in float32)"
        )
    return dtype.name
