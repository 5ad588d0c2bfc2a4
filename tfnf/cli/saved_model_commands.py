"""`tfnf sample` and `tfnf evaluate`: commands that need only an exported SavedModel."""

import json
import math
import os

import numpy as np
import tensorflow as tf

from tfnf.cli.data_sources import CommandLineError, load_source
from tfnf.cli.evaluation import evaluate_log_prob
from tfnf.export import load_metadata
from tfnf.keras.image_grid import image_grid, save_image_grids


def load_saved_model(path):
    """Load an export written by `FlowModel.export`; `CommandLineError` if it is not one."""
    if not os.path.isdir(path) or not tf.saved_model.contains_saved_model(path):
        raise CommandLineError(f"{path!r} is not a SavedModel directory (expected saved_model.pb inside)")
    loaded = tf.saved_model.load(path)
    for name in ("log_prob", "sample_seeded"):
        if name not in loaded.signatures:
            raise CommandLineError(f"SavedModel {path!r} has no {name!r} signature; was it written by tfnf export?")
    if "condition" in loaded.signatures["log_prob"].structured_input_signature[1]:
        raise CommandLineError(
            f"SavedModel {path!r} is a conditional model; the command line does not pass conditions, "
            "call its signatures with a 'condition' input instead"
        )
    return loaded


def event_shape_of(loaded):
    """The event shape, from the `log_prob` signature's input `x: [None, *event_shape]`."""
    spec = loaded.signatures["log_prob"].structured_input_signature[1]["x"]
    return tuple(int(d) for d in spec.shape[1:])


def num_bins_of(path):
    """`num_bins` of a discrete-data export (from its metadata), else None."""
    try:
        return load_metadata(path)["num_bins"]
    except (OSError, KeyError, ValueError):
        raise CommandLineError(f"SavedModel {path!r} has no readable assets.extra/tfnf.json metadata") from None


def add_sample_arguments(parser):
    parser.add_argument("saved_model", help="directory of an exported SavedModel (…/<name>/<version>)")
    parser.add_argument("-n", "--num-samples", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="samples.png", help="PNG grid (images) or .npy file")


def run_sample(args):
    if args.num_samples <= 0:
        raise CommandLineError(f"--num-samples must be positive, got {args.num_samples}")
    if not 0 <= args.temperature < math.inf:
        raise CommandLineError(f"--temperature must be finite and >= 0, got {args.temperature}")
    loaded = load_saved_model(args.saved_model)
    outputs = loaded.signatures["sample_seeded"](
        num_samples=tf.constant(args.num_samples, tf.int32),
        temperature=tf.constant(args.temperature, tf.float32),
        seed=tf.constant([args.seed, 0], tf.int32),
    )
    num_bins = num_bins_of(args.saved_model)
    samples = (outputs["pixels"] if num_bins else outputs["samples"]).numpy()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    if args.out.endswith(".npy") or samples.ndim != 4:
        np.save(args.out, samples)
    else:
        save_image_grids(args.out, [image_grid(samples, num_bins)], [f"T = {args.temperature:g}"])
    print(f"wrote {len(samples)} samples to {args.out}")
    return samples


def add_evaluate_arguments(parser):
    parser.add_argument("saved_model", help="directory of an exported SavedModel")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--split", default="test", choices=("train", "validation", "test"))
    parser.add_argument("--data-dir", help="TFDS data_dir")
    parser.add_argument("--seed", type=int, default=0, help="seed of the 2-D toy data")
    parser.add_argument("--num-bits", type=int, default=8)
    parser.add_argument("--image-size", type=int)


def run_evaluate(args):
    loaded = load_saved_model(args.saved_model)
    event_shape = event_shape_of(loaded)
    source = load_source(args.dataset, seed=args.seed, data_dir=args.data_dir, num_bits=args.num_bits, image_size=args.image_size)
    if tuple(source.event_shape) != event_shape:
        raise CommandLineError(
            f"dataset {args.dataset!r} has events of shape {tuple(source.event_shape)}, the model expects {event_shape}"
        )
    num_bins = num_bins_of(args.saved_model)
    if num_bins != source.num_bins:
        raise CommandLineError(f"dataset {args.dataset!r} has num_bins={source.num_bins}, the model was trained with {num_bins}")
    log_prob = loaded.signatures["log_prob"]
    data = getattr(source, args.split)
    result = evaluate_log_prob(
        lambda b: log_prob(x=tf.constant(b, tf.float32))["log_prob"].numpy(), data, num_bins, int(np.prod(event_shape))
    )
    result.update(dataset=args.dataset, split=args.split)
    print(f"{args.dataset} {args.split}: NLL {result['nll']:.4f} nats, {result['bits_per_dim']:.4f} bits/dim")
    print(json.dumps(result))
    return result
