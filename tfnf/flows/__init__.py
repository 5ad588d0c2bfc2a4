"""Flow builders (each returns a `tfd.TransformedDistribution` over N(0, I)) and `DataFlow`."""

from __future__ import annotations

import tensorflow_probability as tfp

from tfnf.flows import bases
from tfnf.flows.bases import ClassConditionalGaussian, diagonal_gaussian, gaussian_mixture, with_base
from tfnf.flows.check_invertibility import check_invertibility
from tfnf.flows.condition import condition, flow_context
from tfnf.flows.flow_distribution import check_serializable, flow_config, make_flow, standard_normal
from tfnf.flows.ffjord import ffjord
from tfnf.flows.glow import glow
from tfnf.flows.iaf import iaf
from tfnf.flows.jet import jet
from tfnf.flows.maf import maf
from tfnf.flows.nice import nice
from tfnf.flows.nsf import nsf
from tfnf.flows.realnvp import realnvp
from tfnf.flows.tarflow import tarflow
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder
from tfnf.flow_registry import REGISTRY, FlowEntry, flow_entry, load_builder
from tfnf.flows.data_flow import DataFlow

#: The flow builders by name, as `build_flow` and the command line take them.
BUILDERS = {name: load_builder(name) for name in REGISTRY}


def build_flow(builder: str, **config) -> tfp.distributions.TransformedDistribution:
    """Build a flow by builder name (a key of `tfnf.flow_registry.REGISTRY`: `"glow"`, `"realnvp"`,
    `"nice"`, `"nsf"`, `"maf"`, `"iaf"`, `"jet"`, `"tarflow"`, `"ffjord"`) from its arguments, e.g. those a flow's
    description records (`flow_config(flow)["config"]`, whose `base` every builder takes).

    Raises:
      ValueError: an unknown builder name.
    """
    return load_builder(builder)(**config)


__all__ = [
    "Architecture",
    "BUILDERS",
    "FlowSetting",
    "REGISTRY",
    "ClassConditionalGaussian",
    "DataFlow",
    "build_flow",
    "check_invertibility",
    "check_serializable",
    "bases",
    "condition",
    "diagonal_gaussian",
    "ffjord",
    "flow_builder",
    "flow_config",
    "FlowEntry",
    "flow_entry",
    "flow_context",
    "gaussian_mixture",
    "glow",
    "iaf",
    "jet",
    "load_builder",
    "maf",
    "make_flow",
    "nice",
    "nsf",
    "realnvp",
    "standard_normal",
    "tarflow",
    "with_base",
]
