"""The flow builders by name: what each models, where it lives and what the command line sets.

This module imports no TensorFlow (it sits outside `tfnf.flows`, whose
package imports every builder), so `tfnf --help` and the argument parser read
it at once; `load_builder` imports a builder only when it is used.
A new builder is one module (its architecture, `tfnf.flows.flow_builder`)
plus one entry here.
"""

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable

VECTOR, IMAGE = "vector", "image"


@dataclass(frozen=True)
class FlowEntry:
    """One builder.

    Attributes:
      name: the builder's name (`tfnf.flows.<name>`, `tfnf train --flow <name>`,
        the `"builder"` its flows record).
      module: the import path of the module defining the function `name`.
      kinds: the events it models: `VECTOR` `(D,)`, `IMAGE` `(H, W, C)` or both.
      options: per kind, builder argument -> `tfnf train` option (`"levels"`,
        `"steps"`, `"hidden"`, `"couplings"`, `"coupling"`, `"dropout"`, `"seed"`)
        that sets it; an empty mapping keeps the builder out of `tfnf train`.
    """

    name: str
    module: str
    kinds: tuple
    options: dict = field(default_factory=dict)

    @property
    def on_command_line(self) -> bool:
        """Whether `tfnf train --flow` offers this builder."""
        return bool(self.options)


_VECTOR_COUPLINGS = {"num_couplings": "couplings", "hidden_units": "hidden", "dropout": "dropout"}
_AUTOREGRESSIVE = {"num_layers": "couplings", "hidden_units": "hidden", "dropout": "dropout"}

#: Every flow builder's `FlowEntry`, by builder name.
REGISTRY = {
    entry.name: entry
    for entry in (
        FlowEntry("glow", "tfnf.flows.glow", (IMAGE,), {
            IMAGE: {"num_levels": "levels", "num_steps": "steps", "hidden_channels": "hidden", "coupling": "coupling",
                    "dropout": "dropout", "seed": "seed"},
        }),
        FlowEntry("realnvp", "tfnf.flows.realnvp", (VECTOR, IMAGE), {
            VECTOR: _VECTOR_COUPLINGS,
            IMAGE: {"num_levels": "levels", "hidden_channels": "hidden", "dropout": "dropout"},
        }),
        FlowEntry("nice", "tfnf.flows.nice", (VECTOR, IMAGE), {VECTOR: _VECTOR_COUPLINGS, IMAGE: _VECTOR_COUPLINGS}),
        FlowEntry("nsf", "tfnf.flows.nsf", (VECTOR,), {VECTOR: _VECTOR_COUPLINGS}),
        FlowEntry("maf", "tfnf.flows.maf", (VECTOR,), {VECTOR: _AUTOREGRESSIVE}),
        FlowEntry("iaf", "tfnf.flows.iaf", (VECTOR,), {VECTOR: _AUTOREGRESSIVE}),
        FlowEntry("jet", "tfnf.flows.jet", (IMAGE,)),
        FlowEntry("tarflow", "tfnf.flows.tarflow", (IMAGE,)),
        FlowEntry("ffjord", "tfnf.flows.ffjord", (VECTOR, IMAGE)),  # an ODE solve per evaluation: kept out of `tfnf train`
    )
}

COMMAND_LINE_FLOWS = tuple(name for name, entry in REGISTRY.items() if entry.on_command_line)


def flow_entry(name: str) -> FlowEntry:
    """The registry entry of builder `name`; `ValueError` naming the known ones otherwise."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown flow builder {name!r}; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def load_builder(name: str) -> Callable[..., Any]:
    """The builder function `name` (imports its module, and so TensorFlow)."""
    entry = flow_entry(name)
    return getattr(import_module(entry.module), entry.name)


def kinds_help(names=COMMAND_LINE_FLOWS) -> str:
    """`"glow (images); realnvp, nice (vectors or images); nsf, maf, iaf (vectors)"`, for help texts."""
    words = {(IMAGE,): "images", (VECTOR,): "vectors", (VECTOR, IMAGE): "vectors or images"}
    groups = {}
    for name in names:
        groups.setdefault(words[REGISTRY[name].kinds], []).append(name)
    return "; ".join(f"{', '.join(group)} ({kind})" for kind, group in groups.items())
