"""Peak memory and step time of a 32x32x3 Glow with and without `memory_saving=True`.

Each configuration is `tfnf.FlowModel(tfnf.flows.glow((32, 32, 3), num_levels=3,
num_steps=K, hidden_channels=H, memory_saving=M), num_bins=256)` with Adam(1e-3),
compiled with `steps_per_execution=1` (one optimizer step per call, so every
batch is timed) and `jit_compile=False` by default (TensorFlow's graph with
oneDNN kernels, what `jit_compile="auto"` picks on a CPU; `--xla` for XLA),
trained through `FlowModel.fit` on batches of 64 colour patches of
`tfnf.datasets.natural_patches("train", form="images")`.

Every configuration runs in a fresh process, which reports

* `built`: the peak resident memory after building the model, initialising its
  ActNorms and building the optimizer, before any training step (the weights,
  the optimizer slots, TensorFlow itself);
* `peak`: the peak resident memory of the whole run (`ru_maxrss`), which
  includes tracing and optimising the train step's graph in the first batch:
  the graph of a deeper flow is larger, with or without memory saving;
* `step's own`: the resident memory sampled every 2 ms during the timed
  batches, its highest value minus its lowest (between steps): what one
  training step allocates and frees, its activations. Workers run with
  `MALLOC_MMAP_THRESHOLD_=65536`, so freed buffers leave the resident set;
* the step time: the median time between the ends of consecutive batches
  after the first (which traces and compiles the step).

Targets for `memory_saving`: the step's memory grows at most 1.3x from K=8 to
K=32, at a step time at most 1.5x the ordinary step's.

Run: `python benchmarks/memory_saving.py [--hidden 256] [--steps 8 16 32] [--batches 4] [--xla] [--quick]`
(about 30 minutes on 2 cores at the defaults, most of it tracing the deeper steps)
"""

import argparse
import os
import statistics
import sys
import threading
import time

import numpy as np

import harness

BATCH = 64
NUM_LEVELS = 3
NUM_BINS = 256


def current_rss_mb():
    """This process's resident set size now, in MiB (Linux `/proc/self/statm`)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler(threading.Thread):
    """Samples the resident set size every few milliseconds while `active`; `peak_mb` is the largest seen."""

    def __init__(self):
        super().__init__(daemon=True)
        self.active, self.peak_mb, self.low_mb, self.stopped = False, 0.0, float("inf"), False

    def run(self):
        while not self.stopped:
            if self.active:
                now = current_rss_mb()
                self.peak_mb, self.low_mb = max(self.peak_mb, now), min(self.low_mb, now)
            time.sleep(0.002)


def worker(steps, memory_saving, hidden, batches, xla):
    import keras

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

    ends, after_first = [], {}
    sampler = RssSampler()
    sampler.start()

    class BatchEnds(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            ends.append(time.perf_counter())
            if batch == 0:
                after_first.update(peak=harness.peak_rss_mb(), now=current_rss_mb())
                sampler.active = True

    start = time.perf_counter()
    history = model.fit(images, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[BatchEnds()])
    sampler.stopped = True
    intervals = np.diff(ends)
    harness.report_from_worker(
        {
            "built_mb": built_mb,
            "first_peak_mb": after_first["peak"],
            "first_now_mb": after_first["now"],
            "steady_peak_mb": sampler.peak_mb,
            "steady_low_mb": sampler.low_mb,
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
    parser.add_argument("--xla", action="store_true", help="compile(jit_compile=True) instead of TensorFlow's graph")
    parser.add_argument("--quick", action="store_true", help="8 and 32 steps per level only, 3 batches each")
    parser.add_argument("--worker", nargs=5, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    if args.quick:
        args.steps, args.batches = [args.steps[0], args.steps[-1]], 3
    script = os.path.abspath(__file__)
    # buffers of 64 KiB and more are mapped and unmapped one by one, so a freed activation leaves the
    # resident set and the RSS sampled during a step shows that step's own memory
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"
    results = {}
    # the smallest and the largest depth first, so an interrupted run has the comparison that matters
    order = [args.steps[0], args.steps[-1], *args.steps[1:-1]]
    for steps in dict.fromkeys(order):
        for memory_saving in (1, 0):
            results[steps, memory_saving] = harness.run_worker(
                script, ["--worker", steps, memory_saving, args.hidden, args.batches, int(args.xla)]
            )
            print(f"steps/level {steps}, memory_saving {memory_saving}: {results[steps, memory_saving]}", file=sys.stderr, flush=True)
    print(
        f"tfnf glow 32x32x3, {NUM_LEVELS} levels, hidden {args.hidden}, batch {BATCH}, FlowModel.fit, "
        f"{'XLA' if args.xla else 'TensorFlow graph'}, {args.batches} batches per run; {harness.cpu_description()}\n"
    )
    rows = []
    for steps in args.steps:
        for memory_saving in (0, 1):
            r = results[steps, memory_saving]
            first = results[args.steps[0], memory_saving]
            step_mb = r["steady_peak_mb"] - r["steady_low_mb"]
            rows.append([
                steps,
                "on" if memory_saving else "off",
                f"{r['parameters']:,}",
                f"{r['built_mb']:.0f}",
                f"{r['trained_mb']:.0f}",
                f"{r['trained_mb'] - r['built_mb']:.0f}",
                harness.ratio(r["trained_mb"] - r["built_mb"], first["trained_mb"] - first["built_mb"]),
                f"{step_mb:.0f}",
                harness.ratio(step_mb, first["steady_peak_mb"] - first["steady_low_mb"]),
                f"{r['first_s']:.0f}",
                f"{1000 * r['step_s']:.0f}",
                harness.ratio(r["step_s"], results[steps, 0]["step_s"]),
            ])
    harness.print_table(
        [
            "steps/level", "memory_saving", "parameters", "built RSS (MiB)", "peak RSS (MiB)", "peak above built (MiB)",
            f"vs {args.steps[0]} steps", "step's own (MiB)", f"vs {args.steps[0]} steps", "first batch (s)", "step (ms)",
            "vs ordinary step",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
