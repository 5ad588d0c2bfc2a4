"""`tfnf train`: train a flow on a dataset, write pictures, metrics and a SavedModel."""

import json
import math
import os
import platform
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf
from tfnf import datasets
from tfnf.cli.data_sources import CommandLineError, load_source
from tfnf.cli.evaluation import evaluate_log_prob
from tfnf.cli.plots import save_density_2d, save_loss_curves
from tfnf.keras import FlowModel, TimeBudgetCallback, image_grid, save_image_grids

FLOWS = ("glow", "realnvp", "nice", "nsf", "maf", "iaf")
VECTOR_ONLY_FLOWS = {"nsf": "num_couplings", "maf": "num_layers", "iaf": "num_layers"}

# Defaults that train a good model on the bundled digits in about five minutes.
DEFAULTS = {
    "image": dict(epochs=1000, batch_size=64, learning_rate=1e-3, time_budget=240.0, dropout=0.3),
    "toy2d": dict(epochs=75, batch_size=512, learning_rate=1e-3, time_budget=600.0, dropout=0.0),
}


def add_arguments(parser):
    parser.add_argument("--dataset", default="digits", help="digits, a 2-D toy density, or a TFDS image dataset")
    parser.add_argument("--flow", default="glow", help="glow, realnvp, nice; for 2-D data also nsf, maf, iaf")
    parser.add_argument("--out", default="runs/digits-glow", help="output directory")
    parser.add_argument("--epochs", type=int, help="maximum epochs (default: until the time budget)")
    parser.add_argument("--time-budget", type=float, help="stop after this many seconds of training")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", "--lr", type=float, dest="learning_rate")
    parser.add_argument("--levels", type=int, default=2, help="glow/realnvp image: multi-scale levels")
    parser.add_argument("--steps", type=int, default=8, help="glow: steps per level")
    parser.add_argument("--hidden", type=int, default=128, help="conditioner width (conv channels or MLP units)")
    parser.add_argument("--couplings", type=int, default=8, help="realnvp/nice/nsf vector flows: number of couplings (maf/iaf: layers)")
    parser.add_argument("--coupling", default="affine", help="glow: affine or additive")
    parser.add_argument("--dropout", type=float, help="conditioner dropout while training (default 0.3 images, 0 for 2-D)")
    parser.add_argument("--temperature", type=float, default=0.7, help="temperature of the second sample grid")
    parser.add_argument("--patience", type=int, default=40, help="stop after this many epochs without a better validation score")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", help="SavedModel name (default: <dataset>_<flow>)")
    parser.add_argument("--version", type=int, default=1, help="SavedModel version directory")
    parser.add_argument("--resume", action="store_true", help="resume an interrupted run from its backup")
    parser.add_argument("--data-dir", help="TFDS data_dir")
    parser.add_argument("--num-bits", type=int, default=8, help="TFDS images: bits per pixel (e.g. 5 as Glow)")
    parser.add_argument("--image-size", type=int, help="TFDS images: resize to this size")
    parser.add_argument("--verbose", type=int, default=2, help="Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch")


