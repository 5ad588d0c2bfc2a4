"""The map between a flow's working range and the data's own units."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import Logit

tfb = tfp.bijectors

PREPROCESSINGS = ("shift", "logit", "none")


def resolve_preprocessing(preprocessing, flow_preference, num_bins):
    """Pick the preprocessing: an explicit choice wins, else the builder's, else none."""
    if preprocessing in (None, "auto"):
        preprocessing = flow_preference or ("shift" if num_bins else "none")
    if preprocessing not in PREPROCESSINGS:
        raise ValueError(f"preprocessing must be 'auto' or one of {PREPROCESSINGS}, got {preprocessing!r}")
    return preprocessing


def data_bijector(preprocessing, num_bins, dtype, logit_alpha=0.05):
    """Bijector from the flow's working range (latent side) to data units.

    * `"shift"`: `x = scale * (w + 0.5)`: the flow sees data in `[-0.5, 0.5]`.
    * `"logit"`: `x = scale * (sigmoid(w) - alpha) / (1 - 2 alpha)`: the flow
      sees `logit` of data rescaled into `[alpha, 1 - alpha]`.
    * `"none"`: identity.

    `scale` is `num_bins` for discrete data (pixels in `[0, num_bins)`) and 1
    for continuous data. Its log-det is part of `log_prob`, so densities are
    in data units.
    """
    dtype = tf.as_dtype(dtype)
    scale = float(num_bins) if num_bins else 1.0
    if preprocessing == "none":
        return tfb.Identity(name="data_identity")
    if preprocessing == "shift":
        parts = [tfb.Shift(tf.constant(0.5, dtype))]
    else:
        parts = [Logit(logit_alpha)]
    if scale != 1.0:
        parts.insert(0, tfb.Scale(tf.constant(scale, dtype)))
    return tfb.Chain(parts, name=f"data_{preprocessing}")
