"""`tfnf export`: a saved `.keras` FlowModel -> a SavedModel for TF Serving."""

import os
import zipfile

import keras

from tfnf.cli.errors import CommandLineError
from tfnf.keras import FlowModel


def run(args):
    if not os.path.isfile(args.keras_model) or not args.keras_model.endswith(".keras"):
        raise CommandLineError(f"{args.keras_model!r} is not a .keras file")
    if not zipfile.is_zipfile(args.keras_model):
        raise CommandLineError(f"{args.keras_model}: not a .keras zip archive; the file is truncated or corrupt")
    model = keras.models.load_model(args.keras_model)
    if not isinstance(model, FlowModel):
        raise CommandLineError(f"{args.keras_model!r} holds a {type(model).__name__}, not a tfnf FlowModel")
    try:
        path = model.export(args.directory)
    except ValueError as error:
        raise CommandLineError(str(error)) from None
    print(f"exported {args.keras_model} to {path}")
    return path
