"""Uniform vs variational dequantisation on the bundled digits, at equal wall-clock budget.

Protocol: that of `digits_bits_per_dim.py` (fixed split, 17 levels, Adam(1e-3),
batch 64, dropout 0.3, train until the budget is spent, keep the weights with
the best validation bits/dim), for the same glow once with
`dequantization="uniform"` and once with `dequantization="variational"`. The
validation figure that picks the best weights is each model's own training
bound. Reported on test, each averaged over 4 noise draws:

* training bound: `-E_q[log p(x + u) - log q(u | x)] / (D ln 2)` with the
  model's own `q` (for uniform dequantisation, `q = U[0, 1)^D`);
* uniform bound: the same model's density under uniform noise, the figure
  `digits_bits_per_dim.py` reports; for the variational model it shows how much
  of its gain is the density `p` itself rather than the tighter bound.

Both are upper bounds on the test bits/dim of the discrete model `P(x)`.

Run: `.venv/bin/python benchmarks/digits_dequantization.py [--budget 300] [--quick]`
"""

import argparse
import math

import numpy as np

from digits_bits_per_dim import digits_splits, train_within_budget, uniform_test_bits_per_dim

REPEATS = 4
DEQUANTIZATIONS = ("uniform", "variational")


def training_bound_bits_per_dim(model, x, repeats=REPEATS, batch_size=256):
    """Test bits/dim under the model's own dequantisation bound, averaged over `repeats` draws."""
    values = []
    for _ in range(repeats):
        for i in range(0, len(x), batch_size):
            values.append(model.dequantized_log_prob(x[i : i + batch_size]).numpy().astype(np.float64))
    values = np.concatenate(values)
    if not np.all(np.isfinite(values)):
        raise ValueError("the model gave a non-finite bound on the test data")
    return -values.mean() / (model.num_dims * math.log(2.0))


def run(dequantization, budget, dropout, seed=0):
    model, summary = train_within_budget("glow", budget, dropout, seed, dequantization=dequantization)
    test = digits_splits()[2]
    return {
        **summary,
        "dequantization": dequantization,
        "test_bound": training_bound_bits_per_dim(model, test),
        "test_uniform": uniform_test_bits_per_dim(model),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None, help="seconds of training per model (default 300, 60 with --quick)")
    parser.add_argument("--quick", action="store_true", help="60 s budget")
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--dequantizations", nargs="+", default=list(DEQUANTIZATIONS), choices=DEQUANTIZATIONS)
    args = parser.parse_args()
    budget = args.budget if args.budget is not None else (60.0 if args.quick else 300.0)
    rows = [run(d, budget, args.dropout) for d in args.dequantizations]
    print("| dequantisation | parameters | epochs | best epoch | best val bits/dim | test bits/dim (training bound) "
          "| test bits/dim (uniform bound) | train s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dequantization']} | {r['parameters']:,} | {r['epochs']} | {r['best_epoch']} | {r['best_val']:.3f} "
            f"| {r['test_bound']:.3f} | {r['test_uniform']:.3f} | {r['seconds']:.0f} |"
        )


if __name__ == "__main__":
    main()
