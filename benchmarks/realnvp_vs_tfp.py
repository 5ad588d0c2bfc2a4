"""tfnf `realnvp` against a `tfb.RealNVP` + `tfb.Permute` chain on eight Gaussians.

Both models: 8 affine couplings over 2-D vectors, each conditioner an MLP
1 -> 64 -> 64 -> 2 (ReLU, zero-initialised output layer, so each coupling
starts as the identity), log-scale soft-bounded as `2 tanh(h / 2)`, the two
coordinates swapped between couplings, standard normal base. Training: 3000
steps of batch 512 from `tfnf.datasets.toy2d("eight_gaussians")` (the same
data for both), Adam(1e-3) with an exponential moving average of the weights
(momentum 0.99), which is what is evaluated; KL(p || q) on 100k fresh samples
with the exact `log p` (see `eight_gaussians_kl.py`, whose tfnf trainer is
reused here).

tfnf: `tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=8,
hidden_units=(64, 64)))`, `compile(jit_compile=True)`, `fit`, in two forms:
the builder's default, whose conditioners read Fourier features of their input
(`[x, sin x, cos x, sin 2x, cos 2x]`, so the first layer is 5 -> 64 and the
model has 6% more parameters), and `fourier_frequencies=()`, the same
architecture as the TFP chain (1 -> 64).

TFP, as its users write it: `tfb.Chain` of 8 `tfb.RealNVP(num_masked=1,
shift_and_log_scale_fn=...)` with `tfb.Permute([1, 0])` in between, the
shift-and-log-scale function a `tf_keras` MLP (TFP's own layers are
`tf_keras`; `tfb.real_nvp_default_template` is a TF1 template), under a
`tfd.TransformedDistribution` over `tfd.MultivariateNormalDiag`, trained by a
`tf.function(jit_compile=True)` step with `tf_keras`'s Adam(1e-3,
use_ema=True, ema_momentum=0.99) over a batched `tf.data.Dataset`; the EMA
weights are swapped in after training (`finalize_variable_values`).
Differences: tfnf swaps halves by alternating the mask's parity, TFP by a
`Permute` bijector (7 of them); Keras 3 vs tf_keras Dense layers (the same
Glorot-uniform initialisation); tfnf's step also checks gradients for
non-finite values and clips their norm at 100.

Steps/s is steady state, timed from the 10th step to the last (inside `fit`
for tfnf, by a Keras callback); the first step (tracing and XLA compilation)
is timed separately. The models take turns, seed by seed, so load on the machine hits
both alike.

Run: `.venv/bin/python benchmarks/realnvp_vs_tfp.py [--steps 3000] [--seeds 0 1] [--quick]`
"""

import argparse
import time

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import harness
from eight_gaussians_kl import train_tfnf_realnvp

tfb, tfd = tfp.bijectors, tfp.distributions
NUM_COUPLINGS = 8
HIDDEN_UNITS = (64, 64)
SCALE_BOUND = 2.0


class ShiftAndLogScale(tf.Module):
    """`tfb.RealNVP`'s `shift_and_log_scale_fn`: an MLP on the masked part (a tf.Module, so it is tracked)."""

    def __init__(self, num_masked, output_units, name=None):
        super().__init__(name=name)
        layers = [tf_keras.layers.Dense(u, activation="relu") for u in HIDDEN_UNITS]
        layers.append(tf_keras.layers.Dense(2 * output_units, kernel_initializer="zeros", bias_initializer="zeros"))
        self.network = tf_keras.Sequential([tf_keras.Input((num_masked,)), *layers])

    def __call__(self, x, output_units):
        shift, raw = tf.split(self.network(x), 2, axis=-1)
        return shift, SCALE_BOUND * tf.math.tanh(raw / SCALE_BOUND)


