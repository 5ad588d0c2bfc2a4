"""Start-up time of the command line: `tfnf --help` and friends, each in a fresh process.

    .venv/bin/python benchmarks/cli_help.py [--quick] [--runs 7]

Every command runs `--runs` times as a new process (wall time from spawn to
exit); the table gives the median, fastest and slowest run, next to
`import tensorflow` in a fresh process for scale. `tfnf --help` parses its
arguments before anything imports TensorFlow, so it should stay well under
two seconds however long TensorFlow takes to load.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time


def cpu_model():
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_runs(command, runs):
    """Wall seconds of `runs` fresh runs of `command` (each must exit with status 0)."""
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        seconds.append(time.perf_counter() - start)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per command")
    parser.add_argument("--quick", action="store_true", help="3 runs per command")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    script = os.path.join(os.path.dirname(sys.executable), "tfnf")
    commands = [
        ("tfnf --help", [script, "--help"]),
        ("tfnf train --help", [script, "train", "--help"]),
        ("tfnf --version", [script, "--version"]),
        ("python -m tfnf --help", [sys.executable, "-m", "tfnf", "--help"]),
        ("python -c 'import tensorflow' (for scale)", [sys.executable, "-c", "import tensorflow"]),
    ]
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); Python {platform.python_version()}; {runs} runs each\n")
    print("| command | median s | fastest s | slowest s |")
    print("|---|---|---|---|")
    for label, command in commands:
        seconds = time_runs(command, runs)
        print(f"| `{label}` | {statistics.median(seconds):.2f} | {min(seconds):.2f} | {max(seconds):.2f} |", flush=True)


if __name__ == "__main__":
    main()
