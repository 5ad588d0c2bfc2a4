"""KL per context of conditional 2-D flows on eight Gaussians split by half of the circle.

p(x | c): the eight-Gaussians mixture of `tfnf.datasets.toy2d` (std 0.3,
means on a circle of radius 2 at angles k * 45 degrees) restricted to the
four components of one half: c = 0 for the components at 0-135 degrees, c = 1
for 180-315 degrees. Its log-density is exact, so KL(p(.|c) || q(.|c)) =
E_p[log p(x|c) - log q(x|c)] is estimated on 50k fresh samples per context.

q: each builder with `num_classes=2` (realnvp: 8 couplings 64x64; nsf: 4
spline couplings 64x64; maf: 4 layers 64x64), trained by `FlowModel.fit` on
`(x, c)` pairs, 3000 steps of batch 512, Adam(1e-3) with an EMA of the
weights (0.99), which is what is evaluated. For reference, a model that
ignores the context and learns all eight Gaussians exactly scores
KL(p(.|c) || p) = log 2 = 0.693 nats per context (printed as measured).

Run: `.venv/bin/python benchmarks/conditional_eight_gaussians.py [--quick]`
"""

import argparse
import math
import time

import keras
import numpy as np

import harness
import tfnf

FLOWS = {
    "realnvp": lambda: tfnf.flows.realnvp((2,), num_couplings=8, hidden_units=(64, 64), num_classes=2),
    "nsf": lambda: tfnf.flows.nsf((2,), num_couplings=4, hidden_units=(64, 64), num_classes=2),
    "maf": lambda: tfnf.flows.maf((2,), num_layers=4, hidden_units=(64, 64), num_classes=2),
}
COMPONENTS = {0: np.arange(4), 1: np.arange(4, 8)}  # the means of each half, by index


def half_data(n, seed):
    """`n` points `[n, 2]` of the eight Gaussians with their half `[n]` (int32)."""
    rng = np.random.default_rng(seed)
    component = rng.integers(0, 8, size=n)
    means = tfnf.datasets.eight_gaussian_means()
    x = means[component] + tfnf.datasets.EIGHT_GAUSSIANS_STD * rng.standard_normal((n, 2))
    return x.astype(np.float32), (component >= 4).astype(np.int32)


def log_p_given_half(x, half):
    """Exact `log p(x | half)` `[n]` (float64): the equal mixture of that half's four Gaussians."""
    var = tfnf.datasets.EIGHT_GAUSSIANS_STD**2
    means = tfnf.datasets.eight_gaussian_means()[COMPONENTS[half]]
    sq = ((np.asarray(x, np.float64)[:, None, :] - means[None]) ** 2).sum(-1)
    log_components = -sq / (2 * var) - math.log(2 * math.pi * var) - math.log(4.0)
    top = log_components.max(axis=1)
    return top + np.log(np.exp(log_components - top[:, None]).sum(axis=1))


def samples_of_half(n, half, seed):
    """`n` fresh points `[n, 2]` of `p(. | half)`."""
    rng = np.random.default_rng(seed)
    component = rng.choice(COMPONENTS[half], size=n)
    means = tfnf.datasets.eight_gaussian_means()
    return (means[component] + tfnf.datasets.EIGHT_GAUSSIANS_STD * rng.standard_normal((n, 2))).astype(np.float32)


def kl_per_half(log_q, n=50_000, seed=12345):
    """`{half: KL(p(.|half) || q(.|half))}` in nats; `log_q(x, half)` -> `[n]`."""
    result = {}
    for half in (0, 1):
        x = samples_of_half(n, half, seed + half)
        log_q_values = np.concatenate([np.asarray(log_q(x[i : i + 10_000], half)) for i in range(0, n, 10_000)])
        result[half] = float(np.mean(log_p_given_half(x, half) - log_q_values.astype(np.float64)))
    return result


def train(name, steps, batch_size, seed):
    """A conditional flow trained by `fit` on `(x, half)`; returns `(model, seconds)`."""
    keras.utils.set_random_seed(seed)
    model = tfnf.FlowModel(FLOWS[name](), seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.99))
    x, half = half_data(steps * batch_size, seed)
    start = time.perf_counter()
    model.fit(x, half, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return model, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 3000, 1000 with --quick)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2 (0 with --quick)")
    parser.add_argument("--flows", nargs="+", default=list(FLOWS), choices=list(FLOWS))
    parser.add_argument("--quick", action="store_true", help="one seed, 1000 steps")
    args = parser.parse_args()
    steps = args.steps or (1000 if args.quick else 3000)
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])
    print(f"CPU: {harness.cpu_description()}\n")
    rows = []
    for seed in seeds:
        for name in args.flows:
            model, seconds = train(name, steps, args.batch_size, seed)
            kl = kl_per_half(lambda x, half: model.log_prob(x, np.full(len(x), half, np.int32)).numpy())
            rows.append([name, seed, steps, f"{seconds:.1f}", f"{kl[0]:.4f}", f"{kl[1]:.4f}"])
    harness.print_table(["flow (num_classes=2)", "seed", "steps", "fit s", "KL upper half", "KL lower half"], rows)
    ignoring = kl_per_half(lambda x, half: tfnf.datasets.toy2d_log_prob("eight_gaussians", x))
    print(
        f"\nThe exact unconditional density scores KL {ignoring[0]:.4f} / {ignoring[1]:.4f} "
        "(upper / lower): what a model that ignores the context reaches at best."
    )


if __name__ == "__main__":
    main()
