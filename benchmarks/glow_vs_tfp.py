"""tfnf `glow`, trained the way users train it, against TensorFlow Probability's `tfb.Glow`.

Both models: 2 levels x 8 steps of [ActNorm, invertible 1x1 conv, affine
coupling], coupling networks conv3x3(128) -> ReLU -> conv1x1(128) -> ReLU ->
zero-initialised conv3x3, a learned conditional prior (one zero-initialised
conv3x3) for the factored-out half, a standard normal base, batch 64,
Adam(1e-3). Data: `tfnf.datasets.digits` (17 levels), dequantised
with `u ~ U[0, 1)` and mapped to the flow's range by `x = 17 * (w + 0.5)`,
whose log-det is part of both densities, so bits/dim are comparable.

tfnf is used exactly as a user writes it: `tfnf.flows.glow((8, 8, 1),
num_levels=2, num_steps=8, hidden_channels=128)` with the builder's other
defaults, `tfnf.FlowModel(flow, num_bins=17)`, `compile(optimizer=Adam(1e-3))`
with its defaults (`jit_compile="auto"`, which times the step with and without
XLA during the first calls of `fit` and keeps the faster; 16 steps per
execution), trained by `model.fit(train_images, batch_size=64)`. Its train
step also checks for non-finite gradients and clips the gradient norm at 100.

The TFP baseline is what a TFP user writes: `tfb.Glow(output_shape=(8, 8, 1),
num_glow_blocks=2, num_steps_per_block=8, coupling_bijector_fn=lambda s:
tfb.GlowDefaultNetwork(s, num_hidden=128),
exit_bijector_fn=tfb.GlowDefaultExitNetwork)` under `tfd.TransformedDistribution`
(base `tfd.Sample(tfd.Normal(0, 1), 64)`, the same `Scale(17)`, `Shift(0.5)` in
front), its ActNorms initialised by one eager `log_prob` on a training batch,
trained by a `tf.function(jit_compile=True)` step with `tf_keras`'s Adam(1e-3)
(TFP's Glow networks are `tf_keras` layers). `tfb.Glow` fails inside
`tf.function` when the batch dimension is `None`, so, as its users do, every
TFP function sees fixed shapes: training batches are cut with
`drop_remainder` and evaluation uses fixed-size batches.

Where the architectures differ (parameter counts are printed):
* coupling scale: tfnf `exp(2 tanh(h / 2))`, TFP `sigmoid(h + 2)` (Glow's);
* hidden conv initialisation: Keras' default Glorot uniform (tfnf) vs He normal (TFP);
* 1x1 conv: both train one packed LU matrix beside a fixed permutation; tfnf's
  diagonal holds the raw `log|s|` (floored, fixed signs), TFP's (`tfb.ScaleMatvecLU`)
  `s` itself; tfnf's ActNorm packs `loc` and `log_scale` in one variable, TFP's
  keeps two;
* tfnf's convolutions keep kernel and bias in one variable (`PackedConv2D`),
  TFP's (Keras `Conv2D`) in two: 81 and 146 trainable variables, the same
  parameters;
* ActNorm initialisation: tfnf from 512 training images, TFP from the first batch;
* tfnf's learned prior conditions the factored half on the kept half at every
  level; TFP's exit bijector does the same;
* the flattening order of the latent differs (irrelevant for a N(0, I) base).

Measured:
* training steps/s: both models alternately in one process (load on the
  machine affects both alike), tfnf through `fit` calls of 5 epochs (100
  steps), TFP through its loop over 95 batches, after both are compiled;
* per-`fit`-call overhead: ten `fit` calls of 50 steps against one of 500;
* compilation, in a fresh process per model: for TFP the first train step
  minus a steady one; for tfnf the first `fit` until `jit_compile="auto"`
  has chosen (3 epochs) minus the same steps at the steady rate;
* seconds to draw 1000 samples (`FlowModel.sample`; TFP's `sample` under
  `tf.function(jit_compile=True)`); peak resident memory (fresh process);
* test bits/dim after an equal wall-clock budget: the two models train in
  alternate epochs (tfnf one `fit(epochs=1)` per epoch), each charged only its
  own time (compilation included), keep the weights of their best validation
  bits/dim, and are scored on the test split averaged over 4 dequantisation draws.

Lower-level figures beside them: the same tfnf flow under exactly the TFP
baseline's plain XLA train step (Keras 3 Adam, no gradient clipping or
finiteness check, one call per step), which separates the cost of the flow
from the cost of `fit`; and an A/A control, a second identical `tfb.Glow`
timed in the same rounds, whose ratio to the first is the noise floor.
The CPU is printed with the results.

Run: `.venv/bin/python benchmarks/glow_vs_tfp.py [--budget 240] [--quick]`
"""

