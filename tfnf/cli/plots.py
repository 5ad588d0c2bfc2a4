"""Pictures the command line writes: loss curves and the 2-D views (density, samples, warping), patch vectors as grey patches."""

import numpy as np

from tfnf.files import save_figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_loss_curves(path, history, steps=None, epoch_ends=None, metric="bits_per_dim"):
    """Train and validation `metric` from a Keras history dict.

    With `steps` (`[(step, value), ...]`, e.g. `StepHistory.steps`) and
    `epoch_ends` (the step at which each epoch ended) the x axis is the training
    step: the per-step curve, with each epoch's train and validation values
    marked where the epoch ended, so one epoch already draws a curve and two
    points. Without them, the x axis is the epoch, every value marked.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    per_epoch = [(key, label) for key, label in ((metric, "train"), (f"val_{metric}", "validation")) if key in history]
    by_step = bool(steps) and epoch_ends is not None and all(len(history[key]) == len(epoch_ends) for key, _ in per_epoch)
    if by_step:
        step, value = np.asarray(steps, dtype=np.float64).T
        ax.plot(step, value, color="tab:blue", linewidth=1, alpha=0.6, label="train (running mean over the epoch)")
        for (key, label), colour in zip(per_epoch, ("tab:blue", "tab:orange")):
            ax.plot(epoch_ends, history[key], "o--", color=colour, label=f"{label}, end of epoch")
        ax.set_xlabel("training step")
    else:
        for key, label in per_epoch:
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], "o-", label=label)
        ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric.replace('_', ' ')} while training")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path


def save_density_2d(path, log_prob_fn, data, true_log_prob=None, extent=4.0, resolution=200):
    """Learned density as a heat map next to the data (and the true density when known)."""
    plt = _pyplot()
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    panels = [("data", None), ("learned density", np.exp(np.asarray(log_prob_fn(grid))).reshape(xx.shape))]
    if true_log_prob is not None:
        panels.append(("true density", np.exp(true_log_prob(grid.astype(np.float64))).reshape(xx.shape)))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.3))
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
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path


def save_samples_2d(path, samples, data=None, extent=None, title=None):
    """Samples of the model, `samples: [n, 2]`, drawn over the data `[m, 2]` if given.

    `extent`: half-width of the square shown; None: 4 with data, else wide enough
    for 99.5% of the samples."""
    plt = _pyplot()
    if extent is None:
        extent = 4.0 if data is not None else max(1.1 * float(np.percentile(np.abs(samples), 99.5)), 1e-3)
    fig, ax = plt.subplots(figsize=(5, 5.3))
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=2, color="0.6", alpha=0.5, label="data", rasterized=True)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, color="tab:red", alpha=0.5, label="samples", rasterized=True)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_title(title or ("model samples over the data" if data is not None else "model samples"))
    if data is not None:
        ax.legend(loc="upper right", markerscale=4)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path


def bijector_steps(bijector):
    """The bijectors of a chain in the order `forward` applies them (latent -> data), nested
    chains flattened and identities left out."""
    import tensorflow_probability as tfp

    from tfnf.private_apis import is_chain

    if is_chain(bijector):
        return [step for inner in reversed(bijector.bijectors) for step in bijector_steps(inner)]
    if isinstance(bijector, tfp.bijectors.Identity):
        return []
    return [bijector]


def latent_grid_lines(extent=3.0, num_lines=13, points_per_line=200):
    """Vertical then horizontal lines covering `[-extent, extent]^2`: `[2 * num_lines, points_per_line, 2]`."""
    position = np.linspace(-extent, extent, num_lines)
    along = np.linspace(-extent, extent, points_per_line)
    vertical = np.stack(np.broadcast_arrays(position[:, None], along[None, :]), axis=-1)
    horizontal = vertical[..., ::-1]
    return np.concatenate([vertical, horizontal]).astype(np.float32)


def warp_stages(bijector, lines):
    """`[(title, lines after it), ...]`: the latent lines, then after each bijector's `forward`."""
    steps = bijector_steps(bijector)
    shape = lines.shape
    points = lines.reshape(-1, 2)
    stages = [("latent (base)", lines)]
    for index, step in enumerate(steps, start=1):
        dtype = step.dtype.as_numpy_dtype if step.dtype is not None else np.float32
        points = np.asarray(step.forward(points.astype(dtype)), dtype=np.float64)
        stages.append((f"after {index}/{len(steps)}: {step.name}", points.reshape(shape)))
    return stages


def save_warping_2d(path, bijector, max_panels=6, extent=3.0):
    """A grid of lines in latent space carried to data space one bijector at a time.

    Shows the base grid, the grid after evenly spaced bijectors of the chain
    and after the last one (at most `max_panels` panels); vertical lines are
    blue-green, horizontal ones orange-red, each shade one line, so a line can be
    followed from panel to panel.
    """
    plt = _pyplot()
    lines = latent_grid_lines(extent)
    stages = warp_stages(bijector, lines)
    if len(stages) > max_panels:
        keep = np.unique(np.round(np.linspace(0, len(stages) - 1, max_panels)).astype(int))
        stages = [stages[i] for i in keep]
    columns = min(3, len(stages))
    rows = -(-len(stages) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.8 * rows), squeeze=False)
    half = len(lines) // 2
    colours = [plt.cm.winter(i / max(half - 1, 1)) for i in range(half)]
    colours += [plt.cm.autumn(i / max(half - 1, 1)) for i in range(half)]
    for ax, (title, warped) in zip(axes.ravel(), stages):
        for line, colour in zip(warped, colours):
            ax.plot(line[:, 0], line[:, 1], color=colour, linewidth=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[len(stages):]:
        ax.set_axis_off()
    fig.suptitle("a latent grid pushed through the flow, bijector by bijector")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path


def patch_pixels(vectors, contrast):
    """63-D patch vectors `[N, 63]` as grey 8x8 patches `[N, 8, 8, 1]` at 256 levels: the dropped
    pixel restored as minus the sum of the 63 (each patch's mean was removed,
    `tfnf.datasets.patches_of_vectors`), then `128 + 127 * value / contrast`, clipped, so a
    centred value of `contrast` is white and `-contrast` black."""
    from tfnf.datasets import patches_of_vectors

    return np.clip(np.rint(128.0 + 127.0 * patches_of_vectors(vectors) / contrast), 0, 255)


def save_patch_vectors(path, samples, data):
    """Model samples and data, both `[N, 63]` patch vectors, side by side as grids of 8x8 grey
    patches (`patch_pixels`), on one grey scale: the 99th percentile of the data's absolute
    centred pixel values maps to white (and its negative to black), so samples are shown as the
    data are and a sample of the wrong contrast looks it."""
    from tfnf.datasets import patches_of_vectors
    from tfnf.keras.image_grid import image_grid, save_image_grids

    contrast = max(float(np.percentile(np.abs(patches_of_vectors(data)), 99)), 1e-6)
    grids = [image_grid(patch_pixels(v, contrast), 256) for v in (samples, data)]
    save_image_grids(path, grids, [f"{len(samples)} samples", f"{len(data)} test patches"])
    return path
