"""Run every benchmark and print their Markdown tables.

    make bench        # or: .venv/bin/python benchmarks/run.py [--quick] [--only glow_vs_tfp.py ...]

A full run takes about two and a half hours on 2 CPU cores: exactness (~1 minute), digits
bits/dim (4 flows x 4 minutes of training), jet and tarflow against glow on digits (3 x 4 minutes,
plus sampling), uniform vs variational dequantisation
(2 x 5 minutes), glow given nothing, the class or the 4x4 digit (3 x 4 minutes), eight Gaussians
(3 seeds), conditional eight Gaussians (3 flows x 3 seeds, ~10 minutes), Glow against tfb.Glow (2 x 4 minutes
of training plus compilation and timing, ~18 minutes), the Glow step's breakdown (~5 minutes),
`fit` against the flow's plain step (~20 minutes),
RealNVP against tfb.RealNVP (~3 minutes), Glow scaling (~7 minutes), nsf against realnvp (3 seeds, ~25
minutes), MAF against IAF (~1 minute), tfnf's vector flows against TFP's MAF on 63-D natural image
patches (4 x 2 minutes), tfnf's glow and realnvp against tfb.Glow on 32x32x3 patches (3 x 10
minutes), mixed precision (~5 minutes), FFJORD's cost per step (~2
minutes) and the command line's start-up (`tfnf --help`, under a
minute). `--quick` shortens every budget.
Results of a run are kept in benchmarks/RESULTS.md.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = [
    "exactness.py",
    "digits_bits_per_dim.py",
    "transformer_flows_digits.py",
    "digits_dequantization.py",
    "digits_super_resolution.py",
    "eight_gaussians_kl.py",
    "conditional_eight_gaussians.py",
    "glow_vs_tfp.py",
    "mixed_precision.py",
    "glow_step_breakdown.py",
    "fit_speed.py",
    "realnvp_vs_tfp.py",
    "glow_scaling.py",
    "memory_saving.py",
    "nsf_vs_realnvp.py",
    "maf_vs_iaf.py",
    "natural_patch_vectors.py",
    "natural_patch_images.py",
    "ffjord_cost.py",
    "cli_help.py",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short budgets in every script")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, default=SCRIPTS, help="run only these scripts")
    args = parser.parse_args()
    for script in [s for s in SCRIPTS if s in args.only]:
        print(f"\n### {script}\n", flush=True)
        command = [sys.executable, os.path.join(HERE, script)] + (["--quick"] if args.quick else [])
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
