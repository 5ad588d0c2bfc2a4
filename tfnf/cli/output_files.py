"""One-line reports of failures the command line meets on files: messages and writes."""

import os

from tfnf.cli.errors import CommandLineError


def first_line(error):
    """The first non-empty line of `error`'s message, or its type name if it has none."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def describe_os_error(error, path=None):
    """`error` (an `OSError`) as `<file>: <reason>`, the file being `error.filename`
    (or `path` if it names none), the reason its `strerror` ("Permission denied")."""
    reason = error.strerror or first_line(error)
    filename = error.filename if error.filename is not None else path
    if filename is None:
        return reason
    return f"{os.fsdecode(filename)}: {reason}"


def write_output(path, write):
    """Create the folder of `path` if needed and call `write()`, which writes `path`.

    Raises:
      CommandLineError: naming `path` and what is wrong, if the folder cannot be
        made (a file stands in its way, no permission) or the write fails
        (`OSError`, or a `ValueError` such as an image format Matplotlib lacks).
    """
    folder = os.path.dirname(os.path.abspath(path))
    ancestor = folder
    while not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise CommandLineError(f"{path}: cannot write the file: {ancestor} is not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        write()
    except OSError as error:
        reason = error.strerror or first_line(error)
        if error.filename is not None and os.path.abspath(os.fsdecode(error.filename)) != os.path.abspath(path):
            reason = describe_os_error(error)
        raise CommandLineError(f"{path}: cannot write the file ({reason})") from None
    except ValueError as error:
        raise CommandLineError(f"{path}: cannot write the file ({first_line(error)})") from None
