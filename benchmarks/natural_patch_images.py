"""32x32x3 natural image patches: tfnf `glow` and image `realnvp` against `tfb.Glow` at equal wall-clock time.

Data: `tfnf.datasets.natural_patches(split, form="images")`, colour 32x32
patches of scikit-learn's two sample photographs at 256 levels: 10,000 train /
1,000 validation / 2,000 test patches from disjoint regions.

Contenders, each in a fresh process with the same wall-clock budget (default
600 s, counted from the first step, so tracing and compilation are part of it),
batch 64 and Adam(1e-3), all at the size `tfnf train --dataset patches` uses
by default (3 levels, 4 steps per level, 64 hidden channels):

* tfnf `glow((32, 32, 3), num_levels=3, num_steps=4, hidden_channels=64)` and
  `realnvp((32, 32, 3), num_levels=3, hidden_channels=64)` (the paper's
  levels: three checkerboard couplings, a squeeze, three channel couplings),
  other arguments at their defaults, in `tfnf.FlowModel(flow, num_bins=256)`
  with `compile(optimizer=Adam(1e-3))`'s defaults, trained by `fit` with the
  validation split scored after every epoch;
* TFP's Glow as a TFP user writes it: `tfb.Glow(output_shape=(32, 32, 3),
  num_glow_blocks=3, num_steps_per_block=4, coupling_bijector_fn=lambda s:
  tfb.GlowDefaultNetwork(s, num_hidden=64), exit_bijector_fn=
  tfb.GlowDefaultExitNetwork)` behind `Scale(256)`, `Shift(0.5)` (pixels
  `x = 256 (w + 0.5)`, the same map as tfnf's), base `N(0, I)`, ActNorms
  initialised by one `log_prob` of a training batch, trained by a
  `tf.function(jit_compile=True)` step with `tf_keras`' Adam(1e-3) over
  shuffled full batches, validated after every epoch.

Every model keeps the weights of its best validation score (and is validated
when the budget runs out) and is scored on the test split: bits/dim of the
dequantised pixels (`x + u`, `u ~ U[0, 1)`, two draws), lower is better.
Steps/s is the number of training steps in the budget over the training time
(compilation and validation included). Memory: the process's peak resident
memory (TensorFlow's allocator statistics do not see the buffers of XLA
programs, which both sides may run, so they would not compare). The time of
the first call drawing 64 samples includes its compilation. 64 samples of each model (temperature 1) and
64 test patches are written side by side into one PNG (`--picture`).

Run: `.venv/bin/python benchmarks/natural_patch_images.py [--budget 600] [--models glow realnvp tfb-glow] [--quick]`
(about 35 minutes at the defaults on 2 cores)
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

import harness

BATCH = 64
NUM_BINS = 256
SHAPE = (32, 32, 3)
LEVELS, STEPS, HIDDEN = 3, 4, 64
EVAL_BATCH = 100  # divides the 1,000 validation and 2,000 test patches: fixed shapes for tfb.Glow
SAMPLES = 64
LABELS = {
    "glow": f"tfnf glow ({LEVELS} levels x {STEPS} steps, hidden {HIDDEN}), fit",
    "realnvp": f"tfnf realnvp ({LEVELS} levels, hidden {HIDDEN}), fit",
    "tfb-glow": f"tfb.Glow ({LEVELS} blocks x {STEPS} steps, hidden {HIDDEN}), XLA loop",
}


def patches():
    import tfnf

    return tuple(tfnf.datasets.natural_patches(s, form="images", as_numpy=True) for s in ("train", "validation", "test"))


def bits_per_dim(log_prob, images, seed, repeats=2):
    """Mean bits/dim of pixel `images: [N, 32, 32, 3]` under `log_prob` of dequantised pixels."""
    from glow_vs_tfp import bits_per_dim as mean_bits_per_dim

    return mean_bits_per_dim(log_prob, images, seed, repeats=repeats, batch_size=EVAL_BATCH)


def train_tfnf(key, data, budget, seed):
    """`(model's log_prob, sampler, steps, seconds, variables)` after `fit` within `budget`."""
    import keras
    import tensorflow as tf

    import tfnf
    from natural_patch_vectors import BudgetAndBest

    train, validation, _ = data
    keras.utils.set_random_seed(seed)
    if key == "glow":
        flow = tfnf.flows.glow(SHAPE, num_levels=LEVELS, num_steps=STEPS, hidden_channels=HIDDEN, seed=seed)
    else:
        flow = tfnf.flows.realnvp(SHAPE, num_levels=LEVELS, hidden_channels=HIDDEN)
    model = tfnf.FlowModel(flow, num_bins=NUM_BINS, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    watch = BudgetAndBest(budget)
    model.fit(train, batch_size=BATCH, epochs=10_000, validation_data=(validation,), callbacks=[watch], verbose=0)
    log_prob = tf.function(model.distribution.log_prob, jit_compile=True)
    return log_prob, lambda n: model.sample(n), watch.steps, watch.elapsed, model.trainable_variables


def train_tfb_glow(data, budget, seed):
    """What `train_tfnf` returns, for `tfb.Glow` trained by a TFP user's XLA loop."""
    import tensorflow as tf
    import tensorflow_probability as tfp
    import tf_keras

    from glow_vs_tfp import xla_train_step

    tfb, tfd = tfp.bijectors, tfp.distributions
    train, validation, _ = data
    tf.random.set_seed(seed)
    glow = tfb.Glow(
        output_shape=SHAPE, num_glow_blocks=LEVELS, num_steps_per_block=STEPS,
        coupling_bijector_fn=lambda shape: tfb.GlowDefaultNetwork(shape, num_hidden=HIDDEN),
        exit_bijector_fn=tfb.GlowDefaultExitNetwork, seed=seed,
    )
    base = tfd.Sample(tfd.Normal(0.0, 1.0), glow.inverse_event_shape(SHAPE))
    distribution = tfd.TransformedDistribution(base, tfb.Chain([tfb.Scale(float(NUM_BINS)), tfb.Shift(0.5), glow]))
    rng = np.random.default_rng(seed)
    distribution.log_prob(train[:BATCH] + rng.uniform(size=(BATCH, *SHAPE)).astype(np.float32))  # ActNorm init
    all_variables, variables = list(distribution.variables), list(distribution.trainable_variables)
    train_step = xla_train_step(distribution, variables, tf_keras.optimizers.Adam(1e-3))
    log_prob = tf.function(distribution.log_prob, jit_compile=True)
    best, best_values, steps = np.inf, None, 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        order = rng.permutation(len(train))
        for i in range(0, len(train) - BATCH + 1, BATCH):
            harness.block(train_step(tf.constant(train[order[i : i + BATCH]])))
            steps += 1
            if time.perf_counter() - start >= budget:
                break
        score = bits_per_dim(log_prob, validation, seed + 1, repeats=1)
        if np.isfinite(score) and score < best:
            best, best_values = score, [v.numpy() for v in all_variables]
    elapsed = time.perf_counter() - start
    if best_values is not None:
        for variable, value in zip(all_variables, best_values):
            variable.assign(value)
    sampler = tf.function(lambda: distribution.sample(SAMPLES), jit_compile=True)
    return log_prob, lambda n: sampler(), steps, elapsed, variables


