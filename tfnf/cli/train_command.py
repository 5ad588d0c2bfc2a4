"""`tfnf train`: train a flow on a dataset, write pictures, metrics and a SavedModel."""

import os
import platform
import shlex
import time

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf
from tfnf import datasets, flow_registry
from tfnf.cli.data_sources import load_source
from tfnf.cli.errors import CommandLineError
from tfnf.cli.evaluation import evaluate_log_prob
from tfnf.cli.interrupt_watch import InterruptWatch
from tfnf.cli.parser import DATASET_DEFAULTS, DEFAULT_TEMPERATURES, DEFAULTS, FLOWS, MODEL_DEFAULTS
from tfnf.cli.plots import save_density_2d, save_loss_curves, save_patch_vectors, save_samples_2d, save_warping_2d
from tfnf.cli.step_history import StepHistory
from tfnf.files import backed_up_epochs, is_backup_folder, make_backup_folder, remove_backup_folder, write_json
from tfnf.keras import FlowModel, TimeBudgetCallback, image_grid, save_image_grids
from tfnf.rules.numbers import check_positive
from tfnf.rules.temperature import check_temperature

# A `tfnf train` option's value as a builder argument (others pass as they are).
AS_BUILDER_ARGUMENT = {"hidden_units": lambda hidden: (hidden, hidden)}


def check_arguments(args):
    """Reject out-of-range numeric options before any data are loaded."""
    positive = {
        "--epochs": args.epochs, "--time-budget": args.time_budget, "--batch-size": args.batch_size,
        "--learning-rate": args.learning_rate, "--levels": args.levels, "--steps": args.steps,
        "--hidden": args.hidden, "--couplings": args.couplings,
    }
    for flag, value in positive.items():
        if value is not None:
            check_positive(value, flag)
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise CommandLineError(f"--dropout must be in [0, 1), got {args.dropout}")
    for temperature in args.temperatures:
        check_temperature(temperature, "--temperatures")
    if args.patience < 0:
        raise CommandLineError(f"--patience must be >= 0, got {args.patience}")
    if not 1 <= args.num_bits <= 8:
        raise CommandLineError(f"--num-bits must be between 1 and 8, got {args.num_bits}")


def training_defaults(source):
    """The training defaults (`epochs`, `batch_size`, `learning_rate`, `time_budget`, `dropout`) of
    the source: its kind's (`DEFAULTS`), with its dataset's own where it has them."""
    defaults = dict(DEFAULTS[source.kind])
    defaults.update({k: v for k, v in DATASET_DEFAULTS.get(source.name, {}).items() if k in defaults})
    return defaults


def fill_model_defaults(args, dataset):
    """Give the model-size options left unset (`--levels`, `--steps`, `--hidden`, `--couplings`)
    their default for `dataset` (`MODEL_DEFAULTS`, `DATASET_DEFAULTS`); None leaves the builder's."""
    for option, value in MODEL_DEFAULTS.items():
        if getattr(args, option, None) is None:
            setattr(args, option, DATASET_DEFAULTS.get(dataset, {}).get(option, value))


def build_flow(args, source):
    """The flow named by `--flow`, sized by the options the registry maps to its arguments
    (`tfnf.flow_registry`), for the source's event shape; an option whose value is None is
    left to the builder's default."""
    if args.flow not in FLOWS:
        raise CommandLineError(f"unknown flow {args.flow!r}; choose one of: {', '.join(FLOWS)}")
    entry = flow_registry.REGISTRY[args.flow]
    shape = source.event_shape
    kind = flow_registry.IMAGE if len(shape) == 3 else flow_registry.VECTOR
    if kind not in entry.kinds:
        needs = "image" if flow_registry.IMAGE in entry.kinds else "vector"
        raise CommandLineError(f"{args.flow} needs {needs} data, dataset {source.name!r} has events of shape {shape}")
    arguments = {
        name: AS_BUILDER_ARGUMENT.get(name, lambda value: value)(getattr(args, option))
        for name, option in entry.options[kind].items()
        if getattr(args, option) is not None
    }
    try:
        return flow_registry.load_builder(args.flow)(shape, **arguments)
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


