"""How `FlowModel` runs a `DataFlow` method on what users hand it: checked, as a cached `tf.function`."""

from __future__ import annotations

from typing import Any, Callable

import tensorflow as tf

from tfnf.keras.input_checks import symbolic


def compiled_function(cache: dict, method: Callable, jit_compile: bool, reduce_retracing: bool) -> Callable:
    """`method` as a `tf.function` (XLA-compiled if `jit_compile`), made once per method name and
    `jit_compile` and kept in `cache`."""
    key = (method.__name__, jit_compile)
    if key not in cache:
        cache[key] = tf.function(method, reduce_retracing=reduce_retracing, jit_compile=jit_compile)
    return cache[key]


def run_on_data(
    model: Any, method: Callable, x: Any, condition: Any, name: str, check_range: bool, event_output: bool
) -> tf.Tensor:
    """`method(x, condition)` on `model`'s checked data of any leading batch shape `[..., *event_shape]`
    (symbolic tensors pass unchecked), compiled by `model._compiled`; the result keeps that batch shape."""
    if symbolic(x, condition):
        return method(x, condition)
    flat, condition, batch_shape = model.input_checks.any_batch(x, condition, name, check_range)
    args = [tf.constant(flat, model.flow_dtype)] + ([] if condition is None else [tf.constant(condition)])
    result = model._compiled(method)(*args)
    return tf.reshape(result, batch_shape + (model.event_shape if event_output else ()))
