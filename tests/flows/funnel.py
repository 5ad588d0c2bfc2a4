"""Neal's funnel, the hard 2-D posterior of the inference tests, and a flow fitted to it by VI."""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf

tfd = tfp.distributions


def funnel_log_prob(z):
    """`log p(v, x)`, `z: [..., 2] = (v, x)`: `v ~ N(0, 3^2)`, `x | v ~ N(0, exp(v / 2)^2)`. Normalised."""
    v, x = z[..., 0], z[..., 1]
    return tfd.Normal(0.0, 3.0).log_prob(v) + tfd.Normal(0.0, tf.exp(v / 2.0)).log_prob(x)


def fit(surrogate, num_steps, variables=None, learning_rate=1e-2, seed=(1, 2)):
    """`tfp.vi.fit_surrogate_posterior` on the funnel with Adam; returns the loss trace.

    `variables=None` lets TFP train `surrogate.trainable_variables`, as users call it."""
    return tfp.vi.fit_surrogate_posterior(
        funnel_log_prob,
        surrogate,
        keras.optimizers.Adam(learning_rate),
        num_steps,
        sample_size=64,
        trainable_variables=variables,
        jit_compile=True,
        seed=seed,
    )


def elbo(surrogate, n=20_000, seed=(3, 4)):
    """`E_q[log p - log q]` on `n` fresh draws of `surrogate` (= -KL(q || p), the funnel being normalised)."""
    z, log_q = surrogate.experimental_sample_and_log_prob(n, seed=seed)
    return float(tf.reduce_mean(funnel_log_prob(z) - log_q))


def mean_field_normal():
    """A trainable diagonal normal over `(v, x)`, the usual VI baseline."""
    loc = tf.Variable(np.zeros(2, np.float32), name="loc")
    scale = tfp.util.TransformedVariable(np.ones(2, np.float32), tfp.bijectors.Softplus(), name="scale")
    return tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=1)


def fitted_iaf(num_steps, seed=0):
    """A small `tfnf.flows.iaf` fitted to the funnel by VI (IAF: sampling and its log-density in one pass)."""
    keras.utils.set_random_seed(seed)
    flow = tfnf.flows.iaf((2,), num_layers=4, hidden_units=(32, 32))
    fit(flow, num_steps)
    return flow