def sampling_temperatures(model, requested):
    """The temperatures of the sample grids: `requested` for a Gaussian base, else 1 only.

    Raises `ValueError` (`tfnf.rules.temperature`) if temperatures other than 1
    were asked for a base that is not Gaussian (its samples have no temperature).
    """
    if model.data_flow.gaussian_base:
        return tuple(requested)
    if requested != DEFAULT_TEMPERATURES:
        base = type(model.data_flow.base).__name__
        for temperature in requested:
            check_temperature(temperature, "--temperatures", gaussian_base=False, base=base)
    return (1.0,)


def write_pictures(model, source, out, temperatures, seed):
    """The pictures of a run, as paths relative to `out`.

    2-D data: density.png (data, learned and true density), samples.png
    (samples over the data) and warping.png (a latent grid pushed through the
    bijectors one at a time). Images: samples.png (one grid per temperature)
    and interpolation.png (latent interpolations between test images). Patch vectors:
    samples.png (64 samples beside 64 test vectors, as 8x8 grey patches; see `save_patch_vectors`).
    """
    if source.kind == "vectors":
        samples = model.sample(64, seed=seed).numpy()
        save_patch_vectors(os.path.join(out, "samples.png"), samples, source.test[:64])
        return ["samples.png"]
    if source.kind == "toy2d":
        true = datasets.toy2d_log_prob if datasets.has_exact_log_prob(source.name) else None
        true_fn = (lambda grid: true(source.name, grid)) if true else None
        save_density_2d(os.path.join(out, "density.png"), lambda g: model.log_prob(g).numpy(), source.test, true_fn)
        samples = model.sample(len(source.test), seed=seed).numpy()
        save_samples_2d(os.path.join(out, "samples.png"), samples, source.test)
        save_warping_2d(os.path.join(out, "warping.png"), model.bijector)
        return ["density.png", "samples.png", "warping.png"]
    quantized = model.num_bins is not None
    grids = [
        image_grid(model.sample(64, temperature=t, seed=seed, quantized=quantized).numpy(), model.num_bins)
        for t in temperatures
    ]
    save_image_grids(os.path.join(out, "samples.png"), grids, [f"T = {t:g}" for t in temperatures])
    test = source.test if isinstance(source.test, np.ndarray) else np.concatenate([b for b in source.test.take(2)])
    rows = model.interpolate(test[:6], test[6:12], steps=8).numpy()
    if model.num_bins:
        rows = model.to_pixels(rows).numpy()
    grid = image_grid(rows.reshape(-1, *model.event_shape), model.num_bins, columns=8)
    save_image_grids(os.path.join(out, "interpolation.png"), [grid], ["latent interpolation"])
    return ["samples.png", "interpolation.png"]


def prepare_backup(backup_dir, args):
    """The training backup folder of the run, ready for `BackupAndRestore` (see `tfnf.files.training_backups`).

    A backup of an interrupted run is resumed with `--resume`, discarded with
    `--restart`, and otherwise refused (never silently deleted); a folder
    tfnf did not make is never used nor deleted.
    """
    if args.resume and getattr(args, "restart", False):
        raise CommandLineError("--resume and --restart exclude each other: continue the backed-up run or start over")
    if os.path.lexists(backup_dir) and not is_backup_folder(backup_dir):
        raise CommandLineError(
            f"refusing to use {backup_dir} for the training backup: it exists and tfnf did not make it "
            "(a link, a file, or a folder without tfnf-backup.json); move it away or choose another --out"
        )
    if os.path.lexists(backup_dir):
        if getattr(args, "restart", False):
            remove_backup_folder(backup_dir)
        elif not args.resume:
            done = backed_up_epochs(backup_dir)
            raise CommandLineError(
                f"{backup_dir} holds the backup of an interrupted run"
                f"{f' ({done} epoch' + ('s' if done != 1 else '') + ' done)' if done is not None else ''}; "
                "pass --resume to continue it, or --restart to delete it and start over"
            )
    if not os.path.lexists(backup_dir):
        make_backup_folder(backup_dir)
    return backup_dir


def resume_command(args):
    """The command that continues this run: the one given (`args.command_line`) with `--resume`."""
    given = getattr(args, "command_line", None)
    if given is None:
        return "the same tfnf train command with --resume"
    words = [word for word in given if word != "--restart"]
    return shlex.join(["tfnf", *words, *([] if "--resume" in words else ["--resume"])])