def check_arguments(args):
    """Reject out-of-range numeric options before any data are loaded."""
    positive = {
        "--epochs": args.epochs, "--time-budget": args.time_budget, "--batch-size": args.batch_size,
        "--learning-rate": args.learning_rate, "--levels": args.levels, "--steps": args.steps,
        "--hidden": args.hidden, "--couplings": args.couplings,
    }
    for flag, value in positive.items():
        if value is not None and not 0 < value < math.inf:
            raise CommandLineError(f"{flag} must be a positive number, got {value}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise CommandLineError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0 <= args.temperature < math.inf:
        raise CommandLineError(f"--temperature must be finite and >= 0, got {args.temperature}")
    if args.patience < 0:
        raise CommandLineError(f"--patience must be >= 0, got {args.patience}")
    if not 1 <= args.num_bits <= 8:
        raise CommandLineError(f"--num-bits must be between 1 and 8, got {args.num_bits}")


def build_flow(args, source):
    """The flow named by `--flow`, sized by the options, for the source's event shape."""
    shape = source.event_shape
    if args.flow not in FLOWS:
        raise CommandLineError(f"unknown flow {args.flow!r}; choose one of: {', '.join(FLOWS)}")
    try:
        if args.flow == "glow":
            if len(shape) != 3:
                raise CommandLineError(f"glow needs image data, dataset {source.name!r} has events of shape {shape}")
            return tfnf.flows.glow(
                shape, num_levels=args.levels, num_steps=args.steps, hidden_channels=args.hidden,
                coupling=args.coupling, dropout=args.dropout, seed=args.seed,
            )
        if args.flow == "realnvp":
            if len(shape) == 3:
                return tfnf.flows.realnvp(shape, num_levels=args.levels, hidden_channels=args.hidden, dropout=args.dropout)
            return tfnf.flows.realnvp(shape, num_couplings=args.couplings, hidden_units=(args.hidden, args.hidden), dropout=args.dropout)
        hidden_units = (args.hidden, args.hidden)
        if args.flow in VECTOR_ONLY_FLOWS:
            if len(shape) != 1:
                raise CommandLineError(f"{args.flow} needs vector data, dataset {source.name!r} has events of shape {shape}")
            size = {VECTOR_ONLY_FLOWS[args.flow]: args.couplings}
            return tfnf.flows.BUILDERS[args.flow](shape, hidden_units=hidden_units, dropout=args.dropout, **size)
        return tfnf.flows.nice(shape, num_couplings=args.couplings, hidden_units=hidden_units, dropout=args.dropout)
    except ValueError as error:
        raise CommandLineError(str(error)) from None


def _versions():
    return {
        "tfnf": tfnf.__version__,
        "tensorflow": tf.__version__,
        "tensorflow_probability": tfp.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def write_pictures(model, source, out, temperature, seed):
    """samples.png and interpolation.png for images, density.png for 2-D data."""
    written = []
    if source.kind == "toy2d":
        true = datasets.toy2d_log_prob if datasets.has_exact_log_prob(source.name) else None
        true_fn = (lambda grid: true(source.name, grid)) if true else None
        path = os.path.join(out, "density.png")
        written.append(save_density_2d(path, lambda g: model.log_prob(g).numpy(), source.test, true_fn))
        return written
    grids = [
        image_grid(model.sample(64, temperature=t, seed=seed, quantized=model.num_bins is not None).numpy(), model.num_bins)
        for t in (1.0, temperature)
    ]
    written.append(save_image_grids(os.path.join(out, "samples.png"), grids, ["T = 1.0", f"T = {temperature:g}"]))
    test = source.test if isinstance(source.test, np.ndarray) else np.concatenate([b for b in source.test.take(2)])
    rows = model.interpolate(test[:6], test[6:12], steps=8).numpy()
    if model.num_bins:
        rows = model.to_pixels(rows).numpy()
    grid = image_grid(rows.reshape(-1, *model.event_shape), model.num_bins, columns=8)
    written.append(save_image_grids(os.path.join(out, "interpolation.png"), [grid], ["latent interpolation"]))
    return written


def run(args):
    """Train, evaluate, draw and export; returns the metrics dict."""
    check_arguments(args)
    source = load_source(
        args.dataset, batch_size=args.batch_size or 64, seed=args.seed, data_dir=args.data_dir,
        num_bits=args.num_bits, image_size=args.image_size,
    )
    defaults = DEFAULTS[source.kind]
    epochs = args.epochs or defaults["epochs"]
    batch_size = args.batch_size or defaults["batch_size"]
    learning_rate = args.learning_rate or defaults["learning_rate"]
    budget = args.time_budget or defaults["time_budget"]
    if args.dropout is None:
        args.dropout = defaults["dropout"]
    flow = build_flow(args, source)
    keras.utils.set_random_seed(args.seed)
    model = FlowModel(flow, num_bins=source.num_bins, seed=args.seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))

    out = args.out
    os.makedirs(out, exist_ok=True)
    backup_dir = os.path.join(out, "backup")
    if not args.resume and os.path.exists(backup_dir):
        shutil.rmtree(backup_dir)
    best_path = os.path.join(out, "model.keras")
    callbacks = [
        keras.callbacks.BackupAndRestore(backup_dir, save_freq="epoch", double_checkpoint=True),
        keras.callbacks.EarlyStopping(
            monitor="val_bits_per_dim", mode="min", patience=args.patience, restore_best_weights=True
        ),
        TimeBudgetCallback(budget),
    ]
    in_memory = isinstance(source.train, np.ndarray)
    fit_kwargs = dict(batch_size=batch_size) if in_memory else {}
    validation = (source.validation,) if in_memory else source.validation
    start = time.perf_counter()
    history = model.fit(
        source.train, validation_data=validation, epochs=epochs, callbacks=callbacks, verbose=args.verbose, **fit_kwargs
    )
    train_seconds = time.perf_counter() - start
    model.save(best_path)  # the best-validation weights, restored by EarlyStopping

    test = evaluate_log_prob(lambda b: model.log_prob(b).numpy(), source.test, model.num_bins, model.num_dims)
    name = args.name or f"{source.name}_{args.flow}"
    export_path = model.export(os.path.join(out, "saved_models", name, str(args.version)))
    pictures = write_pictures(model, source, out, args.temperature, args.seed)
    if history.history:
        pictures.append(save_loss_curves(os.path.join(out, "loss.png"), history.history))
    val = history.history.get("val_bits_per_dim", [])
    metrics = {
        "dataset": source.name,
        "flow": args.flow,
        "flow_config": model.flow_description,
        "num_bins": model.num_bins,
        "test_nll": test["nll"],
        "test_bits_per_dim": test["bits_per_dim"],
        "test_examples": test["examples"],
        "best_validation_bits_per_dim": min(val) if val else None,
        "epochs_run": len(history.history.get("loss", [])),
        "parameters": int(sum(int(np.prod(v.shape)) for v in model.trainable_variables)),
        "train_seconds": train_seconds,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "saved_model": str(export_path),
        "keras_model": best_path,
        "pictures": pictures,
        "versions": _versions(),
    }
    with open(os.path.join(out, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2, default=str)
    shutil.rmtree(backup_dir, ignore_errors=True)
    print(
        f"test NLL {test['nll']:.3f} nats, {test['bits_per_dim']:.4f} bits/dim; "
        f"{metrics['parameters']} parameters; {train_seconds:.0f} s; wrote {out}"
    )
    return metrics
