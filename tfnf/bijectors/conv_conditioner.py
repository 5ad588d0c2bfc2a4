"""`ConvConditioner`: the convolutional network that reads an image's conditioning part."""

import keras

from tfnf.bijectors.conditioner import Conditioner


@keras.saving.register_keras_serializable(package="tfnf")
class ConvConditioner(Conditioner):
    """Glow-style conv conditioner for image couplings (channels last).

    `x_cond: [batch, H, W, C_in] -> params: [batch, H, W, out_channels, num_params]`
    through conv3x3 -> ReLU -> conv1x1 -> ReLU -> zero-initialised conv3x3
    (dropout after each ReLU while training). With `hidden_channels=None` it is
    the single zero-initialised conv3x3 that Glow uses for its learned prior.

    Args:
      out_channels: channels of the transformed part.
      num_params: parameters per transformed element.
      hidden_channels: width of the hidden convolutions, or None for none.
      dropout: dropout rate after each hidden activation (training only).
    """

    def __init__(self, out_channels, num_params, hidden_channels=128, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.out_channels = int(out_channels)
        self.num_params = int(num_params)
        self.hidden_channels = None if hidden_channels is None else int(hidden_channels)
        self.dropout = float(dropout)
        policy = self.dtype_policy
        if self.hidden_channels is None:
            self.hidden_layers = []
        else:
            self.hidden_layers = [
                keras.layers.Conv2D(self.hidden_channels, 3, padding="same", activation="relu", dtype=policy, name="conv_in"),
                keras.layers.Conv2D(self.hidden_channels, 1, padding="same", activation="relu", dtype=policy, name="conv_mid"),
            ]
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=policy) if self.dropout else None
        self.output_layer = keras.layers.Conv2D(
            self.out_channels * self.num_params,
            3,
            padding="same",
            kernel_initializer="zeros",
            bias_initializer="zeros",
            dtype=policy,
            name="conv_out",
        )
        self.param_shape = (self.out_channels, self.num_params)

    def get_config(self):
        config = super().get_config()
        config.update(
            out_channels=self.out_channels,
            num_params=self.num_params,
            hidden_channels=self.hidden_channels,
            dropout=self.dropout,
        )
        return config
