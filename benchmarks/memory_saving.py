"""Peak memory and step time of a 32x32x3 Glow with and without `memory_saving=True`.

Each configuration is `tfnf.FlowModel(tfnf.flows.glow((32, 32, 3), num_levels=3,
num_steps=K, hidden_channels=H, memory_saving=M), num_bins=256)` with Adam(1e-3),
compiled with `steps_per_execution=1` (one optimizer step per call, so every
batch is timed) and `jit_compile=False` by default (TensorFlow's graph with
oneDNN kernels, what `jit_compile="auto"` picks on a CPU; `--xla` for XLA),
trained through `FlowModel.fit` on batches of 64 colour patches of
`tfnf.datasets.natural_patches("train", form="images")`.

Every configuration runs in a fresh process, which reports

* `step's tensors`: the peak of the memory TensorFlow's CPU allocator holds
  for tensors during the timed batches (every batch after the first), minus
  what it holds between steps (weights, optimizer slots): the activations and
  gradients one training step keeps alive at once. The allocator's own
  statistics (`tf.config.experimental.get_memory_info("CPU:0")`, reset with
  `reset_memory_stats` after the first batch) count every tensor, so this is
  the measure the target is about;
* `activations`: `step's tensors` less one float32 gradient per parameter
  (4 bytes x parameters), which every training step holds at once when the
  optimizer applies them, with or without memory saving, and which grows with
  depth as the weights do: what is left is the memory of the activations;
* `built`: the peak resident memory after building the model, initialising its
  ActNorms and building the optimizer, before any training step (the weights,
  the optimizer slots, TensorFlow itself);
* `peak RSS`: the peak resident memory of the whole run (`ru_maxrss`). It also
  holds tracing and optimising the train step's graph in the first batch, which
  grows with depth with or without memory saving: a process-level figure,
  not the step's;
* the step time: the median time between the ends of consecutive batches
  after the first (which traces and compiles the step).

Targets for `memory_saving`: the step's tensors (and its activations) grow at most 1.3x from K=8 to
K=32, at a step time at most 1.5x the ordinary step's.

Run: `python benchmarks/memory_saving.py [--hidden 256] [--steps 8 16 32] [--batches 4] [--xla] [--quick]`
(about 30 minutes on 2 cores at the defaults, most of it tracing the deeper steps)
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import harness

BATCH = 64
NUM_LEVELS = 3
NUM_BINS = 256


def activations_mb(result):
    """A step's tensors less its float32 gradients, one per parameter (MiB)."""
    return result["step_tensors_mb"] - 4 * result["parameters"] / 2**20


def worker(steps, memory_saving, hidden, batches, xla):
    import keras
    import tensorflow as tf

    import tfnf

    keras.utils.set_random_seed(0)
    images = tfnf.datasets.natural_patches("train", form="images", as_numpy=True)[: BATCH * batches]
    flow = tfnf.flows.glow(
        (32, 32, 3), num_levels=NUM_LEVELS, num_steps=steps, hidden_channels=hidden, seed=0,
        memory_saving=bool(memory_saving),
    )
    model = tfnf.FlowModel(flow, num_bins=NUM_BINS, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=bool(xla), steps_per_execution=1)
    model.initialize(images[:BATCH])
    model.optimizer.build(model.trainable_variables)
    built_mb = harness.peak_rss_mb()

    ends, between_steps = [], {}

    class BatchEnds(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            ends.append(time.perf_counter())
            if batch == 0:  # the step is traced: from here on, the allocator's peak is a step's
                between_steps["bytes"] = tf.config.experimental.get_memory_info("CPU:0")["current"]
                tf.config.experimental.reset_memory_stats("CPU:0")

    start = time.perf_counter()
    history = model.fit(images, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[BatchEnds()])
    tensors = tf.config.experimental.get_memory_info("CPU:0")
    intervals = np.diff(ends)
    harness.report_from_worker(
        {
            "built_mb": built_mb,
            "between_steps_mb": between_steps["bytes"] / 2**20,
            "step_tensors_mb": (tensors["peak"] - between_steps["bytes"]) / 2**20,
            "trained_mb": harness.peak_rss_mb(),
            "first_s": ends[0] - start,
            "step_s": statistics.median(intervals) if len(intervals) else float("nan"),
            "loss": float(history.history["loss"][-1]),
            "parameters": harness.parameter_count(model.trainable_variables),
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256, help="hidden channels of the coupling nets (glow's default 256)")
    parser.add_argument("--steps", type=int, nargs="+", default=[8, 16, 32], help="steps per level")
    parser.add_argument("--batches", type=int, default=4, help="training batches per configuration (the first compiles)")
    parser.add_argument(
        "--xla", action="store_true",
        help="compile(jit_compile=True) instead of TensorFlow's graph (the allocator's statistics then miss XLA's buffers)",
    )
    parser.add_argument("--quick", action="store_true", help="8 and 32 steps per level only, 3 batches each")
    parser.add_argument("--worker", nargs=5, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    if args.quick:
        args.steps, args.batches = [args.steps[0], args.steps[-1]], 3
    script = os.path.abspath(__file__)
    results = {}
    # the smallest and the largest depth first, so an interrupted run has the comparison that matters
    order = [args.steps[0], args.steps[-1], *args.steps[1:-1]]
    for steps in dict.fromkeys(order):
        for memory_saving in (1, 0):
            results[steps, memory_saving] = harness.run_worker(
                script, ["--worker", steps, memory_saving, args.hidden, args.batches, int(args.xla)]
            )
            print(f"steps/level {steps}, memory_saving {memory_saving}: {results[steps, memory_saving]}", file=sys.stderr, flush=True)
    print_table(results, args)


def print_table(results, args):
    """The Markdown table of `results[steps, memory_saving]` (the workers' reports)."""
    print(
        f"tfnf glow 32x32x3, {NUM_LEVELS} levels, hidden {args.hidden}, batch {BATCH}, FlowModel.fit, "
        f"{'XLA' if args.xla else 'TensorFlow graph'}, {args.batches} batches per run; {harness.cpu_description()}\n"
    )
    rows = []
    for steps in args.steps:
        for memory_saving in (0, 1):
            r = results[steps, memory_saving]
            first = results[args.steps[0], memory_saving]
            rows.append([
                steps,
                "on" if memory_saving else "off",
                f"{r['parameters']:,}",
                f"{r['step_tensors_mb']:.0f}",
                harness.ratio(r["step_tensors_mb"], first["step_tensors_mb"]),
                f"{activations_mb(r):.0f}",
                harness.ratio(activations_mb(r), activations_mb(first)),
                f"{r['between_steps_mb']:.0f}",
                f"{r['built_mb']:.0f}",
                f"{r['trained_mb']:.0f}",
                harness.ratio(r["trained_mb"] - r["built_mb"], first["trained_mb"] - first["built_mb"]),
                f"{r['first_s']:.0f}",
                f"{1000 * r['step_s']:.0f}",
                harness.ratio(r["step_s"], results[steps, 0]["step_s"]),
            ])
    harness.print_table(
        [
            "steps/level", "memory_saving", "parameters", "step's tensors (MiB)", f"vs {args.steps[0]} steps",
            "activations (MiB)", f"vs {args.steps[0]} steps",
            "held between steps (MiB)", "built RSS (MiB)", "peak RSS (MiB)", f"RSS above built vs {args.steps[0]} steps",
            "first batch (s)", "step (ms)", "vs ordinary step",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
