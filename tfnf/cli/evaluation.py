"""Test-set NLL and bits/dim, computed the same way for a live model and a SavedModel."""

import numpy as np

from tfnf.cli.data_sources import dequantized_batches
from tfnf.rules.bits_per_dim import nats_to_bits_per_dim

EVALUATION_SEED = 1234
EVALUATION_REPEATS = 4


def evaluate_log_prob(log_prob_fn, x, num_bins, num_dims, repeats=EVALUATION_REPEATS, seed=EVALUATION_SEED):
    """Mean NLL (nats per example) and bits/dim of `x` under `log_prob_fn`.

    `log_prob_fn` maps a float32 batch `[B, *event_shape]` to `[B]` log-densities.
    Discrete data are dequantised with seeded uniform noise, `repeats` times;
    the result is the average, so a live model and its export agree exactly.
    """
    total, count = 0.0, 0
    for r in range(repeats if num_bins else 1):
        for batch in dequantized_batches(x, num_bins, seed + r):
            values = np.asarray(log_prob_fn(batch), dtype=np.float64)
            if not np.all(np.isfinite(values)):
                raise ValueError("the model gave a non-finite log-density on the evaluation data")
            total += values.sum()
            count += len(values)
    nll = -total / count
    return {"nll": nll, "bits_per_dim": nats_to_bits_per_dim(nll, num_dims), "examples": count // max(1, repeats if num_bins else 1)}
