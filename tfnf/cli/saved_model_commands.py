"""`tfnf sample` and `tfnf evaluate`: commands that need only an exported SavedModel."""

import glob
import json
import os

import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow.core.protobuf import saved_model_pb2

from tfnf.cli.data_sources import load_source
from tfnf.cli.errors import CommandLineError
from tfnf.cli.evaluation import evaluate_log_prob
from tfnf.cli.output_files import first_line, write_output
from tfnf.cli.plots import save_samples_2d
from tfnf.export import load_metadata
from tfnf.files import write_file
from tfnf.keras.image_grid import image_grid, save_image_grids
from tfnf.rules.integers import MAX_INT32, check_integer, seed_pair
from tfnf.rules.temperature import check_temperature, default_temperature


def unreadable_saved_model_part(path):
    """`(file, problem)` for the first part of the SavedModel at `path` that cannot be
    read: its graph (`saved_model.pb`), its variable index or its variable data
    (every tensor is read); None if all of them read."""
    graph = os.path.join(path, "saved_model.pb")
    if os.path.isfile(graph):
        proto = saved_model_pb2.SavedModel()
        try:
            with open(graph, "rb") as handle:
                proto.ParseFromString(handle.read())
        except (OSError, DecodeError) as error:
            return graph, f"cannot be parsed as a SavedModel graph ({first_line(error)}); the file is truncated or corrupt"
        if not proto.meta_graphs:
            return graph, "holds no graph; the file is empty or truncated"
    prefix = os.path.join(path, "variables", "variables")
    index = prefix + ".index"
    if not os.path.isfile(index):
        return index, "no such file; a SavedModel keeps its variable index there"
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = list(reader.get_variable_to_shape_map())
    except Exception as error:  # noqa: BLE001 - any failure to open the index is the index's fault
        return index, f"cannot be read as a variable index ({first_line(error)}); the file is truncated or corrupt"
    shards = sorted(glob.glob(glob.escape(prefix) + ".data-*"))
    data = shards[0] if len(shards) == 1 else prefix + ".data-*"
    for name in names:
        try:
            reader.get_tensor(name)
        except Exception as error:  # noqa: BLE001 - a tensor that cannot be read is the data file's fault
            return data, f"cannot be read ({first_line(error)}); the variable data are truncated or corrupt"
    return None


def load_saved_model(path):
    """Load an export written by `FlowModel.export`; `CommandLineError` if it is not one
    or cannot be read (the message names the file at fault: its graph, its variable
    index or data)."""
    if not os.path.isdir(path) or not tf.saved_model.contains_saved_model(path):
        raise CommandLineError(f"{path!r} is not a SavedModel directory (expected saved_model.pb inside)")
    try:
        loaded = tf.saved_model.load(path)
    except Exception as error:  # noqa: BLE001 - whatever TensorFlow raises, the SavedModel cannot be used
        part = unreadable_saved_model_part(path)
        if part is None:
            raise CommandLineError(f"{path}: cannot load the SavedModel ({first_line(error)})") from None
        raise CommandLineError(f"{part[0]}: {part[1]}") from None
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


def metadata_problem(found):
    """What is wrong with the parsed content of `tfnf.json` for the command line, or None.

    The commands read `num_bins` (null, or the number of grey levels: an
    integer >= 2), `gaussian_base` (a bool) and `base_distribution` (a string);
    exports written before `gaussian_base` was recorded say it in
    `temperature` (a string, `"1 only"` for a base that is not Gaussian). The
    other entries are for clients and are left alone.
    """
    if not isinstance(found, dict):
        return f"holds a JSON {type(found).__name__}, expected an object"
    if "num_bins" not in found:
        return "has no num_bins entry"
    num_bins = found["num_bins"]
    if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 2):
        return f"num_bins must be null or an integer >= 2, got {json.dumps(num_bins)}"
    if "gaussian_base" in found and not isinstance(found["gaussian_base"], bool):
        return f"gaussian_base must be true or false, got {json.dumps(found['gaussian_base'])}"
    for key in ("temperature", "base_distribution"):
        if key in found and not isinstance(found[key], str):
            return f"{key} must be a string, got {json.dumps(found[key])}"
    return None


