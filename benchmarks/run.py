"""Run every benchmark and print their Markdown tables.

    make bench        # or: .venv/bin/python benchmarks/run.py

Takes about 20 minutes on 2 CPU cores (3 x 5 minutes of digits training, then
3000 steps on eight Gaussians). Results of a run are kept in benchmarks/RESULTS.md.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ["digits_bits_per_dim.py", "eight_gaussians_kl.py"]


def main():
    for script in SCRIPTS:
        print(f"\n### {script}\n", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, script), *sys.argv[1:]], check=True)


if __name__ == "__main__":
    main()
