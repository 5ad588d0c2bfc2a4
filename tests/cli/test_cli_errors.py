"""Every failure of the command line is one line on stderr naming the file and what is
wrong, with exit status 2: damaged SavedModels, unwritable outputs, corrupt inputs."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tfnf
from tfnf.cli.data_sources import CommandLineError
from tfnf.cli.main import main
from tfnf.cli.output_files import write_output

TINY = ["--levels", "1", "--steps", "1", "--hidden", "8", "--epochs", "1", "--quiet"]
REPOSITORY = Path(tfnf.__file__).resolve().parents[1]

# TensorFlow's own C++ log lines (absl format), which it writes to stderr at import
# whatever TF_CPP_MIN_LOG_LEVEL says ("Could not find cuda drivers ..."): not ours.
TENSORFLOW_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] )"
)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny glow on the digits, exported by `tfnf train` (as tests/cli/test_cli.py makes it)."""
    out = tmp_path_factory.mktemp("cli_errors") / "run"
    assert main(["train", "--dataset", "digits", "--flow", "glow", "--out", str(out), *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    return out / metrics["saved_model"]


def damaged_copy(saved_model, tmp_path, part):
    """A copy of `saved_model` whose file `part` is cut to half its size; returns (copy, the file)."""
    copy = tmp_path / "damaged"
    shutil.copytree(saved_model, copy)
    if part == "graph":
        damaged = copy / "saved_model.pb"
    else:
        (damaged,) = (copy / "variables").glob("variables.data-*")
    with open(damaged, "r+b") as handle:
        handle.truncate(damaged.stat().st_size // 2)
    return copy, damaged


def run_cli(*args):
    """`python -m tfnf *args` in a subprocess: (exit status, stdout, our stderr lines)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "tfnf", *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not TENSORFLOW_LOG.match(line)]
    return result.returncode, result.stdout, lines


@pytest.mark.parametrize("part", ["graph", "variables"])
@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_a_truncated_saved_model_is_one_line_naming_the_file(saved_model, tmp_path, part, command):
    copy, damaged = damaged_copy(saved_model, tmp_path, part)
    extra = ["--out", tmp_path / "grid.png"] if command == "sample" else ["--dataset", "digits"]
    status, _, lines = run_cli(command, copy, *extra)
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"tfnf {command}: error: {damaged}: "), lines[0]
    assert "truncated" in lines[0]
    assert not (tmp_path / "grid.png").exists()


@pytest.mark.parametrize("blocker", ["read_only_folder", "file_as_folder"])
def test_an_unwritable_out_is_one_line_naming_it(saved_model, tmp_path, blocker):
    if blocker == "read_only_folder":
        if os.name != "posix" or os.geteuid() == 0:
            pytest.skip("permissions do not stop root (or non-POSIX users) from writing")
        folder = tmp_path / "read_only"
        folder.mkdir()
        folder.chmod(0o500)
        out = folder / "grid.png"
    else:  # a path through a regular file fails for every user, root included
        (tmp_path / "file.txt").write_text("not a folder")
        out = tmp_path / "file.txt" / "grid.png"
    try:
        status, stdout, lines = run_cli("sample", saved_model, "-n", "4", "--out", out)
    finally:
        if blocker == "read_only_folder":
            folder.chmod(0o700)
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"tfnf sample: error: {out}: cannot write the file"), lines[0]
    assert "wrote" not in stdout


def test_sample_into_an_existing_folder_writes_inside_it_and_reports_that_file(saved_model, tmp_path, capsys):
    folder = tmp_path / "exp"
    folder.mkdir()
    assert main(["sample", str(saved_model), "-n", "4", "--out", str(folder)]) == 0
    written = folder / "samples.png"
    assert written.read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "exp.png").exists()
    assert capsys.readouterr().out.strip().endswith(f"to {written}")
    # without a suffix Matplotlib writes a PNG: the report says so
    assert main(["sample", str(saved_model), "-n", "4", "--out", str(tmp_path / "grid")]) == 0
    assert (tmp_path / "grid.png").is_file() and not (tmp_path / "grid").exists()
    assert capsys.readouterr().out.strip().endswith(f"to {tmp_path / 'grid.png'}")


@pytest.mark.parametrize("damage", ["index", "no_variables", "metadata", "empty_graph"])
def test_other_damage_names_the_file(saved_model, tmp_path, capsys, damage):
    copy = tmp_path / "damaged"
    shutil.copytree(saved_model, copy)
    if damage == "index":
        damaged = copy / "variables" / "variables.index"
        damaged.write_bytes(damaged.read_bytes()[:100])
    elif damage == "no_variables":
        shutil.rmtree(copy / "variables")
        damaged = copy / "variables" / "variables.index"
    elif damage == "metadata":
        damaged = copy / "assets.extra" / "tfnf.json"
        damaged.write_text('{"num_bins": ')
    else:
        damaged = copy / "saved_model.pb"
        damaged.write_bytes(b"")
    assert main(["sample", str(copy), "-n", "2", "--out", str(tmp_path / "s.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"tfnf sample: error: {damaged}: ") and len(err.splitlines()) == 1, err
    assert not (tmp_path / "s.npy").exists()


def test_export_of_a_truncated_keras_file_names_it(tmp_path, capsys):
    damaged = tmp_path / "model.keras"
    damaged.write_bytes(b"PK\x03\x04 cut short")
    assert main(["export", str(damaged), str(tmp_path / "exported")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"tfnf export: error: {damaged}: not a .keras zip archive; the file is truncated or corrupt"
    assert not (tmp_path / "exported").exists()


def test_write_output_names_the_file_of_any_os_error(tmp_path):
    target = tmp_path / "grid.png"

    def refuse():
        raise PermissionError(13, "Permission denied", str(target))

    with pytest.raises(CommandLineError, match=re.escape(f"{target}: cannot write the file (Permission denied)")):
        write_output(str(target), refuse)


def test_os_errors_reach_the_user_as_one_line(monkeypatch, capsys):
    from tfnf.cli import saved_model_commands

    def refuse(path):
        raise PermissionError(13, "Permission denied", "/somewhere/saved_model.pb")

    monkeypatch.setattr(saved_model_commands, "load_saved_model", refuse)
    assert main(["evaluate", "/somewhere"]) == 2
    assert capsys.readouterr().err.strip() == "tfnf evaluate: error: /somewhere/saved_model.pb: Permission denied"


def test_a_tensorflow_error_is_one_line_with_its_assertion(monkeypatch, capsys):
    """An export refusing its inputs at run time (an `InvalidArgumentError`) is one line, exit 2; a bug keeps its traceback."""
    import tensorflow as tf

    from tfnf.cli import main as cli_main
    from tfnf.cli import saved_model_commands

    @tf.function
    def refusing(x):
        tf.debugging.Assert(x > 0, ["num_samples must be positive, got", x])
        return x

    monkeypatch.setattr(saved_model_commands, "run_sample", lambda args: refusing(tf.constant(-3)))
    assert cli_main.main(["sample", "anywhere"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines == ["tfnf sample: error: assertion failed: [num_samples must be positive, got] [-3]"]

    def bug(args):
        raise KeyError("a bug")

    monkeypatch.setattr(saved_model_commands, "run_sample", bug)
    with pytest.raises(KeyError):
        cli_main.main(["sample", "anywhere"])


TAMPERED_METADATA = {
    "not_json": ("{num_bins: 17", "cannot be read"),
    "a_list": ("[17]", "expected an object"),
    "num_bins_a_string": ('{"num_bins": "17", "temperature": "1 only"}', "num_bins must be null or an integer"),
    "num_bins_a_float": ('{"num_bins": 17.5}', "num_bins must be null or an integer"),
    "temperature_a_number": ('{"num_bins": 17, "temperature": 1}', "temperature must be a string"),
    "gaussian_base_a_string": ('{"num_bins": 17, "gaussian_base": "yes"}', "gaussian_base must be true or false"),
}


@pytest.mark.parametrize("command", ["sample", "evaluate"])
@pytest.mark.parametrize("tampering", sorted(TAMPERED_METADATA))
def test_a_tampered_tfnf_json_is_one_line_naming_it_and_the_problem(saved_model, tmp_path, capsys, command, tampering):
    text, problem = TAMPERED_METADATA[tampering]
    copy = tmp_path / "tampered"
    shutil.copytree(saved_model, copy)
    (copy / "assets.extra" / "tfnf.json").write_text(text)
    extra = ["-n", "2", "--out", str(tmp_path / "s.png")] if command == "sample" else ["--dataset", "digits"]
    assert main([command, str(copy), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"tfnf {command}: error: {copy / 'assets.extra' / 'tfnf.json'}: "), err
    assert problem in err, err
    assert not (tmp_path / "s.png").exists()


def test_sample_seeds_past_int32_use_the_shared_seed_pair_and_never_wrap(saved_model, tmp_path):
    """`--seed` takes NumPy's range `[0, 2**32)`; each seed reaches the signature as
    `tfnf.rules.integers.seed_pair(seed)` (`[low 31 bits, bit 31]`), not wrapped to int32."""
    import tensorflow as tf

    from tfnf.rules.integers import seed_pair

    signature = tf.saved_model.load(str(saved_model)).signatures["sample_seeded"]
    for seed in (5, 2**31 + 5, 2**32 - 1):
        out = tmp_path / f"s{seed}.npy"
        argv = ["sample", str(saved_model), "-n", "2", "--seed", str(seed), "--temperature", "0.7", "--out", str(out)]
        assert main(argv) == 0
        expected = signature(
            num_samples=tf.constant(2), temperature=tf.constant(0.7), seed=tf.constant(seed_pair(seed))
        )["pixels"].numpy()
        np.testing.assert_array_equal(np.load(out), expected)


def test_exports_say_whether_their_base_is_gaussian_as_a_fact_or_in_the_old_phrase():
    from tfnf.cli.saved_model_commands import has_gaussian_base, metadata_problem

    assert has_gaussian_base({"num_bins": 17, "gaussian_base": False}) is False
    assert has_gaussian_base({"num_bins": 17, "gaussian_base": True, "temperature": "1 only"}) is True
    assert has_gaussian_base({"num_bins": None, "temperature": "1 only"}) is False  # written before the fact
    assert has_gaussian_base({"num_bins": None, "temperature": "scales the base's standardised noise"}) is True
    assert has_gaussian_base({"num_bins": None}) is True  # from before bases other than N(0, I)
    assert metadata_problem({"num_bins": 17, "gaussian_base": False, "base_distribution": "StudentT"}) is None
