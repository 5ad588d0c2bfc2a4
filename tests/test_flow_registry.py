"""The one list of flow builders: `tfnf.flow_registry`, read by `build_flow`, the CLI and its help."""

import ast
import inspect

import tfnf
from tfnf import flow_registry
from tfnf.cli.parser import FLOWS, build_parser


def test_the_registry_is_every_builder_and_builds_flow():
    assert set(tfnf.flows.BUILDERS) == set(flow_registry.REGISTRY)
    for name, entry in flow_registry.REGISTRY.items():
        assert flow_registry.load_builder(name) is getattr(tfnf.flows, name)
        assert set(entry.kinds) <= {flow_registry.VECTOR, flow_registry.IMAGE}
        for kind, options in entry.options.items():
            assert kind in entry.kinds
            assert set(options.values()) <= {"levels", "steps", "hidden", "couplings", "coupling", "dropout", "seed"}


def test_the_command_line_offers_the_registered_flows_and_names_their_data():
    assert FLOWS == flow_registry.COMMAND_LINE_FLOWS
    assert "ffjord" not in FLOWS and set(FLOWS) <= set(flow_registry.REGISTRY)
    assert flow_registry.kinds_help() == "glow (images); realnvp, nice (vectors or images); nsf, maf, iaf (vectors)"
    (commands,) = [a for a in build_parser()._subparsers._group_actions if a.dest == "command"]
    assert " ".join(commands.choices["train"].format_help().split()).count("nsf, maf, iaf (vectors)") == 1


def test_the_registry_imports_no_tensorflow():
    """`tfnf --help` reads it (tests/cli/test_help.py runs the command); here, its own imports."""
    tree = ast.parse(inspect.getsource(flow_registry))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"dataclasses", "importlib", "typing"}
