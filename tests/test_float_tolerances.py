"""Guard: every float comparison with a relative tolerance also has an absolute floor.

`assert_allclose(a, b, rtol=r)` alone passes only if `|a - b| <= r |b|`, which
for values near zero (a log-density of -0.001) asks for more digits than
float32 arithmetic in another summation order (another CPU, two replicas) can
keep. Each such comparison states an `atol` (and `pytest.approx(rel=...)` an
`abs`) suited to the scale of what it compares.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOSENESS = {"assert_allclose", "allclose", "isclose", "assertAllClose"}


def comparisons_without_floor(source, filename="<test>"):
    """`[(line, call name), ...]` of closeness checks with `rtol=` but no `atol=`,
    or `pytest.approx` with `rel=` but no `abs=`, in Python `source`."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        keywords = {keyword.arg for keyword in node.keywords}
        if (name in CLOSENESS and "rtol" in keywords and "atol" not in keywords) or (
            name == "approx" and "rel" in keywords and "abs" not in keywords
        ):
            found.append((node.lineno, name))
    return found


def test_the_scan_finds_a_relative_tolerance_alone():
    source = (
        "np.testing.assert_allclose(a, b, rtol=1e-3)\n"
        "np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)\n"
        "assert x == pytest.approx(y, rel=1e-5)\n"
        "assert np.allclose(a, b)\n"
    )
    assert comparisons_without_floor(source) == [(1, "assert_allclose"), (3, "approx")]


def test_every_relative_tolerance_in_the_suite_has_an_absolute_floor():
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}: {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, name in comparisons_without_floor(path.read_text(), str(path))
    ]
    assert offenders == [], "give these an atol (abs for pytest.approx):\n" + "\n".join(offenders)
