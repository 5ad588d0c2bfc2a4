"""MAF vs IAF: density and sampling time on a 64-dimensional problem.

Both flows are `num_layers=4` masked autoregressive layers with MADE networks
of width 256x256 over `D = 64` (randomly perturbed weights; timing does not
depend on training). Each direction is XLA-compiled (`jit_compile=True`) and
timed at batch 256 in steady state, the contenders alternating
(`harness.alternate_rates`) so machine load hits them alike.

Expected shape of the result: MAF's `log_prob` and IAF's `sample` are one
network pass per layer; MAF's `sample` and IAF's `log_prob` are `D = 64`
sequential passes per layer, i.e. one to two orders of magnitude slower.

Run: `.venv/bin/python benchmarks/maf_vs_iaf.py [--quick]` (prints a Markdown table).
"""

import argparse

import keras
import numpy as np
import tensorflow as tf

import harness
import tfnf


def perturb(flow, seed=0, scale=0.05):
    rng = np.random.default_rng(seed)
    for variable in flow.trainable_variables:
        variable.assign(variable.numpy() + scale * rng.standard_normal(variable.shape).astype("float32"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--quick", action="store_true", help="fewer timing rounds: a smoke run")
    args, _ = parser.parse_known_args()
    keras.utils.set_random_seed(0)
    d, batch = args.dims, args.batch_size
    flows = {
        "maf": tfnf.flows.maf((d,), num_layers=4, hidden_units=(256, 256)),
        "iaf": tfnf.flows.iaf((d,), num_layers=4, hidden_units=(256, 256)),
    }
    calls = {}
    for name, flow in flows.items():
        perturb(flow)
        log_prob = tf.function(flow.log_prob, jit_compile=True)
        sample = tf.function(lambda seed, flow=flow: flow.sample(batch, seed=seed), jit_compile=True)
        calls[f"{name} log_prob"] = log_prob
        calls[f"{name} sample"] = lambda x, sample=sample: sample(tf.constant([1, 2]))
    x = [tf.constant(np.random.default_rng(i).standard_normal((batch, d)), tf.float32) for i in range(3)]
    for call in calls.values():
        harness.block(call(x[0]))  # trace and compile
    per_round, rounds = (3, 2) if args.quick else (20, 5)
    rates = harness.alternate_rates(calls, x, steps_per_round=per_round, rounds=rounds)
    ms = {name: 1000.0 / rate for name, rate in rates.items()}
    rows = []
    for name in flows:
        density, sampling = ms[f"{name} log_prob"], ms[f"{name} sample"]
        rows.append([name, f"{density:.2f}", f"{sampling:.2f}", harness.ratio(sampling, density)])
    harness.print_table(
        ["flow (D=%d, 4 layers, 256x256)" % d, f"log_prob ms (batch {batch})", f"sample ms (batch {batch})", "sample / log_prob"],
        rows,
    )


if __name__ == "__main__":
    main()
