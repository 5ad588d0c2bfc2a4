"""How close `FlowModel.fit` comes to the flow's own plain training step, and what costs the rest.

The model: `tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=8, hidden_channels=128)` (dropout
0.3, the builder's default) in `tfnf.FlowModel(flow, num_bins=17)`, Adam(1e-3), batch 64, on the
digits training split; and a 32x32x3 glow with the builder's defaults (3 levels x 8 steps,
hidden 256, dropout 0.3), batch 64, on `tfnf.datasets.natural_patches(form="images")` (256 levels),
whose steps take about a second: 10 steps per short fit and 3 such epochs in the long fit.

Rows:
* plain step: the same flow and dequantised objective under one `tf.function` per step, dropout on,
  with a non-finite guard (the update applied under `tf.cond` only when loss and gradient norm are
  finite), Keras Adam; with XLA (the reference of every ratio) and without.
* `fit` on in-memory arrays and on a `tf.data` pipeline (`digits(..., batch_size=64)` repeated,
  its last batch partial as users write it), each with `compile(jit_compile=True)`, `False` and
  `compile()`'s defaults (`jit_compile="auto"`, 16 steps per execution); each as many short fits
  (50 steps per `fit` call) and as one long fit (10 epochs of 50 steps). Every model first runs a
  one-step `fit`, then warm-up fits of 50 steps (in which `"auto"` decides), and then the
  patterns are timed in alternating rounds (medians, after one untimed round), so load on the machine
  hits all alike.
  Arrays: the training images repeated to 3200 (50 batches per epoch).
* useful GFLOP/s: the FLOPs of one training step (counted by TensorFlow's graph profiler on the
  plain step's graph without XLA: the registered FLOP counts of its convolutions, their two
  gradients, matrix products and elementwise ops, at batch 64) times steps/s, as a share of the
  machine's float32 matmul peak (`harness.matmul_gflops`, best of XLA and TensorFlow's kernel,
  measured in the same run).

Profile: where `fit`'s time goes against the plain step, by adding `fit`'s parts one at a time on
the XLA model (each row timed in the same alternating rounds):
the plain step; `FlowModel`'s own train step in one XLA `tf.function` per step (adds gradient
clipping, the skip counter, the metrics); one long `fit` on arrays (adds the array pipeline and
Keras' loop of 16 steps per call); 50-step fits (adds the work of each `fit` call: input checks,
a new iterator, callbacks, the end-of-epoch logs); the same with one step per call (Keras' loop
and the batch callbacks per step); `fit` on the `tf.data` pipeline with its value checks; `fit`
with a callback reading the logs after every call.

Run: `.venv/bin/python benchmarks/fit_speed.py [--quick] [--no-images | --no-digits]` (digits about 20
minutes, --quick about 10 with 4 epochs in the long fit; the 32x32x3 part took 13 minutes on 2 Intel
cores, --quick has 2 timed rounds and a long fit of 2 epochs).
"""

import argparse
import statistics
import sys
import time

import numpy as np

import harness

BATCH_SIZE = 64
SHORT_STEPS = 50  # steps per short fit
LONG_EPOCHS = 10  # epochs of SHORT_STEPS in the long fit (4 with --quick)
MODES = (True, False, "auto")


def steps_per_second(rate):
    """A rate as printed: two decimals below 10 steps/s (a 32x32x3 step takes about a second)."""
    return f"{rate:.2f}" if rate < 10 else f"{rate:.1f}"


def mode_name(mode):
    return "defaults (auto)" if mode == "auto" else f"jit_compile={mode}"


DIGITS_GLOW = {"num_levels": 2, "num_steps": 8, "hidden_channels": 128}
IMAGES_GLOW = {"num_levels": 3}  # the builder's defaults otherwise


def build_model(event_shape, glow_options, num_bins, first, mode, seed=0):
    import keras

    import tfnf

    keras.utils.set_random_seed(seed)
    flow = tfnf.flows.glow(event_shape, **glow_options, seed=seed)
    model = tfnf.FlowModel(flow, num_bins=num_bins, seed=seed)
    if mode is None:
        model.initialize(first)
    elif mode == "auto":
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
    else:
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=mode)
    return model


def plain_step(model, jit_compile):
    """One guarded Adam step of `model`'s dequantised objective, dropout on: `x -> loss`."""
    import keras
    import tensorflow as tf

    variables = model.trainable_variables
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(variables)

    @tf.function(jit_compile=jit_compile)
    def step(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model(x, training=True))
        gradients = tape.gradient(loss, variables)
        finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(tf.linalg.global_norm(gradients)))

        def apply():
            optimizer.apply_gradients(zip(gradients, variables))
            return tf.constant(True)

        tf.cond(finite, apply, lambda: tf.constant(False))
        return loss

    return step


def step_flops(step, batch):
    """FLOPs of one call of the `tf.function` `step` on `batch`, from TensorFlow's graph profiler."""
    import tensorflow as tf

    graph = step.get_concrete_function(tf.TensorSpec(batch.shape, tf.float32)).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


class Loop:
    """Calls `step` on batches; `run(steps)` returns seconds."""

    def __init__(self, step, batches):
        self.step, self.batches, self.i = step, batches, 0

    def run(self, steps):
        start = time.perf_counter()
        out = None
        for _ in range(steps):
            out = self.step(self.batches[self.i % len(self.batches)])
            self.i += 1
        harness.block(out)
        return time.perf_counter() - start


class Fits:
    """A compiled model and its data; `short(n)` runs n fits of `steps` (an epoch of the arrays),
    `long()` one of `long_epochs` epochs. Each returns `(seconds, steps)`."""

    def __init__(self, model, data, kind, callbacks=(), long_epochs=LONG_EPOCHS, steps=SHORT_STEPS):
        self.model, self.data, self.kind, self.callbacks = model, data, kind, list(callbacks)
        self.long_epochs, self.steps = long_epochs, steps

    def fit(self, epochs=1, steps=None):
        before = int(self.model.optimizer.iterations.numpy())
        start = time.perf_counter()
        if self.kind == "arrays":
            self.model.fit(self.data, batch_size=BATCH_SIZE, epochs=epochs, verbose=0, callbacks=self.callbacks)
        else:
            steps = self.steps if steps is None else steps
            self.model.fit(self.data, steps_per_epoch=steps, epochs=epochs, verbose=0, callbacks=self.callbacks)
        return time.perf_counter() - start, int(self.model.optimizer.iterations.numpy()) - before

    def first(self):
        if self.kind == "arrays":
            before = int(self.model.optimizer.iterations.numpy())
            start = time.perf_counter()
            self.model.fit(self.data[:BATCH_SIZE], batch_size=BATCH_SIZE, verbose=0)
            return time.perf_counter() - start, int(self.model.optimizer.iterations.numpy()) - before
        return self.fit(steps=1)

    def short(self, n):
        results = [self.fit() for _ in range(n)]
        return sum(r[0] for r in results), sum(r[1] for r in results)

    def long(self):
        return self.fit(epochs=self.long_epochs)


