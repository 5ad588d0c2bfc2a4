"""The `tfnf` command: train, sample, evaluate, export.

Arguments are parsed before TensorFlow is imported (`tfnf --help` and
`tfnf --version` answer at once); the command's module loads afterwards, with
TensorFlow's logging quiet unless `--verbose`.
"""

import importlib
import sys

from tfnf.cli import quiet_logging
from tfnf.cli.errors import CommandLineError
from tfnf.cli.parser import build_parser


def load_handler(name):
    """The function `"module:function"` names, importing its module (and TensorFlow with it)."""
    module_name, function_name = name.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def main(argv=None):
    """Entry point; returns the exit status (0 ok, 2 user error, 130 interrupted by Ctrl-C).

    Every failure it reports (a `CommandLineError`, a `ValueError` or
    `TypeError` of a bad argument, an `OSError` on a file, a TensorFlow error
    such as an export refusing its inputs) is one line on stderr,
    `tfnf <command>: error: <what is wrong>`, and exit status 2.
    """
    args = build_parser().parse_args(argv)
    args.command_line = list(sys.argv[1:] if argv is None else argv)  # to tell how to resume an interrupted run
    verbose = getattr(args, "verbose", False)
    quiet_logging.configure(verbose)
    try:
        with quiet_logging.native_stderr_captured(enabled=not verbose):
            from tfnf._backend import ensure_tensorflow_backend

            ensure_tensorflow_backend()
            handler = load_handler(args.handler)
        quiet_logging.configure(verbose)  # absl's verbosity, now that TensorFlow has loaded it
        handler(args)
    except KeyboardInterrupt as error:  # Ctrl-C: what was kept and how to go on, no traceback
        print(f"tfnf {args.command}: interrupted" + (f"; {error}" if str(error) else ""), file=sys.stderr)
        return 130
    except (CommandLineError, ValueError, TypeError) as error:
        message = str(error)
    except OSError as error:  # a file the command reads or writes: `<file>: <reason>`
        from tfnf.cli.output_files import describe_os_error

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
