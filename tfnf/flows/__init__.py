"""Flow builders: each returns a `tfd.TransformedDistribution` over N(0, I)."""

from tfnf.flows.check_invertibility import check_invertibility
from tfnf.flows.flow_distribution import flow_config, make_flow, standard_normal
from tfnf.flows.glow import glow
from tfnf.flows.nice import nice
from tfnf.flows.realnvp import realnvp

BUILDERS = {"glow": glow, "realnvp": realnvp, "nice": nice}


def build_flow(builder, **config):
    """Build a flow by builder name (`"glow"`, `"realnvp"`, `"nice"`)."""
    if builder not in BUILDERS:
        raise ValueError(f"unknown flow builder {builder!r}; expected one of {sorted(BUILDERS)}")
    return BUILDERS[builder](**config)


__all__ = ["BUILDERS", "build_flow", "check_invertibility", "flow_config", "glow", "make_flow", "nice", "realnvp", "standard_normal"]
