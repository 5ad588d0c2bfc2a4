"""Type aliases of tfnf's annotated public API (named so as not to shadow the standard `typing`)."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import tensorflow as tf

#: Numbers or an array of them: a NumPy array, a tensor, a (nested) sequence or a scalar.
ArrayLike = Union[np.ndarray, tf.Tensor, Sequence, float, int]
#: A shape, e.g. an event shape `(H, W, C)`.
Shape = Sequence[int]
#: A float dtype: a `tf.DType` or its name (`"float32"`).
DTypeLike = Union[tf.DType, str]