def worker(key, budget, seed, samples_path):
    data = patches()
    if key == "tfb-glow":
        log_prob, sample, steps, elapsed, variables = train_tfb_glow(data, budget, seed)
    else:
        log_prob, sample, steps, elapsed, variables = train_tfnf(key, data, budget, seed)
    test_bpd = bits_per_dim(log_prob, data[2], seed + 2)
    start = time.perf_counter()
    samples = np.asarray(sample(SAMPLES))
    sample_s = time.perf_counter() - start
    np.save(samples_path, np.clip(np.floor(samples), 0, NUM_BINS - 1))
    harness.report_from_worker({
        "test_bpd": test_bpd, "steps": steps, "seconds": elapsed, "parameters": harness.parameter_count(variables),
        "peak_rss_mb": harness.peak_rss_mb(), "sample_s": sample_s,
    })


def save_picture(path, sample_files, test_images):
    from tfnf.keras.image_grid import image_grid, save_image_grids

    grids = [image_grid(test_images[:SAMPLES], num_bins=NUM_BINS)]
    titles = ["test patches"]
    for key, file in sample_files.items():
        grids.append(image_grid(np.load(file), num_bins=NUM_BINS))
        titles.append(key)
    save_image_grids(path, grids, titles)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="wall-clock seconds of training per model")
    parser.add_argument("--models", nargs="+", choices=list(LABELS), default=list(LABELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--picture", default="natural_patch_images_samples.png", help="PNG of samples (written beside nothing else)")
    parser.add_argument("--quick", action="store_true", help="60 s per model: a smoke run")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        key, budget, seed, samples_path = args.worker
        worker(key, float(budget), int(seed), samples_path)
        return
    if args.quick:
        args.budget = 60.0
    print(f"CPU: {harness.cpu_description()}")
    print(
        f"32x32x3 natural image patches (10,000 train / 1,000 validation / 2,000 test), {args.budget:g} s of training "
        f"each (compilation included), batch {BATCH}, Adam(1e-3), seed {args.seed}\n", flush=True
    )
    results, sample_files = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for key in args.models:
            sample_files[key] = os.path.join(folder, f"{key}.npy")
            results[key] = harness.run_worker(os.path.abspath(__file__), ["--worker", key, args.budget, args.seed, sample_files[key]])
            print(f"{LABELS[key]}: {json.dumps(results[key])}", file=sys.stderr, flush=True)
        save_picture(args.picture, sample_files, patches()[2])
    rows = [
        [
            LABELS[key], f"{r['test_bpd']:.3f}", f"{r['steps'] / r['seconds']:.2f}", f"{r['steps']:,}", f"{r['parameters']:,}",
            f"{r['peak_rss_mb']:.0f}", f"{r['sample_s']:.2f}",
        ]
        for key, r in results.items()
    ]
    harness.print_table(
        ["model", "test bits/dim", "steps/s", "steps", "parameters", "peak RSS (MiB)",
         f"first {SAMPLES} samples (s, compile included)"],
        rows,
    )
    if "tfb-glow" in results:
        for key in results:
            if key != "tfb-glow":
                print(f"{LABELS[key]} - tfb.Glow: {results[key]['test_bpd'] - results['tfb-glow']['test_bpd']:+.3f} bits/dim")
    print(f"\nsamples: {args.picture}")


if __name__ == "__main__":
    main()
