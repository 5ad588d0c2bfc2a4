"""`trainable_variables`: a flow's trainable weights, for training loops outside Keras."""

from tfnf.bijectors import collect_keras_layers


def trainable_variables(flow):
    """Every trainable weight of `flow` as a `tf.Variable`, each once, in a fixed order (a list).

    tfnf bijectors keep their parameters in Keras 3 layers. `tf.Module`'s own
    `flow.trainable_variables` does not see those (it is empty), and TFP's
    optimisation loops `tf.GradientTape.watch` each variable they are given,
    which needs the `tf.Variable` behind each Keras weight -- this returns
    exactly those. Use it wherever TFP wants the variables to optimise:

        tfp.vi.fit_surrogate_posterior(target_log_prob, flow, keras.optimizers.Adam(1e-2),
                                       num_steps=1000, trainable_variables=tfnf.flows.trainable_variables(flow))

    (Keras 3 optimizers accept these variables; assigning to them updates the
    Keras weights, so `FlowModel(flow).save(...)` saves the trained values.)

    Args:
      flow: a flow from `tfnf.flows`, a tfnf bijector, or any `tf.Module`
        containing tfnf bijectors.
    """
    variables, seen = [], set()
    for layer in collect_keras_layers(flow):
        for weight in layer.trainable_weights:
            variable = getattr(weight, "value", weight)
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables
