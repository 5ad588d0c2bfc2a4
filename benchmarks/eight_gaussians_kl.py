"""KL(p || q) of a 2-D realnvp trained on a mixture of 8 Gaussians.

p: `tfnf.datasets.toy2d("eight_gaussians")`, an equal mixture of 8 isotropic
Gaussians (std 0.3) with means on a circle of radius 2 -- its log-density is
exact (`toy2d_log_prob`), so KL(p||q) = E_p[log p - log q] is estimated on 100k
fresh samples. q: `tfnf.flows.realnvp((2,), num_couplings=8, hidden_units=(64, 64))`
(whose conditioners read `x`, `sin(w x)`, `cos(w x)` for `w = 1, 2`: the builder's
default for vectors of at most 4 dimensions) trained 3000 steps of batch 512 with Adam(1e-3), keeping an exponential moving
average of the weights (momentum 0.99, Keras' `use_ema`), which is what is
evaluated. Each seed trains a fresh model on fresh data; eight seeds by
default, because the figure varies from seed to seed by about +-0.01 nats.

Run: `.venv/bin/python benchmarks/eight_gaussians_kl.py [--quick]` (prints a Markdown table).
`--mixing none lu reverse` compares the vector mixings between couplings
(`realnvp(..., mixing=...)`), `--conditioner mlp residual_mlp` the coupling
networks; every combination trains on the same seeds, alternating within a seed.
"""

import argparse
import time

import keras

import harness
import tfnf


def train_tfnf_realnvp(
    steps, batch_size, seed, jit_compile="auto", fourier_frequencies="auto", mixing=None, conditioner=None
):
    """Train the tfnf realnvp of this benchmark; returns `(model, seconds, timer)`.

    `seconds` is the wall time of `fit`; `timer` (a `StepTimer`) holds the first
    step's duration (tracing and compilation) and the steady-state steps/s.
    `jit_compile` goes to `FlowModel.compile` (Keras' "auto" means no XLA on CPU),
    `fourier_frequencies`, `mixing` and `conditioner` to `realnvp` (its default
    gives 2-D data Fourier features, no mixing, MLP conditioners).
    """
    keras.utils.set_random_seed(seed)
    flow = tfnf.flows.realnvp(
        (2,),
        num_couplings=8,
        hidden_units=(64, 64),
        fourier_frequencies=fourier_frequencies,
        mixing=mixing,
        seed=seed if mixing == "lu" else None,
        conditioner=conditioner,
    )
    model = tfnf.FlowModel(flow, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.99), jit_compile=jit_compile)
    data = harness.eight_gaussians_data(steps * batch_size, seed)
    timer = StepTimer()
    start = time.perf_counter()
    model.fit(data, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
    return model, time.perf_counter() - start, timer


class StepTimer(keras.callbacks.Callback):
    """Times the first training batch (tracing and compilation) and the steady state after `warmup` batches."""

    def __init__(self, warmup=10):
        super().__init__()
        self.warmup = warmup

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self.first_step_seconds = None
        self._warm = None
        self._last = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.first_step_seconds is None:
            self.first_step_seconds = now - self._start
        if batch == self.warmup:
            self._warm = now
        self._last = (batch, now)

    @property
    def steps_per_second(self):
        """Steady-state rate (batches after `warmup`), or None for too short a run."""
        if self._warm is None or self._last[0] <= self.warmup:
            return None
        return (self._last[0] - self.warmup) / (self._last[1] - self._warm)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0..7 (0 with --quick)")
    parser.add_argument("--quick", action="store_true", help="one seed")
    parser.add_argument("--mixing", nargs="+", default=["none"], choices=["none", "lu", "reverse"])
    parser.add_argument("--conditioner", nargs="+", default=["mlp"], choices=["mlp", "residual_mlp"])
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else list(range(8)))
    variants = [(m, c) for c in args.conditioner for m in args.mixing]
    rows, kls = [], {v: [] for v in variants}
    for seed in seeds:
        for mixing, conditioner in variants:
            model, seconds, _ = train_tfnf_realnvp(
                args.steps,
                args.batch_size,
                seed,
                mixing=None if mixing == "none" else mixing,
                conditioner=None if conditioner == "mlp" else conditioner,
            )
            kl = harness.eight_gaussians_kl(lambda x: model.log_prob(x).numpy())
            kls[(mixing, conditioner)].append(kl)
            label = f"tfnf realnvp (8 couplings, 64x64, mixing {mixing}, {conditioner})"
            rows.append([label, seed, args.steps, f"{args.steps / seconds:.1f}", f"{kl:.4f}"])
    harness.print_table(["model", "seed", "steps", "steps/s", "KL(p‖q) nats"], rows)
    for (mixing, conditioner), values in kls.items():
        print(
            f"\nmixing {mixing}, {conditioner}: KL over {len(values)} seeds: mean {sum(values) / len(values):.4f}, "
            f"min {min(values):.4f}, max {max(values):.4f}"
        )


if __name__ == "__main__":
    main()
