"""A Python generator's batches, checked in Python as they are yielded.

Arrays are checked before training and a `tf.data.Dataset` by assertions in
its input pipeline; a generator's batches are checked here, one by one, with
the same rules: the event shape, real numbers, no empty batch, pixels in
`[0, num_bins)`, NaN/Inf (refused in evaluation data; in training data a
numerical fault that the guarded step skips and counts), and a conditional
model's conditions. In-graph assertions would not do: XLA drops them.

Keras may read the generator inside `tf.data`, which turns a Python error into
an `InvalidArgumentError`; every error here is tagged with `INPUT_CHECK_TAG` so
that `input_errors_as_value_errors` re-raises it as the plain `ValueError`.
"""

import numpy as np

from tfnf.flows.condition import check_condition
from tfnf.keras.input_checks import INPUT_CHECK_TAG, UNEXPECTED_Y, UNWEIGHTED, batch_shape_text, is_batch_of


def checked_generator(generator, checks, name="x", check_finite=True):
    """`generator`'s elements, `x`, `(x,)`, `(x, y)`, each checked as it is yielded.

    `x: [batch, *event_shape]`; `y`, a conditional model's conditions, one per
    example (`[batch]` labels / `[batch, k]` vectors). Bare `x` (allowed for an
    unconditional model) is yielded as `(x,)`, the form Keras reads.

    Args:
      generator: a Python generator.
      checks: the model's `InputChecks`.
      name: what errors call `x` (`"x"`, `"validation_data"`).
      check_finite: refuse NaN/Inf in `x` (off for training data).
    """
    for element in generator:
        try:
            yield check_element(element, checks, name, check_finite)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{INPUT_CHECK_TAG}{error}") from None


def check_element(element, checks, name, check_finite):
    """One generator element as `(x,)` or `(x, y)`, or a `TypeError` / `ValueError` naming the problem."""
    if not isinstance(element, (tuple, list)):
        element = (element,)
        if checks.condition_spec is not None:
            raise ValueError(
                f"this FlowModel is conditional ({checks.describe_context()}); a generator must yield "
                f"(x, condition) pairs, got bare batches of shape {list(np.shape(element[0]))}"
            )
    if not element:
        raise ValueError(f"{name}: a generator yielded an empty tuple; yield x, (x,) or (x, condition)")
    if len(element) > 2 and element[2] is not None:
        raise ValueError(UNWEIGHTED)
    x, y = element[0], (element[1] if len(element) > 1 else None)
    shape = np.shape(x)
    if not is_batch_of(shape, checks.event_shape):
        expected = batch_shape_text(checks.event_shape)
        raise ValueError(f"{name} must have shape {expected}, got batches of shape {list(shape)}")
    x = checks.batch(x, name, check_finite=check_finite)
    if checks.condition_spec is None:
        if y is not None:
            raise ValueError(UNEXPECTED_Y)
        return tuple(element[:1])
    if y is None:
        raise ValueError(
            f"this FlowModel is conditional ({checks.describe_context()}) but a generator yielded no condition; "
            "yield (x, condition) pairs"
        )
    condition = check_condition(checks.condition_spec, y, name=f"{name}'s condition")
    per_example = 1 if "num_classes" in checks.condition_spec else 2
    if condition.ndim != per_example or len(condition) != len(x):
        raise ValueError(
            f"{name}'s condition must have one entry per example: the batch has {len(x)} examples, "
            f"the condition shape {list(np.shape(y))}"
        )
    return tuple(element[:2])
