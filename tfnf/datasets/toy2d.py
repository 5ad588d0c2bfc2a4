"""`toy2d`: two-dimensional densities for testing and benchmarking flows.

All samplers return float32 arrays `[n, 2]` from `np.random.default_rng(seed)`,
with data roughly inside `[-4, 4]^2`. `moons` and `circles` are scikit-learn's
`make_moons` / `make_circles` (seeded from that generator), centred and scaled. Two have an exact log-density
(`toy2d_log_prob`), so a benchmark can report KL(p || q), not only NLL:

* `eight_gaussians`: equal mixture of 8 isotropic Gaussians, standard deviation
  `EIGHT_GAUSSIANS_STD = 0.3`, means evenly spaced on a circle of radius
  `EIGHT_GAUSSIANS_RADIUS = 2`.
* `checkerboard`: uniform on the 8 "black" cells (cell indices with even sum)
  of a 4x4 board of 2x2 cells covering `[-4, 4]^2`; density 1/32 there, 0 elsewhere.
"""

from __future__ import annotations

import math

import numpy as np

#: Radius of the circle the `eight_gaussians` means lie on.
EIGHT_GAUSSIANS_RADIUS: float = 2.0
#: Standard deviation of each `eight_gaussians` component.
EIGHT_GAUSSIANS_STD: float = 0.3
CHECKERBOARD_CELL = 2.0
#: The names `toy2d` takes.
TOY2D_NAMES: tuple[str, ...] = ("moons", "circles", "eight_gaussians", "checkerboard", "pinwheel", "two_spirals")
_EXACT = ("eight_gaussians", "checkerboard")


def _check_name(name: str) -> None:
    if name not in TOY2D_NAMES:
        raise ValueError(f"unknown 2-D dataset {name!r}; expected one of {TOY2D_NAMES}")


def eight_gaussian_means() -> np.ndarray:
    """The 8 mixture means, `[8, 2]`."""
    angles = 2 * math.pi * np.arange(8) / 8
    return EIGHT_GAUSSIANS_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _black_cells():
    return np.array([(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0], dtype=np.float64)


def _sklearn_seed(rng):
    """A seed for scikit-learn's generators, drawn from `rng` (so `toy2d`'s `seed` decides it)."""
    return int(rng.integers(2**31 - 1))


def _moons(rng, n):
    """scikit-learn's two interleaving half circles, centred and scaled by 2 (noise 0.1 after scaling)."""
    from sklearn.datasets import make_moons

    if n == 0:  # scikit-learn asks for at least one point
        return np.zeros((0, 2))
    points, _ = make_moons(n_samples=n, noise=0.05, random_state=_sklearn_seed(rng))
    return (points - [0.5, 0.25]) * 2.0


def _circles(rng, n):
    """scikit-learn's two concentric circles, radii 3 and 1.5 (noise 0.1 after scaling)."""
    from sklearn.datasets import make_circles

    if n == 0:
        return np.zeros((0, 2))
    points, _ = make_circles(n_samples=n, noise=0.1 / 3.0, factor=0.5, random_state=_sklearn_seed(rng))
    return 3.0 * points


def _eight_gaussians(rng, n):
    component = rng.integers(0, 8, size=n)
    return eight_gaussian_means()[component] + EIGHT_GAUSSIANS_STD * rng.standard_normal((n, 2))


def _checkerboard(rng, n):
    cells = _black_cells()[rng.integers(0, 8, size=n)]
    return -4.0 + CHECKERBOARD_CELL * (cells + rng.uniform(size=(n, 2)))


def _pinwheel(rng, n, arms=5):
    arm = rng.integers(0, arms, size=n)
    radial = 1.0 + 0.3 * rng.standard_normal(n)
    tangential = 0.08 * rng.standard_normal(n)
    angle = 2 * math.pi * arm / arms + 0.25 * np.exp(radial)
    x = radial * np.cos(angle) - tangential * np.sin(angle)
    y = radial * np.sin(angle) + tangential * np.cos(angle)
    return 1.5 * np.stack([x, y], axis=1)


def _two_spirals(rng, n):
    t = np.sqrt(rng.uniform(size=n)) * 3 * math.pi
    sign = np.where(rng.uniform(size=n) < 0.5, 1.0, -1.0)
    points = sign[:, None] * np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / math.pi
    return points + 0.1 * rng.standard_normal((n, 2))


_SAMPLERS = {
    "moons": _moons,
    "circles": _circles,
    "eight_gaussians": _eight_gaussians,
    "checkerboard": _checkerboard,
    "pinwheel": _pinwheel,
    "two_spirals": _two_spirals,
}


def toy2d(name: str, n: int, seed: int = 0) -> np.ndarray:
    """`n` points `[n, 2]` (float32) from the 2-D density `name` (see `TOY2D_NAMES`)."""
    _check_name(name)
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    rng = np.random.default_rng(seed)
    return _SAMPLERS[name](rng, int(n)).astype(np.float32)


def has_exact_log_prob(name: str) -> bool:
    """Whether `toy2d_log_prob` knows the closed-form density of `name`."""
    _check_name(name)
    return name in _EXACT


def toy2d_log_prob(name: str, x: np.ndarray) -> np.ndarray:
    """Exact log-density `[n]` (float64) of `x: [n, 2]` under `eight_gaussians` or `checkerboard`."""
    _check_name(name)
    if name not in _EXACT:
        raise ValueError(f"{name!r} has no closed-form density; only {_EXACT} do")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must have shape [n, 2], got {list(x.shape)}")
    if name == "eight_gaussians":
        var = EIGHT_GAUSSIANS_STD**2
        sq = ((x[:, None, :] - eight_gaussian_means()[None]) ** 2).sum(-1)
        log_components = -sq / (2 * var) - math.log(2 * math.pi * var) - math.log(8.0)
        top = log_components.max(axis=1)
        return top + np.log(np.exp(log_components - top[:, None]).sum(axis=1))
    cell = np.floor((x + 4.0) / CHECKERBOARD_CELL)
    inside = np.all((cell >= 0) & (cell <= 3), axis=1) & (cell.sum(axis=1) % 2 == 0)
    return np.where(inside, -math.log(8 * CHECKERBOARD_CELL**2), -np.inf)
