"""Glow on a TFDS image dataset (needs network access or a prepared TFDS data_dir).

    .venv/bin/python examples/tfds_glow.py --dataset mnist   --levels 3 --steps 16 --hidden 256
    .venv/bin/python examples/tfds_glow.py --dataset cifar10 --levels 3 --steps 32 --hidden 512 --num-bits 8

Paper-sized configurations take GPU-days; the defaults here are a laptop-sized start.
"""

import argparse
import sys

import keras

import tfnf
from tfnf.cli.data_sources import unavailable_message  # the same flags, so the same advice


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=tfnf.datasets.TFDS_IMAGE_NAMES)
    parser.add_argument("--levels", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--num-bits", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data-dir")
    parser.add_argument("--download", action="store_true")
    args = parser.parse_args()
    load = dict(batch_size=args.batch_size, num_bits=args.num_bits, data_dir=args.data_dir, download=args.download)
    try:
        train = tfnf.datasets.tfds_images(args.dataset, split="train", random_flip=args.dataset != "mnist", **load)
        test = tfnf.datasets.tfds_images(args.dataset, split="test", shuffle=False, **load)
    except tfnf.datasets.DatasetUnavailableError as error:
        sys.exit(f"{parser.prog}: error: {unavailable_message(error)}")
    shape = tuple(train.element_spec.shape[1:])
    if args.dataset in ("mnist", "fashion_mnist"):
        train, test = (d.map(lambda x: keras.ops.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]])) for d in (train, test))
        shape = (32, 32, 1)  # padded so that three squeezes divide the size
    flow = tfnf.flows.glow(shape, num_levels=args.levels, num_steps=args.steps, hidden_channels=args.hidden)
    model = tfnf.FlowModel(flow, num_bins=tfnf.datasets.num_bins_for(args.num_bits))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(train, validation_data=test, epochs=args.epochs)
    print("test", model.evaluate(test, return_dict=True))
    model.export(f"saved_models/{args.dataset}_glow/1")


if __name__ == "__main__":
    main()
