"""Integer options: one range check (tfnf.rules.integers), refused by name, never wrapped."""

import pytest

from tfnf.cli.parser import build_parser

# (command line, the option the error must name)
REFUSED = [
    (["sample", "m", "-n", "3000000000"], "--num-samples"),
    (["sample", "m", "-n", "0"], "--num-samples"),
    (["sample", "m", "--seed", "-1"], "--seed"),
    (["sample", "m", "--seed", str(2**32)], "--seed"),
    (["evaluate", "m", "--seed", "-1"], "--seed"),
    (["train", "--seed", "-1"], "--seed"),
    (["train", "--model-version", "-1"], "--model-version"),
    (["train", "--model-version", "0"], "--model-version"),
    (["train", "--model-version", str(2**63)], "--model-version"),
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--batch-size", "3000000000"], "--batch-size"),
    (["train", "--levels", "1.5"], "--levels"),
    (["train", "--patience", "-1"], "--patience"),
    (["train", "--num-bits", "9"], "--num-bits"),
    (["evaluate", "m", "--image-size", "-4"], "--image-size"),
]


@pytest.mark.parametrize("argv, option", REFUSED, ids=[" ".join(a[2:] if a[0] != "train" else a[1:]) for a, _ in REFUSED])
def test_an_integer_out_of_range_is_refused_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    assert stop.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"tfnf {argv[0]}: error: argument ") and option in last.split(":", 2)[2], last
    assert "invalid" not in last and ": must be " in last  # ours, not argparse's generic "invalid int value"


def test_integers_in_range_pass_as_ints():
    args = build_parser().parse_args(
        ["train", "--seed", str(2**32 - 1), "--model-version", str(2**63 - 1), "--patience", "0", "--num-bits", "5"]
    )
    assert (args.seed, args.model_version, args.patience, args.num_bits) == (2**32 - 1, 2**63 - 1, 0, 5)
    args = build_parser().parse_args(["sample", "m", "-n", str(2**31 - 1), "--seed", "0"])
    assert (args.num_samples, args.seed) == (2**31 - 1, 0)
    assert build_parser().parse_args(["train"]).model_version == 1
