"""Flow builders (each returns a `tfd.TransformedDistribution` over N(0, I)) and `DataFlow`."""

from tfnf.flows import bases
from tfnf.flows.bases import ClassConditionalGaussian, diagonal_gaussian, gaussian_mixture, with_base
from tfnf.flows.check_invertibility import check_invertibility
from tfnf.flows.condition import condition, flow_context
from tfnf.flows.flow_distribution import check_serializable, flow_config, make_flow, standard_normal
from tfnf.flows.ffjord import ffjord
from tfnf.flows.glow import glow
from tfnf.flows.iaf import iaf
from tfnf.flows.maf import maf
from tfnf.flows.nice import nice
from tfnf.flows.nsf import nsf
from tfnf.flows.realnvp import realnvp
from tfnf.flows.data_flow import DataFlow

BUILDERS = {"glow": glow, "realnvp": realnvp, "nice": nice, "nsf": nsf, "maf": maf, "iaf": iaf, "ffjord": ffjord}


def build_flow(builder, **config):
    """Build a flow by builder name (a key of `BUILDERS`: `"glow"`, `"realnvp"`, `"nice"`, `"nsf"`, `"maf"`, `"iaf"`).

    A `base` among `config` (as a flow's description records it) is applied with
    `with_base`, whichever the builder."""
    if builder not in BUILDERS:
        raise ValueError(f"unknown flow builder {builder!r}; expected one of {sorted(BUILDERS)}")
    base = config.pop("base", None)
    return with_base(BUILDERS[builder](**config), base)


__all__ = [
    "BUILDERS",
    "ClassConditionalGaussian",
    "DataFlow",
    "build_flow",
    "check_invertibility",
    "check_serializable",
    "bases",
    "condition",
    "diagonal_gaussian",
    "ffjord",
    "flow_config",
    "flow_context",
    "gaussian_mixture",
    "glow",
    "iaf",
    "maf",
    "make_flow",
    "nice",
    "nsf",
    "realnvp",
    "standard_normal",
    "with_base",
]
