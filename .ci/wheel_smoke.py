"""First contact with the installed wheel: run by `make test-wheel` with the fresh
virtualenv's Python, from a folder outside the repository (`python -I`, so neither
the working directory, the script's folder nor PYTHONPATH can supply the source).

Checks that `tfnf` is imported from that virtualenv's site-packages, that the wheel
holds every file of the repository's `tfnf/` package (so anything read at run time
ships), that the console script answers `--version` and `train --help`, and that a
2-D realnvp builds, fits one epoch and samples.

Usage: python -I wheel_smoke.py <repository> <wheel>
"""

import os
import subprocess
import sys
import sysconfig
import zipfile

import numpy as np


def check(condition, message):
    if not condition:
        sys.exit(f"wheel smoke test: {message}")


def package_files_in_wheel(repository, wheel):
    """Every file under the repository's `tfnf/` (caches left out) is in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    missing = []
    for folder, subfolders, files in os.walk(os.path.join(repository, "tfnf")):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        for name in files:
            if name.endswith(".pyc"):
                continue
            relative = os.path.relpath(os.path.join(folder, name), repository).replace(os.sep, "/")
            if relative not in shipped:
                missing.append(relative)
    check(not missing, f"files of the package missing from {wheel}: {missing}")


def console_script(*args):
    script = os.path.join(os.path.dirname(sys.executable), "tfnf")
    result = subprocess.run([script, *args], capture_output=True, text=True, timeout=300)
    check(result.returncode == 0, f"`tfnf {' '.join(args)}` exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def main(repository, wheel):
    import tfnf

    site_packages = sysconfig.get_paths()["purelib"]
    check(tfnf.__file__.startswith(site_packages), f"tfnf imported from {tfnf.__file__}, not from {site_packages}")
    package_files_in_wheel(repository, wheel)

    from importlib import metadata

    version = metadata.version("tfnf")
    check(console_script("--version").strip() == f"tfnf {version}", "`tfnf --version` does not print the version")
    check("--dataset" in console_script("train", "--help"), "`tfnf train --help` lists no --dataset")

    import keras

    keras.utils.set_random_seed(0)
    points = np.random.default_rng(0).standard_normal((256, 2)).astype("float32")
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(16, 16)))
    model.compile()
    history = model.fit(points, batch_size=64, epochs=1, verbose=0)
    samples = model.sample(8, seed=0).numpy()
    check(np.isfinite(history.history["loss"][-1]), f"the loss is not finite: {history.history['loss']}")
    check(samples.shape == (8, 2) and np.isfinite(samples).all(), f"bad samples {samples!r}")
    print(f"wheel smoke test: tfnf {version} from {os.path.dirname(tfnf.__file__)}: "
          f"--version, train --help, a realnvp fit (loss {history.history['loss'][-1]:.3f}) and 8 samples: ok")


if __name__ == "__main__":
    main(*sys.argv[1:])
