"""Where a Glow training step spends its time: tfnf `glow` vs `tfb.Glow` on digits.

The models, data and XLA compilation of `glow_vs_tfp.py` (2 levels x 8 steps,
hidden 128, batch 64). Each model's step is timed in growing parts, every part
an XLA-compiled `tf.function` on the same batches:

* `forward`: dequantise and compute the mean negative log-likelihood;
* `forward + backward`: also its gradients (no update);
* `+ SGD`: also a plain gradient-descent update of every variable;
* `+ Adam`: the full plain step (tfnf: Keras 3 `Adam`; TFP: `tf_keras` `Adam`, which
  its `tf_keras` networks need);
* tfnf only, `FlowModel` step: the compiled `FlowModel.train_function` (adds the
  finiteness guard, gradient clipping and metrics), and `FlowModel.train_on_batch`
  (adds the per-call work: the batch check in Python, the ActNorm flag read,
  Keras' metric reset and reading the logs).

Parts are timed in alternating rounds (medians), so load on the machine hits all
alike. The differences between rows are the costs of the pieces.

Run: `.venv/bin/python benchmarks/glow_step_breakdown.py [--rounds 9] [--quick]` (prints a Markdown
table; about 5 minutes, most of it compiling ten steps).
"""

import argparse
import time

import numpy as np

import harness
from glow_vs_tfp import TfnfContender, TfpContender, epoch_batches, load_digits

PARTS = ("forward", "forward + backward", "+ SGD", "+ Adam")


def xla_part(distribution, variables, part, optimizer):
    """An XLA step `x -> loss` for one of `PARTS` (`optimizer` for the two update parts)."""
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def step(x):
        x = x + tf.random.uniform(tf.shape(x), dtype=x.dtype)
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(distribution.log_prob(x))
        if part == "forward":
            return loss
        gradients = tape.gradient(loss, variables)
        if part == "forward + backward":  # consume every gradient so none is pruned
            return loss + 0.0 * tf.add_n([tf.reduce_sum(g) for g in gradients])
        optimizer.apply_gradients(zip(gradients, variables))
        return loss

    return step


def build_parts(train):
    """`{(model, part): callable(batch)}` for both models."""
    import keras
    import tf_keras

    tfnf_model, tfp_model = TfnfContender(train), TfpContender(train)
    steps = {}
    for name, distribution, variables, optimizers in (
        ("tfnf glow", tfnf_model.model.distribution, tfnf_model.variables, keras.optimizers),
        ("tfb.Glow", tfp_model.distribution, tfp_model.variables, tf_keras.optimizers),
    ):
        for part in PARTS:
            optimizer = {"+ SGD": optimizers.SGD(1e-4), "+ Adam": optimizers.Adam(1e-3)}.get(part)
            if optimizer is not None and optimizers is keras.optimizers:
                optimizer.build(variables)
            steps[name, part] = xla_part(distribution, variables, part, optimizer)
    model = tfnf_model.model
    model.make_train_function()
    steps["tfnf glow", "FlowModel step"] = lambda x: model.train_function(iter([(x, None, None)]))["loss"]
    steps["tfnf glow", "FlowModel.train_on_batch"] = lambda x: model.train_on_batch(x)
    return steps, len(tfnf_model.variables), len(tfp_model.variables)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (default 9, 2 with --quick)")
    parser.add_argument("--steps", type=int, default=30, help="steps per part and round")
    parser.add_argument("--quick", action="store_true", help="two rounds")
    args = parser.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 9)
    train, _, _ = load_digits()
    batches = epoch_batches(train, np.random.default_rng(0))
    steps, tfnf_variables, tfp_variables = build_parts(train)

    def run(step, n):
        for i in range(n):
            out = step(batches[i % len(batches)])
        harness.block(out)

    for step in steps.values():
        run(step, 20)  # compile and warm up
    times = {key: [] for key in steps}
    for _ in range(args.rounds):
        for key, step in steps.items():
            start = time.perf_counter()
            run(step, args.steps)
            times[key].append((time.perf_counter() - start) / args.steps * 1e3)
    median = {key: float(np.median(values)) for key, values in times.items()}
    rows = []
    for part in PARTS:
        ours, theirs = median[("tfnf glow", part)], median[("tfb.Glow", part)]
        rows.append([part, f"{ours:.2f}", f"{theirs:.2f}", f"{theirs / ours:.2f}x"])
    tfp_step = median[("tfb.Glow", "+ Adam")]
    for part in ("FlowModel step", "FlowModel.train_on_batch"):
        ours = median[("tfnf glow", part)]
        rows.append([part, f"{ours:.2f}", "", f"{tfp_step / ours:.2f}x (against TFP's full step)"])
    print(f"Glow train step on digits, batch 64, XLA; trainable variables: tfnf {tfnf_variables}, TFP {tfp_variables}\n")
    harness.print_table(["part", "tfnf glow (ms)", "tfb.Glow (ms)", "TFP / tfnf"], rows)


if __name__ == "__main__":
    main()
