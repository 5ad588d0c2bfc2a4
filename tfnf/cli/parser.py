"""The `tfnf` argument parser: every command, option, choice and default.

This module imports neither TensorFlow nor Keras, so `tfnf --help`,
`tfnf train --help` and `tfnf --version` answer at once; the command modules
(which do import them) load only after the arguments are parsed.
"""

import argparse
from importlib import metadata

from tfnf.datasets.tfds_images import TFDS_IMAGE_NAMES
from tfnf.flow_registry import COMMAND_LINE_FLOWS, kinds_help
from tfnf.datasets.toy2d import TOY2D_NAMES
from tfnf.rules.integers import MAX_INT32, MAX_SEED, check_integer

DATASETS = ("digits", *TOY2D_NAMES, *TFDS_IMAGE_NAMES)
FLOWS = COMMAND_LINE_FLOWS  # the builders `tfnf train` offers (tfnf.flow_registry)
COUPLINGS = ("affine", "additive")
SPLITS = ("train", "validation", "test")
DEFAULT_TEMPERATURES = (0.5, 0.7, 0.85, 1.0)
MAX_INT64 = 2**63 - 1  # TF Serving reads a version folder's name as an int64

# Training defaults that depend on the data: images (digits, TFDS) or 2-D toy densities.
# On digits they train a good model in about five minutes.
DEFAULTS = {
    "image": dict(epochs=1000, batch_size=64, learning_rate=1e-3, time_budget=240.0, dropout=0.3),
    "toy2d": dict(epochs=75, batch_size=512, learning_rate=1e-3, time_budget=600.0, dropout=0.0),
}

# `handler` names "module:function", imported only once the command is known.
HANDLERS = {
    "train": "tfnf.cli.train_command:run",
    "sample": "tfnf.cli.saved_model_commands:run_sample",
    "evaluate": "tfnf.cli.saved_model_commands:run_evaluate",
    "export": "tfnf.cli.export_command:run",
}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends `(default: ...)` to an option's help, except where there is no default value."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.help is None or "(default:" in action.help:
            return action.help
        return super()._get_help_string(action)


def tfnf_version():
    """The installed distribution's version (package metadata; no import of the package's modules)."""
    try:
        return metadata.version("tfnf")
    except metadata.PackageNotFoundError:
        return "unknown (not installed; run `pip install -e .`)"


def integer(option, minimum=1, maximum=MAX_INT32):
    """An argparse `type=` for the integer option `option` in `[minimum, maximum]`.

    Every integer option goes through `tfnf.rules.integers.check_integer`, so a
    value outside the range (`-n 3000000000`, `--seed -1`) is refused with a
    message naming the option instead of wrapping or failing later in NumPy or
    TensorFlow. Counts default to `[1, 2**31 - 1]` (TensorFlow's int32 sizes).
    """

    def parse(text):
        # argparse puts "argument <option>: " before the message, so it starts at "must be"
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        try:
            return check_integer(value, option, minimum, maximum)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix(f"{option} ")) from None

    return parse


def seed_integer(option="--seed"):
    """An argparse `type=` for a seed: an integer in `[0, 2**32 - 1]`, the range NumPy and Keras take."""
    return integer(option, 0, MAX_SEED)


def _by_kind(option):
    image, toy = DEFAULTS["image"][option], DEFAULTS["toy2d"][option]
    if image == toy:
        return f"(default: {image:g})"
    return f"(default: {image:g} for images, {toy:g} for 2-D data)"


def add_verbose_argument(parser):
    parser.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's own log messages (hidden otherwise)"
    )


