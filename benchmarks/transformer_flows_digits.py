"""Transformer flows on the bundled digits: jet and tarflow against glow at one wall-clock budget.

Protocol (`digits_bits_per_dim.py`'s, for every flow): the fixed
train/validation/test split of `tfnf.datasets.digits`, 17 levels, each builder
with its own defaults (jet and tarflow: patches of 2x2, width 64, depth 2, 4
heads, dropout 0.1; glow: 2 levels of 8 steps of width 128 with its default
dropout 0.3), a `FlowModel(flow, num_bins=17)` compiled with its defaults and
Adam(1e-3), batch 64, one `fit` stopped when the budget is spent (compilation
included), the weights with the best validation bits/dim kept; test bits/dim
averaged over 4 dequantisation draws. Also measured: training steps per second
over the whole `fit` (compilation and validation included, so a fair share of
the budget) and the time of `model.sample(1000)` after a first call has
compiled it (median of 3; the first call is shown too).

Run: `.venv/bin/python benchmarks/transformer_flows_digits.py [--budget 240] [--quick] [--flows jet tarflow glow]`
"""

import argparse
import statistics

import keras

import harness
import tfnf
from digits_bits_per_dim import fit_within_budget, uniform_test_bits_per_dim

FLOWS = {
    "jet": lambda: tfnf.flows.jet((8, 8, 1)),
    "tarflow": lambda: tfnf.flows.tarflow((8, 8, 1)),
    "glow": lambda: tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=8, hidden_channels=128, seed=0),
}


def sampling_seconds(model, n=1000, repeats=3):
    """`(first, median)` seconds of `model.sample(n)`: the first call compiles."""
    first, _ = harness.timed(model.sample, n)
    times = [harness.timed(model.sample, n)[0] for _ in range(repeats)]
    return first, statistics.median(times)


def run(name, budget):
    keras.utils.set_random_seed(0)
    model, summary = fit_within_budget(FLOWS[name](), name, budget)
    first, median = sampling_seconds(model)
    return {**summary, "test": uniform_test_bits_per_dim(model, name), "sample_first": first, "sample": median}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None, help="seconds of training per flow (default 240, 60 with --quick)")
    parser.add_argument("--quick", action="store_true", help="60 s budget")
    parser.add_argument("--flows", nargs="+", default=list(FLOWS), choices=list(FLOWS))
    args = parser.parse_args()
    budget = args.budget if args.budget is not None else (60.0 if args.quick else 240.0)
    rows = [run(name, budget) for name in args.flows]
    print(f"CPU: {harness.cpu_description()}; budget: {budget:.0f} s per flow\n")
    harness.print_table(
        ["flow", "parameters", "epochs", "best epoch", "best val bits/dim", "test bits/dim", "train steps/s",
         "sample(1000) s", "first sample(1000) s"],
        [
            [r["flow"], f"{r['parameters']:,}", r["epochs"], r["best_epoch"], f"{r['best_val']:.3f}", f"{r['test']:.3f}",
             f"{r['steps_per_s']:.1f}", f"{r['sample']:.2f}", f"{r['sample_first']:.1f}"]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
