"""Glow on TFDS mnist (needs network access or a prepared TFDS data_dir).

    .venv/bin/python examples/mnist_glow.py [--download] [--epochs 10]

Glow-paper-style configuration: 3 levels x 16 steps, 256 hidden channels, 5-bit pixels.
See tfds_glow.py for every option.
"""

import sys

from tfds_glow import main

if __name__ == "__main__":
    sys.argv[1:1] = ["--dataset", "mnist", "--levels", "3", "--steps", "16", "--hidden", "256", "--num-bits", "5"]
    main()
