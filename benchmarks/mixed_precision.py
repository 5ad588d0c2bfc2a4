"""Training speed of the digits Glow under Keras mixed precision, through `FlowModel.fit`.

The same model (glow 2 levels x 8 steps, hidden 128, batch 64, `FlowModel` and
`compile` defaults) is built three times: under the default float32 policy,
under `"mixed_bfloat16"` and under `"mixed_float16"`; the networks of the last
two compute in 16 bits (log-dets and densities stay float32). After each has
compiled (and chosen XLA or not), they train in alternating `fit` calls of 5
epochs, so load on the machine affects all alike; the table reports median
steps/s and the ratio to float32. Whether 16 bits pay depends on the CPU: on
one without bf16/fp16 arithmetic (no `avx512_bf16` / `amx_bf16` in the flags
printed) the conversions cost more than they save.

Run: `.venv/bin/python benchmarks/mixed_precision.py [--quick]`
"""

import argparse
import time

import keras
import numpy as np

import harness
import tfnf

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


def build(policy, seed=0):
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(seed)
        flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=8, hidden_channels=128, seed=seed)
        model = tfnf.FlowModel(flow, num_bins=17, seed=seed)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
    finally:
        keras.config.set_dtype_policy("float32")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    train = tfnf.datasets.digits("train", as_numpy=True)
    models, compile_seconds = {}, {}
    for policy in POLICIES:
        models[policy] = build(policy)
        start = time.perf_counter()
        models[policy].fit(train, batch_size=64, epochs=3, verbose=0)  # compiles and chooses XLA or not
        compile_seconds[policy] = time.perf_counter() - start
    rates = {policy: [] for policy in POLICIES}
    for r in range(2 if args.quick else 4):
        for policy in POLICIES if r % 2 == 0 else POLICIES[::-1]:
            model = models[policy]
            before = int(model.optimizer.iterations.numpy())
            start = time.perf_counter()
            model.fit(train, batch_size=64, epochs=5, verbose=0)
            rates[policy].append((int(model.optimizer.iterations.numpy()) - before) / (time.perf_counter() - start))
    test = tfnf.datasets.digits("test", as_numpy=True)
    print(f"CPU: {harness.cpu_description()}\n")
    rows = []
    for policy in POLICIES:
        rate = float(np.median(rates[policy]))
        choice = models[policy].jit_compile_choice
        rows.append([
            policy,
            f"{rate:.1f}",
            harness.ratio(rate, float(np.median(rates["float32"]))),
            f"{compile_seconds[policy]:.0f}",
            choice.describe() if choice is not None else f"jit_compile={models[policy].jit_compile}",
            f"{float(np.mean(models[policy].bits_per_dim(test))):.3f}",
        ])
    harness.print_table(
        ["policy", "train steps/s", "vs float32", "first fit, 3 epochs (s)", "execution mode", "test bits/dim at the end (density at the pixels)"],
        rows,
    )


if __name__ == "__main__":
    main()
