"""`FlowModel`'s configuration: `as_flow` reads its `flow` argument (a distribution or a saved
description), `model_config` writes what `get_config` adds to Keras' own."""

from __future__ import annotations

from typing import Any

import tensorflow_probability as tfp

from tfnf.flows import build_flow, check_serializable
from tfnf.flows.vector_defaults import ACTNORM_ABOVE

tfd = tfp.distributions


def as_flow(flow: Any) -> tfd.Distribution:
    """`flow` itself (any `tfd.Distribution`, checked further by `DataFlow`), or the flow a
    builder description from `FlowModel.get_config` (`{"builder", "config", "dtype"}`) rebuilds.
    Raises `TypeError` for anything else."""
    if isinstance(flow, dict):  # from get_config
        config = dict(flow["config"])
        if flow["builder"] == "realnvp":
            # saved before realnvp had Fourier features: its conditioners read x alone
            config.setdefault("fourier_frequencies", ())
        if flow["builder"] in ("maf", "nsf", "realnvp") and len(config.get("event_shape", ())) == 1:
            # saved before these builders put an ActNorm on the data side of vectors of more than
            # ACTNORM_ABOVE dimensions (where the key is missing, None resolves as it did then)
            if config["event_shape"][0] > ACTNORM_ABOVE:
                config.setdefault("actnorm", False)
        return build_flow(flow["builder"], dtype=flow.get("dtype", "float32"), **config)
    if not isinstance(flow, tfd.Distribution):
        raise TypeError(f"flow must be a tfd.TransformedDistribution (e.g. tfnf.flows.glow(...)), got {type(flow).__name__}")
    return flow


def model_config(model: Any) -> dict[str, Any]:
    """The arguments that rebuild `model` (a `FlowModel`), its flow as the builder's description.

    Raises `NotImplementedError` for a flow no tfnf builder made (save its
    weights instead) and `check_serializable`'s error for a configuration
    holding a custom callable."""
    if model.flow_description is None:
        raise NotImplementedError(
            "FlowModel can only serialise flows built by tfnf.flows builders; "
            "use save_weights/load_weights for a custom flow"
        )
    check_serializable(model.flow_description)  # a custom conditioner callable cannot be saved
    return dict(
        flow=model.flow_description,
        num_bins=model.num_bins,
        preprocessing=model.preprocessing,
        clip_norm=model.clip_norm,
        init_batch_size=model.init_batch_size,
        logit_alpha=model.logit_alpha,
        max_consecutive_skips=model.guarded_update.limit,
        dequantization=model.dequantization,
        objective=model.objective,
    )
