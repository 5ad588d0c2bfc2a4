"""`ViTConditioner`: a vision transformer over patch tokens, the coupling network of Jet."""

from __future__ import annotations

import keras

from tfnf.nets.token_transformer import TokenTransformer


@keras.saving.register_keras_serializable(package="tfnf")
class ViTConditioner(TokenTransformer):
    """The kept half of an image's patches -> the affine parameters of the other half.

    `tokens: [batch, T, D_in] -> [batch, T, out_features, num_params]`: the
    image is cut into `T` patches (`tfnf.bijectors.patches.patchify`, which
    also turns the parameters back into pixels), each a token of its kept
    values; every token attends to every other (no mask). Token `t` of the
    output holds the shift and log-scale of the transformed values paired with
    input token `t` (the same patch for a split of the values inside each
    patch, a partner patch for a split of the patches). See `TokenTransformer`
    for the layers and arguments; the head is zero-initialised, so a new
    coupling is the identity.
    """

    causal = False
