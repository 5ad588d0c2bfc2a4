"""Glow on TFDS cifar10 (needs network access or a prepared TFDS data_dir).

    .venv/bin/python examples/cifar10_glow.py [--download] [--epochs 10]

Glow-paper-style configuration: 3 levels x 32 steps, 512 hidden channels, 8-bit pixels.
See tfds_glow.py for every option.
"""

import sys

from tfds_glow import main

if __name__ == "__main__":
    sys.argv[1:1] = ["--dataset", "cifar10", "--levels", "3", "--steps", "32", "--hidden", "512", "--num-bits", "8"]
    main()
