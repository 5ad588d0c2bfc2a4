"""Train a Glow on the bundled digits, keep the best-validation weights, report test bits/dim.

    .venv/bin/python examples/digits_glow.py [--minutes 4]

The same model as `make demo`, written out with the Python API.
"""

import argparse

import keras

import tfnf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    args = parser.parse_args()
    train, val, test = (tfnf.datasets.digits(s, as_numpy=True) for s in ("train", "validation", "test"))
    flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=8, hidden_channels=128, dropout=0.3, seed=0)
    model = tfnf.FlowModel(flow, num_bins=tfnf.datasets.DIGITS_NUM_BINS)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    callbacks = [
        tfnf.keras.TimeBudgetCallback(60 * args.minutes),
        keras.callbacks.ModelCheckpoint("digits_glow.keras", monitor="val_bits_per_dim", mode="min", save_best_only=True),
        tfnf.SampleGridCallback("digits_samples_{epoch:04d}.png", every_n_epochs=50, temperature=0.7),
    ]
    model.fit(train, batch_size=64, epochs=10000, validation_data=(val,), callbacks=callbacks, verbose=2)
    best = keras.models.load_model("digits_glow.keras")
    print("test", best.evaluate(test, verbose=0, return_dict=True))


if __name__ == "__main__":
    main()
