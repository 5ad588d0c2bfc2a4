"""`tfnf --help`, `tfnf <command> --help` and `tfnf --version` answer without importing TensorFlow."""

import os
import subprocess
import sys
from importlib import metadata

import pytest

from tfnf.cli.parser import DATASETS, DEFAULT_TEMPERATURES, FLOWS, build_parser

HEAVY = ("tensorflow", "keras", "tensorflow_probability", "tensorflow_datasets", "sklearn", "matplotlib")


def run_importtime(*args):
    """`python -X importtime -m tfnf *args`: (stdout, the top-level packages it imported)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tfnf", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    imported = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            imported.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert imported, "no -X importtime lines: the check would prove nothing"
    return result.stdout, imported


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["sample", "--help"], ["evaluate", "--help"], ["export", "--help"], ["--version"]])
def test_help_and_version_import_no_heavy_package(args):
    stdout, imported = run_importtime(*args)
    assert "argparse" in imported and "tfnf" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
    assert stdout.strip()


def test_the_console_script_imports_no_heavy_package_for_help():
    script = os.path.join(os.path.dirname(sys.executable), "tfnf")
    if not os.path.isfile(script):
        pytest.skip("the tfnf console script is not installed next to this Python")
    code = (
        "import runpy, sys; sys.argv = [sys.argv[1], '--help']\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2:])))"
    )
    result = subprocess.run([sys.executable, "-c", code, script, *HEAVY], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage: tfnf" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_version_comes_from_the_package_metadata():
    stdout, _ = run_importtime("--version")
    assert stdout.strip() == f"tfnf {metadata.version('tfnf')}"


def test_train_help_lists_choices_and_defaults():
    (train,) = [a for a in build_parser()._subparsers._group_actions if a.dest == "command"]
    text = train.choices["train"].format_help()
    normalised = " ".join(text.split())
    for name in (*DATASETS, *FLOWS, "affine", "additive"):
        assert name in normalised, name
    for words in ("(default: digits)", "(default: glow)", "(default: 1000 for images, 75 for 2-D data, 1000 for patch-vectors)",
                  "(default: 240 for images, 600 for 2-D data, 240 for patch-vectors)", "(default: runs/digits-glow)",
                  "(default: 8; patches: 4)", "(default: 128; patches: 64; patch-vectors: the builder default)",
                  "(default: " + " ".join(f"{t:g}" for t in DEFAULT_TEMPERATURES) + ")"):
        assert words in normalised, words
    assert "default: None" not in normalised and "default: False" not in normalised
