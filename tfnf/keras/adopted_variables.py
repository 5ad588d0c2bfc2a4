"""`AdoptedVariables`: a flow's plain `tf.Variable`s as Keras 3 weights.

Keras 3 tracks only its own variables. tfnf bijectors keep their parameters in
Keras layers, but a flow may also hold plain `tf.Variable`s: a stock TFP
bijector such as `tfb.Shift(tf.Variable(...))`, a learned base distribution
(`tfd.MultivariateNormalDiag(tf.Variable(...), tfp.util.TransformedVariable(...))`).
`AdoptedVariables` wraps each of those in a Keras variable backed by the very
same `tf.Variable` (no copy), so the model's `trainable_variables`, its
optimizer, `save_weights` and `model.save` all see them.
"""

import keras


class AdoptedVariables(keras.layers.Layer):
    """The variables of `flow` that none of `layers` holds, as this layer's weights.

    Args:
      flow: a `tf.Module` (a TFP distribution or bijector).
      layers: the Keras layers already tracked for `flow`.
    """

    def __init__(self, flow, layers, **kwargs):
        super().__init__(**kwargs)
        held = {id(getattr(weight, "value", weight)) for layer in layers for weight in layer.weights}
        adopted = []
        for variable in flow.variables:
            if id(variable) in held:
                continue
            held.add(id(variable))
            name = variable.name.split(":")[0].replace("/", "_")
            adopted.append(
                keras.Variable(variable, trainable=variable.trainable, dtype=variable.dtype.name, name=name)
            )
        self.adopted = adopted  # a list of Keras variables: tracked as this layer's weights
        self.built = True

    def call(self, inputs):
        return inputs


def check_every_read_variable_is_held(tape, held):
    """Raise `ValueError` naming each trainable variable that `tape` saw read but that is not
    behind one of the Keras variables `held` (a model's `variables`): nothing would train it.

    Called while tracing a train step, so it costs nothing per step. A variable of a layer
    the user froze (`layer.trainable = False`) is held, and stays frozen."""
    held = {id(getattr(v, "value", v)) for v in held}
    missing = [v.name for v in tape.watched_variables() if v.trainable and id(v) not in held]
    if missing:
        raise ValueError(
            f"the flow reads trainable variables that FlowModel cannot reach, so they would never train: "
            f"{missing}. Hold each tf.Variable (or Keras layer) as an attribute of a tf.Module inside the "
            "flow (a bijector or distribution), not only in a closure, or make it non-trainable"
        )
