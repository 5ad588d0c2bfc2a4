"""How exact tfnf's bijectors and flows are: round-trip and log-det errors.

For every case of the property suite (`tests/bijectors/cases.py`), with
randomised parameters:
* round trip: max |inverse(forward(z)) - z| and |forward(inverse(x)) - x| in float32;
* log-det: max relative error (absolute where |log det| < 1) of `forward_log_det_jacobian` against
  `log|det J|` of a brute-force `tf.GradientTape` Jacobian, in float64.

Run from the repository root: `.venv/bin/python benchmarks/exactness.py [--quick]`.
"""

import argparse
import os
import sys

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.bijectors.cases import (  # noqa: E402
    BIJECTOR_CASES,
    FLOW_CASES,
    JACOBIAN_SHAPES,
    ROUND_TRIP_SHAPES,
    data_side_sample,
    fresh,
    randomize,
)
from tests.bijectors.test_bijector_properties import brute_force_log_det  # noqa: E402


def round_trip_error(bijector, shape):
    z = data_side_sample(bijector, shape, 8, tf.float32)
    x = bijector.forward(z)
    z_back = bijector.inverse(fresh(x))
    x_back = bijector.forward(fresh(z_back))
    return max(float(tf.reduce_max(tf.abs(z_back - z))), float(tf.reduce_max(tf.abs(x_back - x))))


def log_det_error(bijector, shape):
    z = data_side_sample(bijector, shape, 3, tf.float64)
    expected = brute_force_log_det(bijector, fresh(z), shape).numpy()
    actual = bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(shape)).numpy()
    return float(np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1.0)))


def rows(quick=False):
    for case_id, kind, factory in BIJECTOR_CASES:
        trip = []
        for shape in ROUND_TRIP_SHAPES[kind][:1] if quick else ROUND_TRIP_SHAPES[kind]:
            bijector = factory(shape, tf.float32)
            randomize(bijector)
            trip.append(round_trip_error(bijector, shape))
        det = []
        for shape in JACOBIAN_SHAPES[kind][:1] if quick else JACOBIAN_SHAPES[kind]:
            bijector = factory(shape, tf.float64)
            randomize(bijector)
            det.append(log_det_error(bijector, shape))
        yield case_id, max(trip), max(det)
    for case_id, factory, shape, small in FLOW_CASES:
        flow = factory(shape, tf.float32)
        randomize(flow, scale=0.1)
        trip = round_trip_error(flow.bijector, shape)
        flow = factory(small, tf.float64)
        randomize(flow, scale=0.1)
        yield f"flow {case_id}", trip, log_det_error(flow.bijector, small)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one shape per bijector")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)  # the same initial weights, hence the same table, on every run
    print("| case | max round-trip error (float32) | max log-det error (float64; relative, absolute below 1) |")
    print("|---|---|---|")
    worst_trip = worst_det = 0.0
    for case_id, trip, det in rows(args.quick):
        worst_trip, worst_det = max(worst_trip, trip), max(worst_det, det)
        print(f"| {case_id} | {trip:.2e} | {det:.2e} |", flush=True)
    print(f"| **worst** | **{worst_trip:.2e}** | **{worst_det:.2e}** |")


if __name__ == "__main__":
    main()
