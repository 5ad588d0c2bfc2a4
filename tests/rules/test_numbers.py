"""The real-number rules: `check_real`, `check_positive`, `check_fraction`, and the
builders' checks that call them."""

import math

import numpy as np
import pytest

from tfnf.flows import argument_checks
from tfnf.rules.integers import check_integer
from tfnf.rules.numbers import check_fraction, check_positive, check_real


@pytest.mark.parametrize("value", [0.5, 2, np.float32(0.25), np.int64(3), np.array(1.5)])
def test_real_numbers_come_back_as_python_floats(value):
    number = check_real(value, "x")
    assert type(number) is float and number == float(np.asarray(value))


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.3", None, [0.1], np.array([0.1])])
def test_anything_but_a_real_number_is_a_type_error_naming_it(value):
    with pytest.raises(TypeError, match=r"^rate must be a real number, got "):
        check_real(value, "rate")


@pytest.mark.parametrize("value", [0, -1.0, math.inf, math.nan])
def test_positive_refuses_zero_negative_and_non_finite(value):
    with pytest.raises(ValueError, match=r"^clip_norm must be a positive number, got "):
        check_positive(value, "clip_norm")


@pytest.mark.parametrize("value, accepted", [(0.0, True), (0.999, True), (1.0, False), (-0.1, False), (math.nan, False)])
def test_fraction_is_the_half_open_unit_interval(value, accepted):
    if accepted:
        assert check_fraction(value, "dropout") == value
    else:
        with pytest.raises(ValueError, match=r"^dropout must be a number in \[0, 1\), got "):
            check_fraction(value, "dropout")


def test_expected_phrases_both_integer_messages():
    with pytest.raises(TypeError, match=r"^n must be a positive integer, got 8.0 \(float\)$"):
        check_integer(8.0, "n", 1, expected="a positive integer")
    with pytest.raises(ValueError, match=r"^n must be a positive integer, got 0$"):
        check_integer(0, "n", 1, expected="a positive integer")


def test_the_builders_checks_are_these_rules():
    with pytest.raises(TypeError, match=r"^num_layers must be a positive integer, got True \(bool\)$"):
        argument_checks.positive_int("num_layers", True)
    with pytest.raises(ValueError, match=r"^bound must be a finite number > 0, got inf$"):
        argument_checks.positive_real("bound", math.inf)
    with pytest.raises(TypeError, match=r"^dropout must be a number in \[0, 1\), got '0.3' \(str\)$"):
        argument_checks.probability("dropout", "0.3")
    assert argument_checks.integer_at_least("num_classes", np.int32(3), 2) == 3
