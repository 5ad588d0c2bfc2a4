"""Conditional glow on the bundled digits: given the 4x4 image (super-resolution), given the class, or not.

Protocol: the fixed train/validation/test split of `tfnf.datasets.digits`
(17 levels) and the glow of `digits_bits_per_dim.py` (2 levels, 8 steps, 128
channels, its default dropout), trained the same way (Adam(1e-3), batch 64,
one `fit` that stops when the wall-clock budget is spent, compilation
included, keeping the weights with the best validation bits/dim, measured
after each epoch by `KeepBestValidation` for both models alike). The
conditional glow (`context_shape=(4, 4, 1)`) models `p(x | low_res(x))`,
where `low_res` is the 2x2 average-pooled digit scaled to `[-0.5, 0.5]`; the
unconditional one models `p(x)`. Test bits/dim are averaged over 4 seeded
uniform dequantisation draws. The gap between the two is the information the
4x4 image carries about the 8x8 one, as far as the flows learn it within the
budget (a conditional density must be at least as good with enough training).
The glow given the 4x4 image is larger (each conditioner's first convolution
reads 16 more channels of encoded context), so it also runs fewer steps per
second. A third glow, class-conditional (`num_classes=10`, each coupling's
conditioner reading the one-hot label), models `p(x | digit class)`.

Run: `.venv/bin/python benchmarks/digits_super_resolution.py [--budget 240] [--quick]`
"""

import argparse
import time

import keras
import numpy as np

import harness
import tfnf
from digits_bits_per_dim import FLOWS, digits_splits
from tfnf.cli.evaluation import evaluate_log_prob

CONTEXT_SHAPE = (4, 4, 1)


def low_resolution(x):
    """Digits `[N, 8, 8, 1]` in `[0, 16]` -> the 2x2 average-pooled `[N, 4, 4, 1]`, scaled to `[-0.5, 0.5]`."""
    pooled = x.reshape(len(x), 4, 2, 4, 2, 1).mean(axis=(2, 4))
    return (pooled / (tfnf.datasets.DIGITS_NUM_BINS - 1) - 0.5).astype(np.float32)


class KeepBestValidation(keras.callbacks.Callback):
    """After each epoch, the model's mean bits/dim on `validation` (given `condition`, if any);
    the weights of the best epoch are restored when training ends."""

    def __init__(self, validation, condition=None):
        super().__init__()
        self.validation, self.condition = validation, condition
        self.values, self.best_weights = [], None

    def on_epoch_end(self, epoch, logs=None):
        value = float(np.mean(self.model.bits_per_dim(self.validation, condition=self.condition)))
        if not self.values or value < min(self.values):
            self.best_weights = self.model.get_weights()
        self.values.append(value)

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


CONDITIONS = {
    "none": ("glow", {}),
    "class": ("glow given the class", {"num_classes": 10}),
    "4x4": ("glow given the 4x4 digit", {"context_shape": CONTEXT_SHAPE}),
}


def split_conditions(condition):
    """The train / validation / test conditions of `condition` (None for "none"), in the order of
    `digits_splits`: labels `[N]` or 4x4 images `[N, 4, 4, 1]`."""
    if condition == "none":
        return None, None, None
    if condition == "class":
        return tuple(tfnf.datasets.digits(s, as_numpy=True, with_labels=True)[1] for s in ("train", "validation", "test"))
    return tuple(low_resolution(images) for images in digits_splits("glow"))


def train_within_budget(condition, budget, seed=0):
    """Train glow given `condition` (a key of `CONDITIONS`) for `budget` seconds;
    return the model and a summary of the run."""
    train, validation, _ = digits_splits("glow")
    y, validation_y, _ = split_conditions(condition)
    label, flow_kwargs = CONDITIONS[condition]
    keras.utils.set_random_seed(seed)
    flow = FLOWS["glow"](**flow_kwargs)
    model = tfnf.FlowModel(flow, num_bins=tfnf.datasets.DIGITS_NUM_BINS, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    best = KeepBestValidation(validation, validation_y)
    start = time.perf_counter()
    model.fit(train, y, batch_size=64, epochs=100000, callbacks=[tfnf.keras.TimeBudgetCallback(budget), best], verbose=0)
    seconds = time.perf_counter() - start
    val = best.values
    return model, {
        "model": label,
        "parameters": int(sum(int(np.prod(v.shape)) for v in model.trainable_variables)),
        "epochs": len(val),
        "best_val": float(np.min(val)),
        "seconds": seconds,
    }


def test_bits_per_dim(model, condition):
    """Test bits/dim under uniform dequantisation, averaged over 4 seeded draws; a conditional
    model is scored on each test digit given its own condition."""
    test = digits_splits("glow")[2]
    contexts = split_conditions(condition)[2]
    seen = [0]

    def log_prob(batch):  # evaluate_log_prob passes the test digits in order, once per draw
        start = seen[0] % len(test)
        seen[0] += len(batch)
        given = None if contexts is None else contexts[start : start + len(batch)]
        return model.log_prob(batch, condition=given).numpy()

    return evaluate_log_prob(log_prob, test, model.num_bins, model.num_dims)["bits_per_dim"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None, help="seconds of training per model (default 240, 60 with --quick)")
    parser.add_argument("--quick", action="store_true", help="60 s budget")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    args = parser.parse_args()
    budget = args.budget if args.budget is not None else (60.0 if args.quick else 240.0)
    rows = []
    for condition in args.conditions:
        model, summary = train_within_budget(condition, budget)
        rows.append({**summary, "test": test_bits_per_dim(model, condition)})
    print(f"CPU: {harness.cpu_description()}; budget: {budget:.0f} s per model\n")
    harness.print_table(
        ["model", "parameters", "epochs", "best val bits/dim", "test bits/dim", "train s"],
        [
            [r["model"], f"{r['parameters']:,}", r["epochs"], f"{r['best_val']:.3f}", f"{r['test']:.3f}", f"{r['seconds']:.0f}"]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