def has_gaussian_base(metadata: dict) -> bool:
    """Whether the export's base is Gaussian (its samples take any temperature), from checked
    metadata: `gaussian_base`, else the phrase of older exports, else True (the oldest
    exports, from before bases other than N(0, I))."""
    if "gaussian_base" in metadata:
        return metadata["gaussian_base"]
    return metadata.get("temperature") != "1 only"


def metadata_of(path):
    """The tfnf metadata of an export (`assets.extra/tfnf.json`), checked; `CommandLineError`
    naming the file and what is wrong if it cannot be read, is not JSON or holds wrong types."""
    metadata = os.path.join(path, "assets.extra", "tfnf.json")
    try:
        found = load_metadata(path)
    except (OSError, ValueError, TypeError, tf.errors.OpError) as error:
        problem = f"cannot be read ({first_line(error)})"
    else:
        problem = metadata_problem(found)
    if problem is not None:
        raise CommandLineError(f"{metadata}: {problem}; the SavedModel's tfnf metadata are missing or corrupt")
    return found


def num_bins_of(path):
    """`num_bins` of a discrete-data export (from its metadata), else None."""
    return metadata_of(path)["num_bins"]


def sample_output_path(out, images):
    """The file `tfnf sample` writes for `--out`.

    None: `samples.png` (an image grid) or `samples.npy` (an array) in the
    working directory; an existing folder: that file inside it. A path without
    a suffix gets `.png` / `.npy` (as Matplotlib and NumPy would add); an array
    always ends in `.npy` (as `np.save` would make it), a `.png` asked for an
    array becoming `.npy` (`samples.png` -> `samples.npy`).
    """
    name = "samples.png" if images else "samples.npy"
    if out is None:
        return name
    if os.path.isdir(out):
        return os.path.join(out, name)
    if not images:
        if out.endswith(".npy"):
            return out
        return (out[: -len(".png")] if out.lower().endswith(".png") else out) + ".npy"
    return out if os.path.splitext(out)[1] else out + ".png"


def scatter_path(array_path):
    """The scatter plot written beside 2-D samples saved at `array_path` (`x.npy` -> `x.png`)."""
    return array_path[: -len(".npy")] + ".png"


def run_sample(args):
    check_integer(args.num_samples, "--num-samples", 1, MAX_INT32)
    if args.temperature is not None:
        check_temperature(args.temperature, "--temperature")
    loaded = load_saved_model(args.saved_model)
    metadata = metadata_of(args.saved_model)
    gaussian_base = has_gaussian_base(metadata)
    if args.temperature is None:
        args.temperature = default_temperature(gaussian_base)
    check_temperature(args.temperature, "--temperature", gaussian_base, str(metadata.get("base_distribution")))
    outputs = loaded.signatures["sample_seeded"](
        num_samples=tf.constant(args.num_samples, tf.int32),
        temperature=tf.constant(args.temperature, tf.float32),
        seed=tf.constant(seed_pair(args.seed, "--seed"), tf.int32),
    )
    num_bins = num_bins_of(args.saved_model)
    samples = (outputs["pixels"] if num_bins else outputs["samples"]).numpy()
    as_grid = samples.ndim == 4 and not (args.out or "").endswith(".npy")
    path = sample_output_path(args.out, as_grid)
    written = path
    if as_grid:
        write_output(path, lambda: save_image_grids(path, [image_grid(samples, num_bins)], [f"T = {args.temperature:g}"]))
    else:
        write_output(path, lambda: write_file(path, lambda temporary: np.save(temporary, samples)))
    if samples.ndim == 2 and samples.shape[1] == 2:  # 2-D points: also the picture
        picture = scatter_path(path)
        write_output(picture, lambda: save_samples_2d(picture, samples, title=f"{len(samples)} samples, T = {args.temperature:g}"))
        written = f"{path} and a scatter plot of them to {picture}"
    print(f"wrote {len(samples)} samples to {written}")
    return samples


def run_evaluate(args):
    loaded = load_saved_model(args.saved_model)
    num_bins = num_bins_of(args.saved_model)  # before loading data: a corrupt export fails at once
    event_shape = event_shape_of(loaded)
    source = load_source(
        args.dataset, seed=args.seed, data_dir=args.data_dir, num_bits=args.num_bits, image_size=args.image_size,
        download=args.download,
    )
    if tuple(source.event_shape) != event_shape:
        raise CommandLineError(
            f"dataset {args.dataset!r} has events of shape {tuple(source.event_shape)}, the model expects {event_shape}"
        )
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