def run(args):
    """Train, evaluate, draw and export; returns the metrics dict."""
    check_arguments(args)
    source = load_source(
        args.dataset, batch_size=args.batch_size or 64, seed=args.seed, data_dir=args.data_dir,
        num_bits=args.num_bits, image_size=args.image_size, download=args.download,
    )
    defaults = training_defaults(source)
    fill_model_defaults(args, source.name)
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
    temperatures = sampling_temperatures(model, tuple(args.temperatures))

    out = args.out
    os.makedirs(out, exist_ok=True)
    backup_dir = prepare_backup(os.path.join(out, "backup"), args)
    best_path = os.path.join(out, "model.keras")
    callbacks = [
        keras.callbacks.BackupAndRestore(backup_dir, save_freq="epoch", double_checkpoint=True, delete_checkpoint=False),
        keras.callbacks.EarlyStopping(
            monitor="val_bits_per_dim", mode="min", patience=args.patience, restore_best_weights=True
        ),
        TimeBudgetCallback(budget),
        StepHistory(),
    ]
    time_budget, step_history = callbacks[2], callbacks[3]
    in_memory = isinstance(source.train, np.ndarray)
    fit_kwargs = dict(batch_size=batch_size) if in_memory else {}
    validation = (source.validation,) if in_memory else source.validation
    if not args.quiet:
        print(
            f"note: training runs up to {epochs} epoch{'s' if epochs != 1 else ''} and stops at the end of the first epoch past "
            f"the time budget of {budget:g} s, even if epochs remain (--time-budget, --epochs)"
        )
    start = time.perf_counter()
    try:
        with InterruptWatch() as interrupt_watch:
            history = model.fit(
                source.train, validation_data=validation, epochs=epochs, callbacks=[*callbacks, interrupt_watch],
                verbose=0 if args.quiet else 2, **fit_kwargs
            )
    except KeyboardInterrupt:
        raise KeyboardInterrupt(
            f"the finished epochs are backed up in {backup_dir}\ncontinue with: {resume_command(args)}"
        ) from None
    train_seconds = time.perf_counter() - start
    epochs_run = len(history.history.get("loss", []))
    stopped_by_budget = time_budget.stopped_epoch is not None and time_budget.stopped_epoch < epochs
    if stopped_by_budget:
        print(f"stopped by the time budget ({budget:g} s) after {time_budget.stopped_epoch} of {epochs} epochs")
    model.save(best_path)  # the best-validation weights, restored by EarlyStopping

    test = evaluate_log_prob(lambda b: model.log_prob(b).numpy(), source.test, model.num_bins, model.num_dims)
    name = args.name or f"{source.name}_{args.flow}"
    export_path = model.export(os.path.join(out, "saved_models", name, str(args.model_version)))
    pictures = write_pictures(model, source, out, temperatures, args.seed)
    if history.history:
        save_loss_curves(os.path.join(out, "loss.png"), history.history, step_history.steps, step_history.epoch_ends)
        pictures.append("loss.png")
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
        "epochs_run": epochs_run,
        "epochs_requested": epochs,
        "stopped_by_time_budget": stopped_by_budget,
        "parameters": int(sum(int(np.prod(v.shape)) for v in model.trainable_variables)),
        "train_seconds": train_seconds,
        # XLA or not: jit_compile="auto"'s choice with its timings (per step, each mode)
        "jit_compile": (
            model.jit_compile_choice.describe() if model.jit_compile_choice is not None else f"jit_compile={model.jit_compile}"
        ),
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        # paths relative to the run's folder (`--out`)
        "saved_model": os.path.relpath(os.fspath(export_path), out),
        "keras_model": os.path.relpath(best_path, out),
        "pictures": pictures,
        "versions": _versions(),
    }
    write_json(os.path.join(out, "metrics.json"), metrics)
    remove_backup_folder(backup_dir)  # the run is complete: its model, export and metrics are written
    print(
        f"test NLL {test['nll']:.3f} nats, {test['bits_per_dim']:.4f} bits/dim; "
        f"{metrics['parameters']} parameters; {train_seconds:.0f} s; wrote {out}"
    )
    return metrics
