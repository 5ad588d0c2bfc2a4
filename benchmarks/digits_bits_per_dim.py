"""Test bits/dim on the bundled digits after a fixed wall-clock budget.

Protocol (the same for every flow): the fixed train/validation/test split of
`tfnf.datasets.digits`, 17 levels; each builder with its own defaults beyond
the sizes below (pass `--dropout` to override the conditioners' dropout), a
`FlowModel(flow, num_bins=17)` compiled with its defaults and Adam(1e-3),
batch 64; one `fit` that stops when the budget is spent (compilation
included) and keeps the weights with the best validation bits/dim; test
bits/dim averaged over 4 dequantisation draws. `nsf` (vectors only) models
the 64 pixels as a vector.

Run: `.venv/bin/python benchmarks/digits_bits_per_dim.py [--budget 240] [--quick] [--flows glow realnvp nice nsf]`
"""

import argparse
import math
import time

import keras
import numpy as np

import harness
import tfnf
from tfnf.cli.evaluation import evaluate_log_prob

FLOWS = {
    "glow": lambda **kw: tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=8, hidden_channels=128, seed=0, **kw),
    "realnvp": lambda **kw: tfnf.flows.realnvp((8, 8, 1), num_levels=2, hidden_channels=64, **kw),
    "nice": lambda **kw: tfnf.flows.nice((8, 8, 1), num_couplings=4, hidden_units=(256, 256), **kw),
    "nsf": lambda **kw: tfnf.flows.nsf((64,), num_couplings=4, hidden_units=(256, 256), **kw),
}
VECTOR_FLOWS = ("nsf",)
BATCH = 64


def digits_splits(name="glow"):
    """The fixed train / validation / test split of the bundled digits, as NumPy arrays
    (`[N, 8, 8, 1]`, or `[N, 64]` for the flows of vectors)."""
    splits = tuple(tfnf.datasets.digits(split, as_numpy=True) for split in ("train", "validation", "test"))
    return tuple(s.reshape(len(s), 64) for s in splits) if name in VECTOR_FLOWS else splits


def train_within_budget(name, budget, dropout, seed=0, **model_kwargs):
    """Build flow `name`, train it under the protocol for `budget` seconds, keep the best
    validation weights. Returns the model and a summary of the run (without test figures)."""
    keras.utils.set_random_seed(seed)
    flow = FLOWS[name](**({} if dropout is None else {"dropout": dropout}))
    return fit_within_budget(flow, name, budget, seed, **model_kwargs)


def fit_within_budget(flow, name, budget, seed=0, **model_kwargs):
    """Train `flow` (laid out as flow `name`'s data, see `digits_splits`) under the protocol for
    `budget` seconds, keeping the best validation weights. Returns the `FlowModel` and a summary of
    the run (without test figures); steps/s counts the whole `fit`, compilation and validation included."""
    train, validation, _ = digits_splits(name)
    model = tfnf.FlowModel(flow, num_bins=tfnf.datasets.DIGITS_NUM_BINS, seed=seed, **model_kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    callbacks = [
        tfnf.keras.TimeBudgetCallback(budget),
        keras.callbacks.EarlyStopping(monitor="val_bits_per_dim", mode="min", patience=10**6, restore_best_weights=True),
    ]
    start = time.perf_counter()
    history = model.fit(train, batch_size=BATCH, epochs=100000, validation_data=(validation,), callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - start
    val = history.history["val_bits_per_dim"]
    return model, {
        "flow": name,
        "parameters": int(sum(int(np.prod(v.shape)) for v in model.trainable_variables)),
        "epochs": len(val),
        "steps_per_s": len(val) * math.ceil(len(train) / BATCH) / seconds,
        "best_epoch": int(np.argmin(val)) + 1,
        "best_val": float(np.min(val)),
        "seconds": seconds,
    }


def uniform_test_bits_per_dim(model, name="glow"):
    """Test bits/dim under uniform dequantisation, averaged over 4 seeded draws."""
    test = digits_splits(name)[2]
    return evaluate_log_prob(lambda b: model.log_prob(b).numpy(), test, model.num_bins, model.num_dims)["bits_per_dim"]


def run(name, budget, dropout, seed=0):
    model, summary = train_within_budget(name, budget, dropout, seed)
    return {**summary, "test": uniform_test_bits_per_dim(model, name), "jit": model.jit_compile}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None, help="seconds of training per flow (default 240, 60 with --quick)")
    parser.add_argument("--quick", action="store_true", help="60 s budget")
    parser.add_argument("--dropout", type=float, default=None, help="conditioner dropout (default: each builder's own)")
    parser.add_argument("--flows", nargs="+", default=list(FLOWS), choices=list(FLOWS))
    args = parser.parse_args()
    budget = args.budget if args.budget is not None else (60.0 if args.quick else 240.0)
    rows = [run(name, budget, args.dropout) for name in args.flows]
    print(f"CPU: {harness.cpu_description()}; dropout: {'builder defaults' if args.dropout is None else args.dropout}\n")
    print("| flow | parameters | epochs | best epoch | best val bits/dim | test bits/dim | train s | XLA |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['flow']} | {r['parameters']:,} | {r['epochs']} | {r['best_epoch']} | {r['best_val']:.3f} "
            f"| {r['test']:.3f} | {r['seconds']:.0f} | {r['jit']} |"
        )


if __name__ == "__main__":
    main()