def build_tfp(seed):
    tf_keras.utils.set_random_seed(seed)
    parts = []
    for k in range(NUM_COUPLINGS):
        if k:
            parts.append(tfb.Permute([1, 0]))
        parts.append(tfb.RealNVP(num_masked=1, shift_and_log_scale_fn=ShiftAndLogScale(1, 1, name=f"coupling{k}")))
    base = tfd.MultivariateNormalDiag(loc=tf.zeros(2), scale_diag=tf.ones(2))
    return tfd.TransformedDistribution(base, tfb.Chain(parts[::-1]))


def train_tfp(steps, batch_size, seed, warmup=10):
    """Returns `(log_prob function, compile_seconds, steady steps/s, parameters)`."""
    distribution = build_tfp(seed)
    distribution.log_prob(tf.zeros([1, 2]))  # builds the networks
    variables = list(distribution.trainable_variables)
    optimizer = tf_keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.99)

    @tf.function(jit_compile=True)
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(distribution.log_prob(x))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    data = tf.data.Dataset.from_tensor_slices(harness.eight_gaussians_data(steps * batch_size, seed))
    data = data.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    start = time.perf_counter()
    compile_seconds = warm = None
    for step, x in enumerate(data):
        loss = train_step(x)
        if step == 0:
            harness.block(loss)
            compile_seconds = time.perf_counter() - start
        elif step == warmup:
            harness.block(loss)
            warm = time.perf_counter()
    harness.block(loss)
    rate = (step - warmup) / (time.perf_counter() - warm)
    optimizer.finalize_variable_values(variables)
    log_prob = tf.function(distribution.log_prob, jit_compile=True)
    return (lambda x: log_prob(x).numpy()), compile_seconds, rate, harness.parameter_count(variables)


def train_tfnf(steps, batch_size, seed, fourier_frequencies="auto"):
    model, _, timer = train_tfnf_realnvp(
        steps, batch_size, seed, jit_compile=True, fourier_frequencies=fourier_frequencies
    )
    log_prob = tf.function(model.distribution.log_prob, jit_compile=True)
    parameters = harness.parameter_count(model.trainable_variables)
    return (lambda x: log_prob(x).numpy()), timer.first_step_seconds, timer.steps_per_second, parameters


def train_tfnf_raw_inputs(steps, batch_size, seed):
    return train_tfnf(steps, batch_size, seed, fourier_frequencies=())


TRAINERS = {
    "tfnf realnvp": train_tfnf,
    "tfnf realnvp, no Fourier features": train_tfnf_raw_inputs,
    "tfb.RealNVP + tfb.Permute": train_tfp,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 (0 with --quick)")
    parser.add_argument("--quick", action="store_true", help="one seed")
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1])
    results = {name: [] for name in TRAINERS}
    for i, seed in enumerate(seeds):
        order = list(TRAINERS) if i % 2 == 0 else list(TRAINERS)[::-1]
        for name in order:
            log_prob, compile_seconds, rate, parameters = TRAINERS[name](args.steps, args.batch_size, seed)
            results[name].append((seed, parameters, compile_seconds, rate, harness.eight_gaussians_kl(log_prob)))
    rows = []
    for name, runs in results.items():
        for seed, parameters, compile_seconds, rate, kl in runs:
            rows.append([name, seed, f"{parameters:,}", f"{compile_seconds:.1f}", f"{rate:.0f}", f"{kl:.4f}"])
    tfp_runs = results["tfb.RealNVP + tfb.Permute"]
    print(f"Eight Gaussians, {args.steps} steps of batch {args.batch_size}\n")
    harness.print_table(["model", "seed", "parameters", "compile (s)", "steps/s", "KL(p‖q) nats"], rows)
    print(f"\nMean KL of tfb.RealNVP + tfb.Permute: {np.mean([r[4] for r in tfp_runs]):.4f} nats")
    for name in ("tfnf realnvp", "tfnf realnvp, no Fourier features"):
        runs = results[name]
        rate_ratio = np.mean([a[3] / b[3] for a, b in zip(runs, tfp_runs)])
        print(f"{name} / TFP: steps/s {rate_ratio:.2f}x (mean over seeds); mean KL {np.mean([r[4] for r in runs]):.4f} nats")


if __name__ == "__main__":
    main()
