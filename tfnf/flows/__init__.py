"""Flow builders (each returns a `tfd.TransformedDistribution` over N(0, I)) and `DataFlow`."""

from tfnf.flows.check_invertibility import check_invertibility
from tfnf.flows.condition import condition, flow_context
from tfnf.flows.flow_distribution import flow_config, make_flow, standard_normal
from tfnf.flows.glow import glow
from tfnf.flows.iaf import iaf
from tfnf.flows.maf import maf
from tfnf.flows.nice import nice
from tfnf.flows.nsf import nsf
from tfnf.flows.realnvp import realnvp
from tfnf.flows.data_flow import DataFlow

BUILDERS = {"glow": glow, "realnvp": realnvp, "nice": nice, "nsf": nsf, "maf": maf, "iaf": iaf}


def build_flow(builder, **config):
    """Build a flow by builder name (a key of `BUILDERS`: `"glow"`, `"realnvp"`, `"nice"`, `"nsf"`, `"maf"`, `"iaf"`)."""
    if builder not in BUILDERS:
        raise ValueError(f"unknown flow builder {builder!r}; expected one of {sorted(BUILDERS)}")
    return BUILDERS[builder](**config)


__all__ = [
    "BUILDERS",
    "DataFlow",
    "build_flow",
    "check_invertibility",
    "condition",
    "flow_config",
    "flow_context",
    "glow",
    "iaf",
    "maf",
    "make_flow",
    "nice",
    "nsf",
    "realnvp",
    "standard_normal",
]
