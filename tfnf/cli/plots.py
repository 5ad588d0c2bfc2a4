"""Pictures the command line writes: loss curves and 2-D densities."""

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_loss_curves(path, history, metric="bits_per_dim"):
    """Plot train and validation `metric` per epoch from a Keras history dict."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
        if key in history:
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_density_2d(path, log_prob_fn, data, true_log_prob=None, extent=4.0, resolution=200):
    """Learned density on a grid next to the data (and the true density when known)."""
    plt = _pyplot()
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    panels = [("data", None), ("learned density", np.exp(np.asarray(log_prob_fn(grid))).reshape(xx.shape))]
    if true_log_prob is not None:
        panels.append(("true density", np.exp(true_log_prob(grid.astype(np.float64))).reshape(xx.shape)))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4))
    for ax, (title, density) in zip(axes, panels):
        if density is None:
            ax.hist2d(data[:, 0], data[:, 1], bins=resolution // 2, range=[[-extent, extent]] * 2, cmap="viridis")
        else:
            ax.imshow(density, origin="lower", extent=[-extent, extent, -extent, extent], cmap="viridis")
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
