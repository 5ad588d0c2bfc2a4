"""Cost of a training step of FFJORD against a coupling flow on 2-D data, through `FlowModel.fit`.

Both flows are trained on `toy2d("moons")` with Adam(1e-3) through
`tfnf.FlowModel.fit` by maximum likelihood: `ffjord((2,), hidden_units=(64, 64))` (TFP's
Dormand-Prince solver at rtol = atol = 1e-5, the exact trace, adjoint
gradients) and `realnvp((2,), num_couplings=8, hidden_units=(64, 64))`, both
without XLA (`jit_compile=False`: XLA cannot compile FFJORD's train step). The
steady-state time per step excludes the first `--warmup` steps (tracing); the
ODE solver's step count grows as the field learns, so FFJORD's figure is that
of an early phase of training. Prints a Markdown table headed by the CPU.

Run: `.venv/bin/python benchmarks/ffjord_cost.py [--steps 20] [--batch-size 256]`.
"""

import argparse
import time

import keras

import harness
import tfnf


class StepTimes(keras.callbacks.Callback):
    """Wall time of every training batch."""

    def on_train_begin(self, logs=None):
        self.times, self._last = [], time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.times.append(now - self._last)
        self._last = now


def measure(name, flow, steps, batch_size, warmup):
    keras.utils.set_random_seed(0)
    model = tfnf.FlowModel(flow, seed=0, objective="maximum_likelihood")  # the ODE-solving step this measures
    # every step timed, both flows without XLA (XLA cannot compile the ODE solver's adjoint)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False, steps_per_execution=1)
    x = tfnf.datasets.toy2d("moons", steps * batch_size, seed=0)
    timer = StepTimes()
    history = model.fit(x, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
    steady = timer.times[warmup:]
    per_step = sum(steady) / len(steady)
    params = harness.parameter_count(flow.trainable_variables)
    return [name, f"{params:,}", batch_size, len(steady), f"{timer.times[0]:.2f}", f"{1000 * per_step:.1f}", f"{history.history['loss'][-1]:.3f}"], per_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.steps <= args.warmup:
        raise SystemExit(f"--steps ({args.steps}) must exceed --warmup ({args.warmup})")
    print(f"CPU: {harness.cpu_description()}\n")
    rows, seconds = [], {}
    for name, build in [
        ("realnvp (8 couplings, 64x64)", lambda: tfnf.flows.realnvp((2,), num_couplings=8, hidden_units=(64, 64))),
        ("ffjord (64x64, dopri5 1e-5, exact trace)", lambda: tfnf.flows.ffjord((2,), hidden_units=(64, 64))),
    ]:
        row, seconds[name] = measure(name, build(), args.steps, args.batch_size, args.warmup)
        rows.append(row)
    harness.print_table(["flow", "parameters", "batch", "timed steps", "first step s", "ms/step", "last loss"], rows)
    names = list(seconds)
    print(f"\nffjord / realnvp time per step: {seconds[names[1]] / seconds[names[0]]:.1f}x")


if __name__ == "__main__":
    main()