class ReadLogs:
    """A callback that reads the logs after every train call (as a progress bar or a logger does)."""

    def __new__(cls):
        import keras

        class ReadLogsCallback(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                float(logs["loss"])

        return ReadLogsCallback()


def progress(message):
    """A time-stamped line on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def alternate(contenders, rounds):
    """`{name: median steps/s}` over `rounds`; `contenders` maps name -> `() -> (seconds, steps)`.

    One untimed round runs first: the first calls after every model was built ran up to twice
    as slow as later ones, in every contender alike (seen on a quiet machine), and would
    otherwise be one of the few timed rounds."""
    rates = {name: [] for name in contenders}
    for name, contender in contenders.items():
        seconds, steps = contender()
        progress(f"untimed round: {name}: {steps / seconds:.1f} steps/s")
    for r in range(rounds):
        names = list(contenders) if r % 2 == 0 else list(contenders)[::-1]
        for name in names:
            seconds, steps = contenders[name]()
            progress(f"round {r}: {name}: {steps / seconds:.1f} steps/s")
            rates[name].append(steps / seconds)
    return {name: statistics.median(values) for name, values in rates.items()}


def measure(event_shape, glow_options, num_bins, train, rounds, short_fits, kinds, profile, long_epochs, steps):
    """Rates of the plain steps, every fit pattern and (with `profile`) the profile rows; `steps`
    per short fit."""
    import keras
    import tensorflow as tf

    from tfnf.datasets.in_memory import as_dataset

    repeat = -(-steps * BATCH_SIZE // len(train))
    arrays = np.concatenate([train] * repeat)[: steps * BATCH_SIZE]
    dataset = as_dataset(train, batch_size=BATCH_SIZE, shuffle=True).repeat()
    rng = np.random.default_rng(0)
    batches = [tf.constant(arrays[rng.permutation(len(arrays))[:BATCH_SIZE]]) for _ in range(8)]
    first = train[:512]

    reference = build_model(event_shape, glow_options, num_bins, first, None)
    plain = {mode: plain_step(reference, mode) for mode in (True, False)}
    flops = step_flops(plain[False], batches[0])
    contenders, info = {}, {}
    for mode in (True, False):
        loop = Loop(plain[mode], batches)
        loop.run(3)
        contenders["plain", mode] = lambda loop=loop: (loop.run(steps * short_fits), steps * short_fits)
    models = {}
    for kind in kinds:
        for mode in MODES:
            model = build_model(event_shape, glow_options, num_bins, first, mode)
            fits = Fits(model, arrays if kind == "arrays" else dataset, kind, long_epochs=long_epochs, steps=steps)
            seconds, _ = fits.first()
            info[kind, mode, "first"] = seconds
            progress(f"{kind} {mode}: first fit {seconds:.1f} s")
            for _ in range(21):  # warm-up: "auto" decides here (in more fits where a fit is one call)
                fits.short(1)
                if model.jit_compile_choice is None or model.jit_compile_choice.decided:
                    break
            progress(f"{kind} {mode}: warmed up")
            choice = model.jit_compile_choice
            info[kind, mode, "choice"] = choice.jit_compile if choice is not None else mode
            models[kind, mode] = model
            contenders[kind, mode, "short"] = lambda fits=fits: fits.short(short_fits)
            contenders[kind, mode, "long"] = fits.long
    if profile:
        model = models["arrays", True]
        own_step = tf.function(model.train_step, jit_compile=True)
        own = Loop(lambda x: own_step(x)["loss"], batches)
        own.run(3)
        contenders["profile", "train_step"] = lambda: (own.run(steps * short_fits), steps * short_fits)
        model_one = build_model(event_shape, glow_options, num_bins, first, True)
        model_one.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True, steps_per_execution=1)
        one_step_calls = Fits(model_one, arrays, "arrays")
        one_step_calls.first()
        one_step_calls.short(1)
        contenders["profile", "one_step_per_call"] = lambda: one_step_calls.short(short_fits)
        read_logs = Fits(model, arrays, "arrays", callbacks=[ReadLogs()])
        contenders["profile", "read_logs"] = lambda: read_logs.short(short_fits)
    rates = alternate(contenders, rounds)
    return rates, info, flops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and fits")
    parser.add_argument("--no-images", action="store_true", help="digits only (skip the 32x32x3 glow)")
    parser.add_argument("--no-digits", action="store_true", help="the 32x32x3 glow only")
    parser.add_argument("--kinds", default="arrays,dataset", help="fit inputs to time")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile of fit's parts")
    args = parser.parse_args()
    import tensorflow as tf

    import tfnf

    rounds, short_fits, long_epochs = (2, 2, 4) if args.quick else (3, 4, LONG_EPOCHS)
    image_rounds, image_epochs = (2, 2) if args.quick else (3, 3)
    kinds = args.kinds.split(",")
    print(f"CPU: {harness.cpu_description()}; TensorFlow {tf.__version__}")
    peak = max(harness.matmul_gflops(jit_compile=True), harness.matmul_gflops(jit_compile=False))
    print(f"float32 matmul peak (2048x2048, best of XLA and TensorFlow's kernel): {peak:.0f} GFLOP/s\n")
    setups = [] if args.no_digits else [
        ("digits glow 8x8x1, 2 levels x 8 steps, hidden 128", (8, 8, 1), DIGITS_GLOW, 17,
         tfnf.datasets.digits("train", as_numpy=True), kinds, not args.no_profile,
         (rounds, short_fits, long_epochs, SHORT_STEPS))
    ]
    if not args.no_images:
        patches = tfnf.datasets.natural_patches("train", form="images", as_numpy=True)
        setups.append(("patches glow 32x32x3, builder defaults (3 levels x 8 steps, hidden 256)", (32, 32, 3),
                       IMAGES_GLOW, 256, patches, ["arrays"], False, (image_rounds, 1, image_epochs, 10)))
    for title, shape, glow_options, bins, train, setup_kinds, profile, (setup_rounds, setup_fits, epochs, steps) in setups:
        rates, info, flops = measure(
            shape, glow_options, bins, train, setup_rounds, setup_fits, setup_kinds, profile, epochs, steps
        )
        reference = rates["plain", True]

        def useful(rate):
            return f"{flops * rate / 1e9:.1f} ({100 * flops * rate / 1e9 / peak:.1f}%)"

        print(f"### {title}, batch {BATCH_SIZE}: {flops / 1e9:.2f} GFLOP per training step\n")
        rows = [[f"plain step, jit_compile={mode}", "", steps_per_second(rates["plain", mode]), harness.ratio(rates["plain", mode], reference),
                 useful(rates["plain", mode]), ""] for mode in (True, False)]
        for kind in setup_kinds:
            for mode in MODES:
                for pattern in ("short", "long"):
                    rate = rates[kind, mode, pattern]
                    label = f"{steps}-step fits" if pattern == "short" else f"one fit of {epochs * steps} steps"
                    rows.append([f"fit on {kind}, {mode_name(mode)}", label, steps_per_second(rate), harness.ratio(rate, reference),
                                 useful(rate), f"{info[kind, mode, 'first']:.1f} s, XLA={info[kind, mode, 'choice']}"])
        harness.print_table(["path", "pattern", "steps/s", "/ plain XLA step", "useful GFLOP/s (% of peak)",
                             "first 1-step fit, XLA used"], rows)
        print()
        if profile:
            parts = [
                ("plain step (dropout, non-finite guard)", rates["plain", True]),
                ("+ clipping, skip counter, metrics (FlowModel.train_step)", rates["profile", "train_step"]),
                ("fit on arrays, one long fit (pipeline, Keras' loop, 16 steps per call)", rates["arrays", True, "long"]),
                ("fit on arrays, 50-step fits (+ per-fit work: input checks, iterator, callbacks)", rates["arrays", True, "short"]),
                ("the same with steps_per_execution=1", rates["profile", "one_step_per_call"]),
                ("fit on the tf.data pipeline (value checks in the pipeline)", rates["dataset", True, "short"]
                 if ("dataset", True, "short") in rates else None),
                ("fit with a callback reading the logs after every call", rates["profile", "read_logs"]),
            ]
            print("Where fit's time goes (jit_compile=True, digits):\n")
            harness.print_table(["part", "steps/s", "ms/step", "/ plain XLA step"], [
                [name, f"{rate:.1f}", f"{1e3 / rate:.2f}", harness.ratio(rate, reference)] for name, rate in parts if rate
            ])
            print()


if __name__ == "__main__":
    main()
