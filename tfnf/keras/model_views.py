"""`FlowModelViews`: what a `FlowModel` is, read from its `DataFlow`, its guarded update, its
ActNorm initialisation and its metric trackers."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp


class FlowModelViews:
    """`FlowModel`'s read-only properties (a base class of it): views of its `data_flow`,
    `guarded_update`, `actnorm_initialization` and metric trackers."""

    @property
    def flow(self) -> tfp.distributions.TransformedDistribution:
        """The flow (a `tfd.TransformedDistribution`)."""
        return self.data_flow.flow

    @property
    def bijector(self) -> tfp.bijectors.Bijector:
        """Latent -> data units (the flow's bijector and the data map)."""
        return self.data_flow.bijector

    @property
    def distribution(self) -> tfp.distributions.Distribution:
        """The density over data units."""
        return self.data_flow.distribution

    @property
    def num_bins(self) -> int | None:
        """Pixel levels of discrete data, or None (continuous)."""
        return self.data_flow.num_bins

    @property
    def event_shape(self) -> tuple:
        """Shape of one example, e.g. `[H, W, C]`."""
        return self.data_flow.event_shape

    @property
    def num_dims(self) -> int:
        """Dimensions of one example (for bits/dim)."""
        return self.data_flow.num_dims

    @property
    def flow_dtype(self) -> tf.DType:
        """The flow's float dtype (float32 or float64)."""
        return self.data_flow.dtype

    @property
    def condition_spec(self) -> dict | None:
        """What the model is conditioned on, or None."""
        return self.data_flow.condition_spec

    @property
    def conditional(self) -> bool:
        """Whether the model takes a condition."""
        return self.data_flow.condition_spec is not None

    @property
    def clip_norm(self) -> float | None:
        """Global gradient-norm clip, or None."""
        return self.guarded_update.clip_norm

    @property
    def metrics(self) -> list:
        """The model's metrics (`keras.Model.metrics`): `loss`, `bits_per_dim` and `skipped_steps`, and
        `flow_matching_loss` first for a model trained by flow matching."""
        fm = [] if self.flow_matching_tracker is None else [self.flow_matching_tracker]
        return [*fm, self.loss_tracker, self.bits_per_dim_tracker, self.skipped_tracker]

    @property
    def actnorms(self) -> list:
        """The `ActNorm` bijectors of the flow (a list)."""
        return list(self.actnorm_initialization.actnorms)

    @property
    def needs_initialization(self) -> bool:
        """True while some ActNorm has not been initialised from data (read from the saved flags)."""
        return self.actnorm_initialization.pending