def add_train_arguments(parser):
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="digits", choices=DATASETS, metavar="NAME",
                      help=f"dataset: {', '.join(DATASETS)}")
    data.add_argument("--download", action="store_true",
                      help="TFDS datasets: download and prepare the data if missing (needs network access)")
    data.add_argument("--data-dir", help="TFDS data directory (default: $TFDS_DATA_DIR or ~/tensorflow_datasets)")
    data.add_argument("--num-bits", type=integer("--num-bits", 1, 8), default=8, choices=range(1, 9), metavar="{1..8}",
                      help="TFDS images: bits per pixel (Glow used 5)")
    data.add_argument("--image-size", type=integer("--image-size"), help="TFDS images: resize to this size")
    model = parser.add_argument_group("model")
    model.add_argument("--flow", default="glow", choices=FLOWS, help=f"flow: {kinds_help()}")
    model.add_argument("--levels", type=integer("--levels"), default=2, help="glow/realnvp on images: multi-scale levels")
    model.add_argument("--steps", type=integer("--steps"), default=8, help="glow: steps per level")
    model.add_argument("--hidden", type=integer("--hidden"), default=128, help="conditioner width (conv channels or MLP units)")
    model.add_argument("--couplings", type=integer("--couplings"), default=8,
                       help="realnvp/nice/nsf on vectors: number of couplings (maf/iaf: layers)")
    model.add_argument("--coupling", default="affine", choices=COUPLINGS, help="glow: coupling transform")
    model.add_argument("--dropout", type=float, help=f"conditioner dropout while training {_by_kind('dropout')}")
    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=integer("--epochs"), help=f"maximum epochs {_by_kind('epochs')}")
    training.add_argument("--time-budget", type=float, metavar="SECONDS",
                          help=f"stop at the end of the first epoch past this many seconds {_by_kind('time_budget')}")
    training.add_argument("--batch-size", type=integer("--batch-size"), help=f"examples per training step {_by_kind('batch_size')}")
    training.add_argument("--learning-rate", "--lr", type=float, dest="learning_rate",
                          help=f"Adam learning rate {_by_kind('learning_rate')}")
    training.add_argument("--patience", type=integer("--patience", 0), default=40,
                          help="stop after this many epochs without a better validation score")
    training.add_argument("--seed", type=seed_integer(), default=0, help="seed of weights, data order and samples")
    training.add_argument("--resume", action="store_true", help="resume an interrupted run from <out>/backup")
    training.add_argument("--restart", action="store_true", help="delete the backup of an interrupted run in <out>/backup and start over")
    output = parser.add_argument_group("output")
    output.add_argument("--out", default="runs/digits-glow", help="output folder")
    output.add_argument("--name", help="SavedModel name (default: <dataset>_<flow>)")
    output.add_argument("--model-version", type=integer("--model-version", 1, MAX_INT64), default=1,
                        help="SavedModel version folder (TF Serving: a positive int64)")
    output.add_argument("--temperatures", type=float, nargs="+", default=DEFAULT_TEMPERATURES, metavar="T",
                        help="images: one sample grid per temperature; a base that is not Gaussian samples at 1 only "
                             f"(default: {' '.join(f'{t:g}' for t in DEFAULT_TEMPERATURES)})")
    output.add_argument("--quiet", action="store_true", help="no line per epoch")
    add_verbose_argument(output)


def add_sample_arguments(parser):
    parser.add_argument("saved_model", help="folder of an exported SavedModel (.../<name>/<version>)")
    parser.add_argument("-n", "--num-samples", type=integer("--num-samples"), default=64, help="number of samples")
    parser.add_argument("--temperature", type=float,
                        help="scale of the base noise (default: 0.7 for a Gaussian base; other bases take 1 only)")
    parser.add_argument("--seed", type=seed_integer(), default=0, help="sampling seed")
    parser.add_argument("--out",
                        help="PNG grid (images), or .npy file plus a scatter PNG beside it (2-D points) (default: samples.png / samples.npy; "
                             "in a folder: that file inside it)")
    add_verbose_argument(parser)


def add_evaluate_arguments(parser):
    parser.add_argument("saved_model", help="folder of an exported SavedModel")
    parser.add_argument("--dataset", default="digits", choices=DATASETS, metavar="NAME",
                        help=f"dataset: {', '.join(DATASETS)}")
    parser.add_argument("--split", default="test", choices=SPLITS, help="split to evaluate")
    parser.add_argument("--download", action="store_true",
                        help="TFDS datasets: download and prepare the data if missing (needs network access)")
    parser.add_argument("--data-dir", help="TFDS data directory (default: $TFDS_DATA_DIR or ~/tensorflow_datasets)")
    parser.add_argument("--seed", type=seed_integer(), default=0, help="seed of the 2-D toy data")
    parser.add_argument("--num-bits", type=integer("--num-bits", 1, 8), default=8, choices=range(1, 9), metavar="{1..8}",
                        help="TFDS images: bits per pixel")
    parser.add_argument("--image-size", type=integer("--image-size"), help="TFDS images: resize to this size")
    add_verbose_argument(parser)


def add_export_arguments(parser):
    parser.add_argument("keras_model", help="a FlowModel saved as .keras")
    parser.add_argument("directory", help="SavedModel folder, e.g. saved_models/digits_glow/1")
    add_verbose_argument(parser)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tfnf", description="Normalizing flows for TensorFlow and Keras.", formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"tfnf {tfnf_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, add in (
        ("train", "train a flow; write pictures, metrics, a .keras model and a SavedModel", add_train_arguments),
        ("sample", "draw samples from an exported SavedModel", add_sample_arguments),
        ("evaluate", "NLL and bits/dim of an exported SavedModel on a dataset", add_evaluate_arguments),
        ("export", "export a .keras FlowModel as a SavedModel", add_export_arguments),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter)
        add(command)
        command.set_defaults(handler=HANDLERS[name])
    return parser
