"""Samples at several temperatures and latent interpolations from a trained digits model.

    .venv/bin/python examples/temperature_and_interpolation.py [runs/digits-glow/model.keras]

Writes temperatures.png and interpolation_rows.png, and prints the pixel variance per temperature.
"""

import sys

import keras
import numpy as np

import tfnf


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "runs/digits-glow/model.keras"
    model = keras.models.load_model(path)
    temperatures = (0.0, 0.5, 0.7, 0.9, 1.0)
    grids = []
    for t in temperatures:
        pixels = model.sample(36, temperature=t, seed=0, quantized=True).numpy()
        print(f"T={t:.1f}  pixel variance across samples {pixels.var(axis=0).mean():.2f}")
        grids.append(tfnf.image_grid(pixels, model.num_bins))
    tfnf.save_image_grids("temperatures.png", grids, [f"T = {t}" for t in temperatures])
    test = tfnf.datasets.digits("test", as_numpy=True)
    rows = model.to_pixels(model.interpolate(test[:5], test[5:10], steps=10)).numpy()
    tfnf.save_image_grids("interpolation_rows.png", [tfnf.image_grid(rows.reshape(-1, 8, 8, 1), model.num_bins, columns=10)])
    print("wrote temperatures.png, interpolation_rows.png;", np.prod(rows.shape[:2]), "interpolated images")


if __name__ == "__main__":
    main()
