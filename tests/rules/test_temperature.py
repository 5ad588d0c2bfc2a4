"""The temperature rule: finite, >= 0, and 1 for a base that is not Gaussian, on every path."""

import numpy as np
import pytest

from tfnf.rules.temperature import check_temperature, default_temperature


@pytest.mark.parametrize("value", [0, 0.7, np.float32(2.0), np.array(1.5)])
def test_numbers_of_every_kind_are_floats(value):
    result = check_temperature(value)
    assert result == float(value) and type(result) is float


@pytest.mark.parametrize("value", [True, "hot", None, [0.7]])
def test_non_numbers_are_type_errors_naming_the_argument(value):
    with pytest.raises(TypeError, match="^--temperature must be a real number"):
        check_temperature(value, "--temperature")


@pytest.mark.parametrize("value", [-0.5, float("nan"), float("inf")])
def test_values_out_of_range_are_value_errors_naming_the_argument(value):
    with pytest.raises(ValueError, match=f"^temperatures must be finite and >= 0, got {value!r}$"):
        check_temperature(value, "temperatures")


def test_a_base_that_is_not_gaussian_takes_one_only():
    assert check_temperature(1, gaussian_base=False, base="StudentT") == 1.0
    with pytest.raises(ValueError, match="^temperature must be 1 for this model: .*Gaussian bases only.*StudentT, got 0.7$"):
        check_temperature(0.7, gaussian_base=False, base="StudentT")
    assert default_temperature(False) == 1.0 and default_temperature(True) == 0.7
