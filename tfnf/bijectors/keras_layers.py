"""Finding the Keras layers that hold a flow's parameters."""

from tfnf.bijectors.flow_bijector import FlowBijector


def collect_keras_layers(flow):
    """Every Keras layer holding parameters of `flow`, each once, in a fixed order.

    `flow` is a `tfd.TransformedDistribution`, a bijector, or any `tf.Module`
    containing tfnf bijectors (inside `tfb.Chain`, `tfb.Invert`, `FactorOut`...).
    A Keras model that stores this list as an attribute tracks, trains and saves
    all of the flow's weights.
    """
    modules = [flow, *flow.submodules]
    layers, seen = [], set()
    for module in modules:
        if isinstance(module, FlowBijector):
            for layer in module.keras_layers:
                if id(layer) not in seen:
                    seen.add(id(layer))
                    layers.append(layer)
    return layers
