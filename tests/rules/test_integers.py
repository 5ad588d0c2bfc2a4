"""The one integer rule: counts and seeds are checked by name and never wrap."""

import numpy as np
import pytest
import tensorflow as tf

from tfnf.rules.integers import MAX_SEED, check_integer, check_seed, seed_pair


@pytest.mark.parametrize("value", [3, np.int64(3), np.array(3), tf.constant(3)])
def test_integers_of_every_kind_are_plain_ints(value):
    result = check_integer(value, "n", 1, 10)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value", [True, 1.0, "3", None, [3], np.array([3])])
def test_non_integers_are_type_errors_naming_the_argument(value):
    with pytest.raises(TypeError, match="^n must be an integer"):
        check_integer(value, "n")


def test_range_errors_name_the_argument_and_the_bound():
    with pytest.raises(ValueError, match="--model-version must be >= 1, got -1"):
        check_integer(-1, "--model-version", minimum=1)
    with pytest.raises(ValueError, match="n must be <= 10, got 11"):
        check_integer(11, "n", maximum=10)


def test_seeds_below_2_to_31_keep_the_pair_they_always_had():
    for seed in (0, 1, 12345, 2**31 - 1):
        np.testing.assert_array_equal(seed_pair(seed), [seed, 0])


def test_distinct_seeds_give_distinct_pairs_without_wrapping():
    seeds = [0, 1, 2**31 - 1, 2**31, 2**31 + 1, MAX_SEED]
    pairs = {tuple(seed_pair(seed)) for seed in seeds}
    assert len(pairs) == len(seeds)
    assert all(seed_pair(s).dtype == np.int32 for s in seeds)


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 2**64])
def test_seeds_outside_the_numpy_range_are_refused(seed):
    with pytest.raises(ValueError, match="seed must be"):
        check_seed(seed)


def test_a_seed_pair_is_taken_as_given_and_checked():
    np.testing.assert_array_equal(seed_pair([7, -3]), [7, -3])
    with pytest.raises(ValueError, match="pair"):
        seed_pair([1, 2, 3])
    with pytest.raises(ValueError, match=r"seed\[1\]"):
        seed_pair([1, 2**31])
