"""`ActNormInitialization`: data-dependent initialisation of a flow's ActNorms, once.

Glow's ActNorm sets its scale and shift from the first batch it sees so that
its output has zero mean and unit variance per channel. A `FlowModel` runs
this once, before the first training step: on its first `fit` (from the
first examples of the training data) or `train_on_batch` (from that batch).
Each ActNorm keeps a saved `initialized` flag, so a trained or reloaded model
is never initialised again and later `fit` calls read no extra batch.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from tfnf.bijectors import ActNorm, initialize_actnorms


class ActNormInitialization:
    """The ActNorms of `data_flow`'s bijector and whether any still waits for data.

    Args:
      data_flow: the model's `tfnf.flows.DataFlow`.
    """

    def __init__(self, data_flow):
        self.data_flow = data_flow
        self.actnorms = tuple(m for m in data_flow.bijector.submodules if isinstance(m, ActNorm))
        # One graph call reads every flag (an eager read per ActNorm is slow on deep flows).
        self._any_pending = tf.function(self._any_uninitialized)

    def _any_uninitialized(self):
        flags = [actnorm.initialized_flag for actnorm in self.actnorms]  # 1.0 once initialised, else 0.0
        return tf.reduce_any(tf.stack([flag < 0.5 for flag in flags]))

    @property
    def pending(self):
        """True while some ActNorm has not been initialised from data (read from the saved flags)."""
        return bool(self.actnorms) and bool(self._any_pending().numpy())

    def run(self, x, condition=None):
        """Initialise every not-yet-initialised ActNorm from `x: [N, *event_shape]` (data units,
        checked by the caller; discrete data are dequantised first), given the batch's
        `condition` for a conditional flow. Returns the number of ActNorms initialised."""
        x = self.data_flow.dequantize(tf.convert_to_tensor(x))
        kwargs = self.data_flow.bijector_kwargs(condition, tf.shape(x)[:1])
        return initialize_actnorms(self.data_flow.bijector, x, **kwargs)


def first_examples(x, y, n, event_rank, conditional):
    """The first `n` examples of training data `x` (arrays or a `tf.data.Dataset` of batches)
    and, for a conditional model, their conditions (`y`, or the dataset's second items).

    Returns `(None, None)` for inputs it cannot read ahead (Python generators, `PyDataset`)."""
    if isinstance(x, tf.data.Dataset):
        parts, conditions, count = [], [], 0
        for element in x:
            condition = None
            if isinstance(element, (tuple, list)):
                if conditional and len(element) > 1:
                    condition = np.asarray(element[1])
                element = element[0]
            element = np.asarray(element)
            if element.ndim == event_rank:  # a single example
                element = element[None]
                condition = None if condition is None else condition[None]
            if condition is not None:
                conditions.append(condition)
            parts.append(element)
            count += len(element)
            if count >= n:
                break
        if not parts:
            raise ValueError("fit received an empty dataset")
        return np.concatenate(parts)[:n], (np.concatenate(conditions)[:n] if conditions else None)
    if isinstance(x, (np.ndarray, tf.Tensor, list)):
        return np.asarray(x)[:n], (None if y is None else np.asarray(y)[:n])
    return None, None


def restores_a_backup(callbacks: list) -> bool:
    """Whether a `keras.callbacks.BackupAndRestore` among `callbacks` will load a backup when
    training begins (it then brings the ActNorms' statistics with it)."""
    return any(
        isinstance(c, keras.callbacks.BackupAndRestore)
        and os.path.exists(os.path.join(c.backup_dir, "latest.weights.h5"))
        for c in callbacks
    )
