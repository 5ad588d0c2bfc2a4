"""How tfnf `glow`'s training step scales with image size, depth and batch.

Each configuration is a `tfnf.FlowModel(tfnf.flows.glow((S, S, 3), num_levels=2,
num_steps=K, hidden_channels=128), num_bins=256)` with Adam(1e-3), trained with
`train_on_batch` on random 8-bit images of batch B (the values do not change
the work), in each of TensorFlow's two ways of running a step on CPU:

* `auto`: `compile()`'s default, `jit_compile="auto"`, which on a CPU-only
  machine is a TensorFlow graph whose convolutions and matmuls are oneDNN
  kernels (Keras turns XLA on automatically only on GPUs);
* `xla`: `compile(jit_compile=True)`.

Every (configuration, mode) runs in a fresh process, which reports the compile
time (first step), the median step time over alternating timed rounds, and its
peak resident memory; the table also shows the memory above an idle process
that imported TensorFlow and tfnf.

FLOPs are counted from the graph, not guessed: the forward pass
(`distribution.log_prob` on a static batch) is traced to a concrete function
and every `Conv2D` (`2 * B * H_out * W_out * k_h * k_w * C_in * C_out`) and
every matrix product (`Einsum`, `MatMul`, `BatchMatMulV2`: `2 * output elements
* contracted size`) in it is summed. A training step does three times that
(the forward product, and the gradients with respect to its input and its
weights are one product each); elementwise work, reductions and the optimizer
update are not counted, so the GFLOP/s shown is a lower bound on the rate of
useful arithmetic. The reference is a float32 `[2048, 2048] @ [2048, 2048]`
matmul measured in the same run, both as a TensorFlow graph (oneDNN) and under
XLA, before and after the configurations; the best of all of them is the
machine's practical peak, and every row is compared with that one number.

Run: `.venv/bin/python benchmarks/glow_scaling.py [--quick]`
"""

import argparse
import math
import os

import numpy as np

import harness

# (image size, steps per level, batch); the first is the reference point.
CONFIGS = [(16, 8, 64), (8, 8, 64), (32, 8, 64), (16, 16, 64), (16, 8, 256)]
QUICK_CONFIGS = [(16, 8, 64), (8, 8, 64), (32, 8, 64)]
MODES = {"auto": "auto", "xla": True}  # table label -> FlowModel.compile(jit_compile=...)
HIDDEN_CHANNELS = 128
NUM_BINS = 256


def forward_flops(concrete_function):
    """Multiply-add FLOPs (x2) of the convolutions and matrix products in a traced graph."""
    total = 0
    for op in concrete_function.graph.get_operations():
        if op.type == "Conv2D":
            out = op.outputs[0].shape.as_list()
            kernel = op.inputs[1].shape.as_list()
            total += 2 * math.prod(out) * math.prod(kernel[:3])
        elif op.type in ("Einsum", "MatMul", "BatchMatMulV2"):
            out = op.outputs[0].shape.as_list()
            a, b = (t.shape.as_list() for t in op.inputs[:2])
            contracted = _contracted_size(op, a, b)
            total += 2 * math.prod(out) * contracted
    return total


def _contracted_size(op, a, b):
    if op.type == "Einsum":
        equation = op.get_attr("equation").decode()
        inputs, output = equation.split("->")
        left, right = inputs.split(",")
        if "..." in left:
            left = left.replace("...", "")
            a = a[len(a) - len(left) :]
        sizes = dict(zip(left, a))
        sizes.update(zip(right.replace("...", ""), b[len(b) - len(right.replace("...", "")) :]))
        return math.prod(sizes[c] for c in set(left) & set(right) if c not in output)
    transpose_a = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
    return a[-2] if transpose_a else a[-1]


def worker(size, steps, batch, rounds, mode):
    import keras
    import tensorflow as tf

    import tfnf

    idle_mb = harness.peak_rss_mb()
    keras.utils.set_random_seed(0)
    flow = tfnf.flows.glow((size, size, 3), num_levels=2, num_steps=steps, hidden_channels=HIDDEN_CHANNELS, seed=0)
    model = tfnf.FlowModel(flow, num_bins=NUM_BINS, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=MODES[mode])
    rng = np.random.default_rng(0)
    images = rng.integers(0, NUM_BINS, size=(8, batch, size, size, 3)).astype(np.float32)
    model.initialize(images[0])
    model.optimizer.build(model.trainable_variables)
    batches = [tf.constant(b) for b in images]
    compile_s, _ = harness.timed(model.train_on_batch, batches[0])
    harness.block(model.train_on_batch(batches[1]))
    rate = harness.alternate_rates({"step": model.train_on_batch}, batches, steps_per_round=10, rounds=rounds)["step"]
    spec = tf.TensorSpec([batch, size, size, 3], tf.float32)
    flops = 3 * forward_flops(tf.function(model.distribution.log_prob).get_concrete_function(spec))
    harness.report_from_worker(
        {
            "compile_s": compile_s,
            "step_s": 1.0 / rate,
            "train_flops": flops,
            "parameters": harness.parameter_count(model.trainable_variables),
            "peak_rss_mb": harness.peak_rss_mb(),
            "idle_mb": idle_mb,
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="image sizes only, fewer timed rounds")
    parser.add_argument("--worker", nargs=5, metavar=("SIZE", "STEPS", "BATCH", "ROUNDS", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*(int(a) for a in args.worker[:4]), args.worker[4])
        return
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    rounds = 3 if args.quick else 5
    script = os.path.abspath(__file__)
    peaks = {"TensorFlow graph": [harness.matmul_gflops(jit_compile=False)], "XLA": [harness.matmul_gflops()]}
    results = [((c, mode), harness.run_worker(script, ["--worker", *c, rounds, mode])) for c in configs for mode in MODES]
    peaks["TensorFlow graph"].append(harness.matmul_gflops(jit_compile=False))
    peaks["XLA"].append(harness.matmul_gflops())
    peak = max(max(values) for values in peaks.values())
    rows = []
    for ((size, steps, batch), mode), r in sorted(results):
        gflops = r["train_flops"] / r["step_s"] / 1e9
        rows.append(
            [
                f"{size}x{size}x3",
                steps,
                batch,
                mode,
                f"{r['parameters']:,}",
                f"{r['compile_s']:.0f}",
                f"{1000 * r['step_s']:.1f}",
                f"{batch / r['step_s']:.0f}",
                f"{r['train_flops'] / 1e9:.2f}",
                f"{gflops:.1f}",
                f"{100 * gflops / peak:.0f}%",
                f"{r['peak_rss_mb'] - r['idle_mb']:.0f}",
            ]
        )
    measured = "; ".join(f"{name} {', '.join(f'{p:.0f}' for p in values)}" for name, values in peaks.items())
    print(
        f"tfnf glow training step, 2 levels, hidden {HIDDEN_CHANNELS}; dense float32 matmul peak "
        f"{peak:.0f} GFLOP/s (measured: {measured})\n"
    )
    harness.print_table(
        ["image", "steps/level", "batch", "mode", "parameters", "compile (s)", "step (ms)", "images/s", "GFLOP/step", "GFLOP/s", "of matmul peak", "peak RSS above idle (MiB)"],
        rows,
    )


if __name__ == "__main__":
    main()
