"""The `tfnf` command: train, sample, evaluate, export."""

import argparse
import os
import sys

from tfnf.cli.data_sources import CommandLineError
from tfnf.cli.output_files import describe_os_error


def build_parser():
    from tfnf.cli import export_command, saved_model_commands, train_command

    parser = argparse.ArgumentParser(prog="tfnf", description="Normalizing flows for TensorFlow and Keras.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a flow; write samples, metrics, .keras model and SavedModel")
    train_command.add_arguments(train)
    train.set_defaults(handler=train_command.run)
    sample = commands.add_parser("sample", help="draw samples from an exported SavedModel")
    saved_model_commands.add_sample_arguments(sample)
    sample.set_defaults(handler=saved_model_commands.run_sample)
    evaluate = commands.add_parser("evaluate", help="NLL and bits/dim of an exported SavedModel on a dataset")
    saved_model_commands.add_evaluate_arguments(evaluate)
    evaluate.set_defaults(handler=saved_model_commands.run_evaluate)
    export = commands.add_parser("export", help="export a .keras FlowModel as a SavedModel")
    export_command.add_arguments(export)
    export.set_defaults(handler=export_command.run)
    return parser


def main(argv=None):
    """Entry point; returns the exit status (0 ok, 2 user error).

    Every failure it reports (a `CommandLineError`, a `ValueError` or
    `TypeError` of a bad argument, an `OSError` on a file, a TensorFlow error
    such as an export refusing its inputs) is one line on stderr,
    `tfnf <command>: error: <what is wrong>`, and exit status 2.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (CommandLineError, ValueError, TypeError) as error:
        message = str(error)
    except OSError as error:  # a file the command reads or writes: `<file>: <reason>`
        message = describe_os_error(error)
    except Exception as error:
        if not type(error).__module__.startswith("tensorflow."):
            raise  # a bug, not a user error: keep its traceback
        message = tensorflow_error_line(error)  # e.g. an export's signature refusing its inputs
    else:
        return 0
    print(f"tfnf {args.command}: error: {one_line(message)}", file=sys.stderr)
    return 2


def tensorflow_error_line(error):
    """The line of a TensorFlow error that says what is wrong (an assertion's message, else its first line)."""
    lines = [line.strip() for line in str(getattr(error, "message", error)).splitlines() if line.strip()]
    for line in lines:
        if "assertion failed" in line:
            return line.split("[[", 1)[0].strip()
    return lines[0] if lines else type(error).__name__


def one_line(message):
    """`message` on one line: its lines joined by spaces (Keras and TensorFlow messages span several)."""
    return " ".join(line.strip() for line in str(message).splitlines() if line.strip())


if __name__ == "__main__":
    sys.exit(main())
