"""KL(p || q) on eight Gaussians: nsf vs realnvp at (about) equal parameter counts.

p: `tfnf.datasets.toy2d("eight_gaussians")` (exact log-density, so KL(p||q) =
E_p[log p - log q] on 100k fresh samples; `harness.eight_gaussians_kl`).
q: `tfnf.flows.realnvp((2,), num_couplings=8, hidden_units=(64, 64))`
(~37.4k parameters, its conditioners reading Fourier features of their input,
the builder's default for 2-D data) and `tfnf.flows.nsf((2,), num_couplings=6,
hidden_units=(64, 64), num_bins=8, bound=4.0)` (~34.7k), each trained 3000
steps of batch 512 with Adam(1e-3) and an EMA of the weights (momentum 0.99,
which is what is evaluated), as `eight_gaussians_kl.py`. Each seed trains fresh
models on fresh data.

`--models` adds nsf with the builder's options (`mixing="lu"`, `"reverse"`,
`conditioner="residual_mlp"`) under the same protocol.

Run: `.venv/bin/python benchmarks/nsf_vs_realnvp.py [--quick] [--models ...]` (prints a Markdown table).
"""

import argparse
import time

import keras

import harness
import tfnf

NSF = dict(num_couplings=6, hidden_units=(64, 64), num_bins=8, bound=4.0)
# key -> (table label, builder)
MODELS = {
    "realnvp": ("realnvp (8 couplings, 64x64)", lambda: tfnf.flows.realnvp((2,), num_couplings=8, hidden_units=(64, 64))),
    "nsf": ("nsf (6 couplings, 64x64, 8 bins, B=4)", lambda: tfnf.flows.nsf((2,), **NSF)),
    # the builder's options beside the default nsf
    "nsf-lu": ("nsf, mixing=\"lu\"", lambda: tfnf.flows.nsf((2,), mixing="lu", seed=0, **NSF)),
    "nsf-reverse": ("nsf, mixing=\"reverse\"", lambda: tfnf.flows.nsf((2,), mixing="reverse", **NSF)),
    "nsf-residual": (
        "nsf, conditioner=\"residual_mlp\" (2 blocks of 64)",
        lambda: tfnf.flows.nsf((2,), conditioner="residual_mlp", **NSF),
    ),
}
DEFAULT_MODELS = ["realnvp", "nsf"]


def train(build, steps, batch_size, seed):
    """Train one flow; returns `(model, parameters, seconds)`."""
    keras.utils.set_random_seed(seed)
    model = tfnf.FlowModel(build(), seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.99))
    data = harness.eight_gaussians_data(steps * batch_size, seed)
    start = time.perf_counter()
    model.fit(data, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return model, harness.parameter_count(model.trainable_variables), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="default 3000 (100 with --quick)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2 (0 with --quick)")
    parser.add_argument("--quick", action="store_true", help="one seed, 100 steps: a smoke run")
    parser.add_argument(
        "--models", nargs="+", default=DEFAULT_MODELS, choices=list(MODELS), help=f"default: {DEFAULT_MODELS}"
    )
    args, _ = parser.parse_known_args()
    steps = args.steps or (100 if args.quick else 3000)
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])
    rows = []
    for seed in seeds:
        for key in args.models:
            name, build = MODELS[key]
            model, parameters, seconds = train(build, steps, args.batch_size, seed)
            kl = harness.eight_gaussians_kl(lambda x: model.log_prob(x).numpy())
            rows.append([name, f"{parameters:,}", seed, steps, f"{steps / seconds:.1f}", f"{kl:.4f}"])
    print(f"CPU: {harness.cpu_description()}\n")
    harness.print_table(["model", "parameters", "seed", "steps", "steps/s", "KL(p‖q) nats"], rows)


if __name__ == "__main__":
    main()
