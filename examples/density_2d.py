"""Fit a 2-D realnvp to every toy density and draw learned vs true densities in one PNG.

    .venv/bin/python examples/density_2d.py [--steps 1500] [--out density_2d.png]

Prints the test NLL for each density, and KL(p||q) where the true density is known.
"""

import argparse

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tfnf  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--out", default="density_2d.png")
    args = parser.parse_args()
    names = tfnf.datasets.TOY2D_NAMES
    axis = np.linspace(-4, 4, 200, dtype=np.float32)
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
    fig, axes = plt.subplots(2, len(names), figsize=(3 * len(names), 6))
    for column, name in enumerate(names):
        data = tfnf.datasets.toy2d(name, args.steps * args.batch_size, seed=0)
        model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=8, hidden_units=(64, 64)))
        model.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.99))
        model.fit(data, batch_size=args.batch_size, epochs=1, verbose=0)
        test = tfnf.datasets.toy2d(name, 20000, seed=1)
        line = f"{name:16s} test NLL {-np.mean(model.log_prob(test).numpy()):.3f} nats"
        if tfnf.datasets.has_exact_log_prob(name):
            kl = np.mean(tfnf.datasets.toy2d_log_prob(name, test) - model.log_prob(test).numpy())
            line += f"   KL(p||q) {kl:.3f}"
        print(line)
        axes[0, column].hist2d(test[:, 0], test[:, 1], bins=100, range=[[-4, 4], [-4, 4]])
        axes[0, column].set_title(name)
        density = np.exp(model.log_prob(grid).numpy()).reshape(200, 200)
        axes[1, column].imshow(density, origin="lower", extent=[-4, 4, -4, 4])
        for ax in axes[:, column]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("data")
    axes[1, 0].set_ylabel("learned")
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
