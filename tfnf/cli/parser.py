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

# `patches`: 32x32x3 colour patches at 256 levels; `patch-vectors`: the 63-D grey patch vectors
# (tfnf.datasets.natural_patches, form "images" and "vectors").
PATCH_DATASETS = ("patches", "patch-vectors")
DATASETS = ("digits", *PATCH_DATASETS, *TOY2D_NAMES, *TFDS_IMAGE_NAMES)
FLOWS = COMMAND_LINE_FLOWS  # the builders `tfnf train` offers (tfnf.flow_registry)
COUPLINGS = ("affine", "additive")
SPLITS = ("train", "validation", "test")
DEFAULT_TEMPERATURES = (0.5, 0.7, 0.85, 1.0)
MAX_INT64 = 2**63 - 1  # TF Serving reads a version folder's name as an int64

# Training defaults that depend on the data: images (digits, patches, TFDS), 2-D toy densities or
# higher-dimensional vectors (patch-vectors). On digits they train a good model in about five minutes.
DEFAULTS = {
    "image": dict(epochs=1000, batch_size=64, learning_rate=1e-3, time_budget=240.0, dropout=0.3),
    "toy2d": dict(epochs=75, batch_size=512, learning_rate=1e-3, time_budget=600.0, dropout=0.0),
    "vectors": dict(epochs=1000, batch_size=256, learning_rate=1e-3, time_budget=240.0, dropout=0.0),
}
# Model sizes (`--levels`, `--steps`, `--hidden`, `--couplings`) left unset, and datasets whose
# defaults differ: 32x32x3 patches get a smaller Glow that trains at a few steps/s on 2 cores;
# on patch-vectors None means the builder's own default (widths growing with the dimension).
MODEL_DEFAULTS = dict(levels=2, steps=8, hidden=128, couplings=8)
DATASET_DEFAULTS = {
    "patches": dict(levels=3, steps=4, hidden=64, batch_size=32),
    "patch-vectors": dict(hidden=None, couplings=None),
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
    image, toy, vectors = (DEFAULTS[kind][option] for kind in ("image", "toy2d", "vectors"))
    if image == toy == vectors:
        return f"(default: {image:g})"
    text = f"{image:g} for images, {toy:g} for 2-D data, {vectors:g} for patch-vectors"
    return f"(default: {text}{_dataset_exceptions(option)})"


def _dataset_exceptions(option):
    """`; patches: 32` for the datasets whose default of `option` differs from their kind's."""
    given = [(name, values[option]) for name, values in DATASET_DEFAULTS.items() if option in values]
    return "".join(f"; {name}: {value if value is not None else 'the builder default'}" for name, value in given)


def _model_default(option):
    return f"(default: {MODEL_DEFAULTS[option]}{_dataset_exceptions(option)})"


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
    model.add_argument("--levels", type=integer("--levels"),
                       help=f"glow/realnvp on images: multi-scale levels {_model_default('levels')}")
    model.add_argument("--steps", type=integer("--steps"), help=f"glow: steps per level {_model_default('steps')}")
    model.add_argument("--hidden", type=integer("--hidden"),
                       help=f"conditioner width (conv channels or MLP units) {_model_default('hidden')}")
    model.add_argument("--couplings", type=integer("--couplings"),
                       help=f"realnvp/nice/nsf on vectors: number of couplings (maf/iaf: layers) {_model_default('couplings')}")
    model.add_argument("--coupling", default="affine", choices=COUPLINGS, help="glow: coupling transform")
    model.add_argument("--dropout", type=float, help=f"conditioner dropout while training {_by_kind('dropout')}")
    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=integer("--epochs"), help=f"maximum epochs {_by_kind('epochs')}")
    training.add_argument("--time-budget", type=float, metavar="SECONDS",
                          help=f"stop at the end of the first epoch past this many seconds {_by_kind('time_budget')}")
    training.add_argument("--batch-size", type=integer("--batch-size"),
                          help=f"examples per training step {_by_kind('batch_size')}")
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
