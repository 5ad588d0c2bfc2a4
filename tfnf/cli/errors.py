"""The error the command line reports as one line (kept free of TensorFlow imports)."""


class CommandLineError(Exception):
    """A user error the command line reports as one line and a non-zero exit."""