import argparse
import math
import os
import time

import numpy as np

import harness

BATCH_SIZE = 64
EVAL_BATCH_SIZE = 90  # divides the 270 validation and test images: fixed shapes for tfb.Glow
NUM_BINS = 17
SAMPLES = 1000


def build_tfnf(seed=0):
    """The model as a user writes it: builder and `FlowModel` defaults, `compile` defaults."""
    import keras

    import tfnf

    keras.utils.set_random_seed(seed)
    flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=8, hidden_channels=128, seed=seed)
    model = tfnf.FlowModel(flow, num_bins=NUM_BINS, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


class TfnfContender:
    """tfnf glow in a `FlowModel`, trained by `fit` (the user path)."""

    name = "tfnf glow"

    def __init__(self, train_images, seed=0):
        import tensorflow as tf

        self.model = build_tfnf(seed)
        self.train_images = train_images
        self.variables = self.model.trainable_variables
        self.log_prob = tf.function(self.model.distribution.log_prob, jit_compile=True)

    def fit(self, images, epochs=1):
        """`fit` on `images` (batch 64, shuffled); returns the optimizer steps it ran."""
        before = int(self.model.optimizer.iterations.numpy())
        self.model.fit(images, batch_size=BATCH_SIZE, epochs=epochs, verbose=0)
        return int(self.model.optimizer.iterations.numpy()) - before

    def train_epoch(self, rng):
        return self.fit(self.train_images)

    def sample(self, n):
        return self.model.sample(n)

    def get_weights(self):
        return self.model.get_weights()

    def set_weights(self, weights):
        self.model.set_weights(weights)


class LoopContender:
    """A model trained by a compiled step called once per batch (the TFP user's loop)."""

    def train_epoch(self, rng):
        out = None
        batches = epoch_batches(self.train_images, rng)
        for batch in batches:
            out = self.train_step(batch)
        harness.block(out)
        return len(batches)


def xla_train_step(distribution, variables, optimizer):
    """The plain maximum-likelihood step a TFP user writes: uniform dequantisation, mean NLL,
    one optimizer update, compiled with XLA. `x: [batch, 8, 8, 1]` pixels -> loss."""
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def train_step(x):
        x = x + tf.random.uniform(tf.shape(x), dtype=x.dtype)
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(distribution.log_prob(x))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return train_step


class TfnfFlowContender(LoopContender):
    """The same tfnf flow trained by the plain XLA step the TFP baseline uses.

    Separates the flow's own cost from `FlowModel`'s train step (which adds the
    non-finite check, gradient clipping and metrics). Timed, not raced.
    """

    name = "tfnf glow, plain step"

    def __init__(self, train_images, seed=0):
        import keras
        import tensorflow as tf

        self.model = build_tfnf(seed)
        self.train_images = train_images
        self.model.initialize(train_images[:512])
        self.variables = self.model.trainable_variables
        self.log_prob = tf.function(self.model.distribution.log_prob, jit_compile=True)
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(self.variables)
        self.train_step = xla_train_step(self.model.distribution, self.variables, optimizer)
        self._samplers = {}

    def sample(self, n):
        """`n` samples from the flow (data units) by an XLA-compiled `sample`, as for the TFP baseline."""
        import tensorflow as tf

        if n not in self._samplers:
            self._samplers[n] = tf.function(lambda: self.model.distribution.sample(n), jit_compile=True)
        return self._samplers[n]()


class TfpContender(LoopContender):
    """`tfb.Glow` in a `tfd.TransformedDistribution`, trained by an XLA `tf.function`."""

    name = "tfb.Glow"

    def __init__(self, train_images, seed=0):
        import tensorflow as tf
        import tensorflow_probability as tfp
        import tf_keras

        tfb, tfd = tfp.bijectors, tfp.distributions
        tf.random.set_seed(seed)
        glow = tfb.Glow(
            output_shape=(8, 8, 1),
            num_glow_blocks=2,
            num_steps_per_block=8,
            coupling_bijector_fn=lambda shape: tfb.GlowDefaultNetwork(shape, num_hidden=128),
            exit_bijector_fn=tfb.GlowDefaultExitNetwork,
            seed=seed,
        )
        base = tfd.Sample(tfd.Normal(0.0, 1.0), glow.inverse_event_shape([8, 8, 1]))
        self.distribution = tfd.TransformedDistribution(base, tfb.Chain([tfb.Scale(float(NUM_BINS)), tfb.Shift(0.5), glow]))
        self.train_images = train_images
        rng = np.random.default_rng(seed)
        first = train_images[:BATCH_SIZE] + rng.uniform(size=(BATCH_SIZE, 8, 8, 1)).astype(np.float32)
        self.distribution.log_prob(first)  # data-dependent ActNorm initialisation
        self.all_variables = list(self.distribution.variables)
        self.variables = list(self.distribution.trainable_variables)
        self.optimizer = tf_keras.optimizers.Adam(1e-3)
        self.train_step = xla_train_step(self.distribution, self.variables, self.optimizer)
        self.log_prob = tf.function(self.distribution.log_prob, jit_compile=True)
        self._samplers = {}

    def sample(self, n):
        import tensorflow as tf

        if n not in self._samplers:
            self._samplers[n] = tf.function(lambda: self.distribution.sample(n), jit_compile=True)
        return self._samplers[n]()

    def get_weights(self):
        return [v.numpy() for v in self.all_variables]

    def set_weights(self, weights):
        for v, w in zip(self.all_variables, weights):
            v.assign(w)


CONTENDERS = {"tfnf": TfnfContender, "tfp": TfpContender}
PLAIN = "tfnf_plain"  # timed only: compile, steps/s, memory
TWIN = "tfp_twin"  # timed only: steps/s of a second tfb.Glow, the A/A control


def load_digits():
    import tfnf

    return tuple(tfnf.datasets.digits(s, as_numpy=True) for s in ("train", "validation", "test"))


def epoch_batches(images, rng):
    """One shuffled epoch of full `BATCH_SIZE` batches (`drop_remainder`)."""
    order = rng.permutation(len(images))
    return [images[order[i : i + BATCH_SIZE]] for i in range(0, len(images) - BATCH_SIZE + 1, BATCH_SIZE)]


def bits_per_dim(log_prob, images, seed, repeats=1, batch_size=EVAL_BATCH_SIZE):
    """Mean bits/dim of pixel `images: [N, ...]` under a compiled `log_prob` of dequantised pixels,
    over `repeats` draws of `u ~ U[0, 1)`, in batches of `batch_size` (fixed shapes for `tfb.Glow`)."""
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(repeats):
        for i in range(0, len(images), batch_size):
            batch = images[i : i + batch_size]
            noisy = batch + rng.uniform(size=batch.shape).astype(np.float32)
            total += float(np.sum(np.asarray(log_prob(noisy), np.float64)))
    return -total / (repeats * images[0].size * len(images) * math.log(2.0))


# --- worker: compile time and peak memory in a fresh process ---------------------------------
CHOICE_EPOCHS = 3  # 20 steps per epoch in calls of 16: jit_compile="auto" has chosen after 6 calls


def worker(which):
    import tensorflow as tf

    train, _, _ = load_digits()
    result = {"rss_before_mb": harness.peak_rss_mb()}
    if which == "baseline":
        import tensorflow_probability  # noqa: F401  (same imports as the contenders)

        import tfnf  # noqa: F401

        harness.report_from_worker({"peak_rss_mb": harness.peak_rss_mb()})
        return
    if which == "tfnf":
        contender = TfnfContender(train)
        first_seconds, first_steps = harness.timed(contender.fit, train, CHOICE_EPOCHS)
        steady_seconds, steady_steps = harness.timed(contender.fit, train, CHOICE_EPOCHS)
        result["compile_s"] = first_seconds - first_steps * steady_seconds / steady_steps
        choice = contender.model.jit_compile_choice
        result["choice"] = choice.describe() if choice is not None else f"jit_compile={contender.model.jit_compile}"
    else:
        contender = (TfnfFlowContender if which == PLAIN else CONTENDERS[which])(train)
        batches = [tf.constant(b) for b in epoch_batches(train, np.random.default_rng(0))]
        first_seconds, _ = harness.timed(contender.train_step, batches[0])
        start = time.perf_counter()
        for i in range(20):
            out = contender.train_step(batches[1 + i % (len(batches) - 1)])
        harness.block(out)
        result["compile_s"] = first_seconds - (time.perf_counter() - start) / 20
    result["sample_compile_s"], _ = harness.timed(contender.sample, SAMPLES)
    result["parameters"] = harness.parameter_count(contender.variables)
    result["peak_rss_mb"] = harness.peak_rss_mb()
    harness.report_from_worker(result)


# --- main process ------------------------------------------------------------------------
def race(contenders, validation, budget, seed=0):
    """Alternate epochs until each contender has spent `budget` seconds; keep best weights."""
    state = {
        name: {"spent": 0.0, "epochs": 0, "best": math.inf, "best_epoch": 0, "weights": None, "rng": np.random.default_rng(seed)}
        for name in contenders
    }
    while any(s["spent"] < budget for s in state.values()):
        for name, contender in contenders.items():
            s = state[name]
            if s["spent"] >= budget:
                continue
            start = time.perf_counter()
            contender.train_epoch(s["rng"])
            s["spent"] += time.perf_counter() - start
            s["epochs"] += 1
            val = bits_per_dim(contender.log_prob, validation, seed=1)
            if val < s["best"]:
                s["best"], s["best_epoch"], s["weights"] = val, s["epochs"], contender.get_weights()
    for name, contender in contenders.items():
        if state[name]["weights"] is not None:
            contender.set_weights(state[name]["weights"])
    return state


def alternate_epoch_rates(contenders, epochs_per_round, rounds, seed=3):
    """Median training steps/s of each contender over `rounds` alternating rounds of
    `epochs_per_round` epochs (tfnf: one `fit` call per round)."""
    rates = {name: [] for name in contenders}
    rng = np.random.default_rng(seed)
    for r in range(rounds):
        for name in list(contenders) if r % 2 == 0 else list(contenders)[::-1]:
            contender = contenders[name]
            start = time.perf_counter()
            if isinstance(contender, TfnfContender):
                steps = contender.fit(contender.train_images, epochs=epochs_per_round)
            else:
                steps = sum(contender.train_epoch(rng) for _ in range(epochs_per_round))
            rates[name].append(steps / (time.perf_counter() - start))
    return {name: float(np.median(v)) for name, v in rates.items()}


def fit_call_overhead(contender, rounds):
    """Relative extra time of ten `fit` calls of 50 steps over one `fit` of 500 steps."""
    tiled = np.concatenate([contender.train_images] * 26)
    short, long = tiled[: 50 * BATCH_SIZE], tiled[: 500 * BATCH_SIZE]
    extra = []
    for _ in range(rounds):
        ten = harness.timed(lambda: [contender.fit(short) for _ in range(10)])[0]
        one = harness.timed(contender.fit, long)[0]
        extra.append(ten / one - 1.0)
    return float(np.median(extra))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None, help="training seconds per model (default 240, 60 with --quick)")
    parser.add_argument("--quick", action="store_true", help="short budget and fewer timing rounds")
    parser.add_argument("--worker", choices=["baseline", PLAIN, *CONTENDERS], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    budget = args.budget if args.budget is not None else (60.0 if args.quick else 240.0)
    rounds = 3 if args.quick else 5
    script = os.path.abspath(__file__)

    fresh = {name: harness.run_worker(script, ["--worker", name]) for name in ("tfnf", "tfp", PLAIN)}
    idle = harness.run_worker(script, ["--worker", "baseline"])["peak_rss_mb"]

    train, validation, test = load_digits()
    contenders = {name: cls(train) for name, cls in CONTENDERS.items()}
    # From scratch: the budget includes each model's compilation (and tfnf's choice of XLA or not).
    state = race(contenders, validation, budget)
    test_bpd = {n: bits_per_dim(c.log_prob, test, seed=2, repeats=4) for n, c in contenders.items()}

    # Speed, on the trained models (the weights do not change the work).
    plain, twin = TfnfFlowContender(train), TfpContender(train)
    for extra in (plain, twin):
        extra.train_epoch(np.random.default_rng(0))  # compile
    samplers = {**contenders, PLAIN: plain}
    for contender in samplers.values():
        harness.block(contender.sample(SAMPLES))
    steps = alternate_epoch_rates({**contenders, PLAIN: plain, TWIN: twin}, epochs_per_round=5, rounds=rounds)
    overhead = fit_call_overhead(contenders["tfnf"], rounds=2 if args.quick else 3)
    sample_seconds = {n: [] for n in samplers}
    for r in range(rounds):
        for name in list(samplers) if r % 2 == 0 else list(samplers)[::-1]:
            sample_seconds[name].append(harness.timed(samplers[name].sample, SAMPLES)[0])
    sample_seconds = {n: float(np.median(v)) for n, v in sample_seconds.items()}

    a, b, p = "tfnf", "tfp", PLAIN

    def row(label, values, fmt):
        """A table row comparing `values[x]` (x = tfnf side) with `values["tfp"]`."""
        return lambda x: [label, fmt.format(values[x]), fmt.format(values[b]), harness.ratio(values[x], values[b])]

    def worker_values(key, offset=0):
        return {name: fresh[name][key] - offset for name in fresh}

    compile_row = row("compile (s)", worker_values("compile_s"), "{:.1f}")
    steps_row = row("training steps/s (batch 64)", steps, "{:.1f}")
    sample_compile_row = row("compile, first 1000 samples (s)", worker_values("sample_compile_s"), "{:.1f}")
    memory_row = row("peak RSS above idle (MiB)", worker_values("peak_rss_mb", idle), "{:.0f}")
    rows = [
        row("parameters", worker_values("parameters"), "{:,}")(a),
        compile_row(a),
        steps_row(a),
        sample_compile_row(a),
        row("draw 1000 samples (s)", sample_seconds, "{:.3f}")(a),
        memory_row(a),
        row("epochs in budget", {n: state[n]["epochs"] for n in state}, "{}")(a),
        ["best validation bits/dim (epoch)", *(f"{state[n]['best']:.3f} ({state[n]['best_epoch']})" for n in (a, b)), ""],
        ["test bits/dim", f"{test_bpd[a]:.3f}", f"{test_bpd[b]:.3f}", f"{test_bpd[b] - test_bpd[a]:+.3f} (TFP - tfnf)"],
    ]
    print(f"CPU: {harness.cpu_description()}\n")
    print(
        f"Glow on digits, {budget:.0f} s budget per model, idle process {idle:.0f} MiB "
        "(ratios: tfnf / TFP; for steps/s above 1 means tfnf is faster, for seconds below 1)\n"
    )
    harness.print_table(["", "tfnf glow, FlowModel.fit", "tfb.Glow", "tfnf / TFP"], rows)
    print(
        f"\ntfnf's first fit: {fresh['tfnf']['choice']}. Ten fit calls of 50 steps take "
        f"{100 * overhead:+.1f}% the time of one fit of 500 steps."
    )
    print("\nLower level: the tfnf flow under the TFP baseline's plain XLA step and XLA sampler (no FlowModel):\n")
    plain_rows = [
        compile_row(p),
        steps_row(p),
        sample_compile_row(p),
        row("draw 1000 samples, XLA (s)", sample_seconds, "{:.3f}")(p),
        memory_row(p),
    ]
    harness.print_table(["", "tfnf glow, plain step", "tfb.Glow", "tfnf / TFP"], plain_rows)
    print(
        f"\nControl: a second, identical tfb.Glow trained at {steps[TWIN]:.1f} steps/s, "
        f"{harness.ratio(steps[TWIN], steps[b])} the first: the noise floor of the steps/s ratios above."
    )


if __name__ == "__main__":
    main()
