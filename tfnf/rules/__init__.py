"""Rules that several layers enforce, each written once (no TensorFlow import here, so the
command line can use them before TensorFlow loads).

- `integers`: counts, seeds and versions.
- `numbers`: positive amounts (rates, norms, budgets).
- `temperature`: finite, >= 0, and 1 for a base that is not Gaussian.
- `pixels`: discrete data in `[0, num_bins)`.
- `finite_weights`: a diverged model is neither saved, exported nor sampled.
- `bits_per_dim`: nats per example -> bits per dimension.
- `dequantization`: `x + u`, `u ~ U[0, 1)`, and the `dequantization` argument.
"""
