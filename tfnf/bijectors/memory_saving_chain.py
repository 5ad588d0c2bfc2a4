"""`MemorySavingChain`: a chain of invertible steps whose gradient recomputes activations.

Training a flow differentiates `log_prob(x)`, which walks the bijector data ->
latent (`inverse`). Ordinary backpropagation keeps every intermediate tensor of
every step for the backward pass, so memory grows with the number of steps.
Each step is invertible, though, so its input can be recomputed from its output
(Gomez et al., 2017, "The reversible residual network"). `MemorySavingChain`
runs its steps data -> latent (value and log-det) under `tf.custom_gradient`,
keeping only the chain's output; its gradient walks the steps back from the
last, and for each step

1. recomputes the step's input from its output with the step's `forward`;
2. runs the step's `inverse` (value and log-det) again on that input under a
   local `tf.GradientTape` and takes its vector-Jacobian product with respect
   to the input, the context (a conditional flow) and the variables the chain
   reads.

Steps that are chains (a Glow step: ActNorm, 1x1 convolution, coupling) are
walked part by part. A coupling needs its network once, not twice: the
conditioning half of its input equals that of its output, so one pass of the
network gives both the recomputed input and, under the tape, the
differentiated inverse (`Coupling.inverse_vjp_from_output`).

Only one part's activations are alive at a time, so the activation memory of
a training step no longer grows with the number of steps in the chain (the
traced graph of the step, held by TensorFlow, still does); each coupling
costs one more pass of its network (the recomputation) than ordinary
backpropagation, other parts (ActNorm, 1x1 convolution) two cheap passes.

Reproducing the computation exactly:

* Dropout. Keras' stateful random layers (`keras.layers.Dropout`,
  `tfnf.nets.HashedDropout`, anything holding a `keras.random.SeedGenerator`)
  draw their masks from a seed generator whose state advances on every call.
  The chain reads each step's generator states before the step runs, sets
  them back before each recomputation (so the masks are the same), and leaves
  them where the data -> latent pass left them. Any other source of randomness
  inside a step (a `tf.random.Generator`) cannot be replayed and is refused.
* Keras' `training` flag. The gradient runs after the model's call has
  returned, outside Keras' call context; a `tfnf.nets.TrainingPhase` layer
  reads the flag of the data -> latent pass and sets it again for the
  recomputation, so dropout is on exactly when it was.
* Round-off. The recomputed input equals the stored one only up to the
  round-off of an inverse followed by a forward in the flow's dtype (float32:
  a relative error of order 1e-6 per step for well-conditioned steps, growing
  with the number of steps and with large scales). Gradients are then taken at
  that slightly different point; `round_trip_error` measures the drift on
  given data. Recomputation runs in the flow's own dtype (a float64 flow
  recomputes in float64).

The latent -> data direction (`forward`, sampling) is an ordinary chain: it
stores what ordinary backpropagation stores. The saving holds inside a
`tf.function` (as `FlowModel.fit` runs) and eagerly, with and without XLA.
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors.conditional_kwargs import conditional_kwargs, context_size_of
from tfnf.bijectors.continuous_flow import ContinuousFlow
from tfnf.bijectors.coupling import Coupling
from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape
from tfnf.bijectors.keras_layers import attributes_of_type, collect_keras_layers
from tfnf.nets.training_phase import TrainingPhase
from tfnf.private_apis import is_chain, nested_layers, stop_tape_recording

tfb = tfp.bijectors


def _seed_generators(step):
    """The Keras seed generators held by the layers of `step`, each once, in a fixed order."""
    layers = [nested for layer in collect_keras_layers(step) for nested in nested_layers(layer)]
    return attributes_of_type(layers, keras.random.SeedGenerator)


def _unreplayable_randomness(step):
    """The name of a `tf.random.Generator` inside `step` (its draws cannot be replayed), or None."""
    for module in [step, *step.submodules]:
        for value in vars(module).values():
            for leaf in tf.nest.flatten(value, expand_composites=False):
                if isinstance(leaf, tf.random.Generator):
                    return getattr(module, "name", type(module).__name__)
    for layer in collect_keras_layers(step):
        for nested in nested_layers(layer):
            for value in vars(nested).values():
                if isinstance(value, tf.random.Generator):
                    return nested.name
    return None


def _parts(step, event_shape):
    """`step` as a list of bijectors in `tfb.Chain` order: a chain opened (recursively) when every
    part of it keeps `event_shape`, else `[step]`."""
    if not is_chain(step):
        return [step]
    parts = [part for inner in step.bijectors for part in _parts(inner, event_shape)]
    if all(tuple(int(d) for d in part.forward_event_shape(event_shape)) == tuple(event_shape) for part in parts):
        return parts
    return [step]


def _states(generators):
    """The current states of `generators` (tensors read now)."""
    return [tf.identity(g.state.value) for g in generators]


def _set_states(generators, states):
    for generator, state in zip(generators, states):
        generator.state.assign(state)


class MemorySavingChain(FlowBijector):
    """`tfb.Chain(steps)` whose data -> latent gradient recomputes each step's activations.

    Same maps as `tfb.Chain(steps)` (`forward`, latent -> data, applies
    `steps[-1]` first; `inverse`, data -> latent, applies `steps[0]` first),
    over one event shape `event_shape` kept by every step
    (`x: [batch, *event_shape]`). The gradient of anything computed from `inverse` or its
    log-det keeps only the chain's output and recomputes the rest, step by
    step (see the module docstring): activation memory independent of the
    number of steps, at about one more network pass per step.

    A conditional chain takes `conditional_input: [batch, k]` and hands it to
    every conditional step (`conditional_kwargs`); its gradient includes the
    context's.

    Args:
      steps: invertible bijectors over `event_shape`, in `tfb.Chain` order.
      event_shape: `(D,)` or `(H, W, C)`, the shape on both sides of every step.
      dtype: floating dtype of the steps.
      name: bijector name.

    Raises:
      ValueError: no steps, a step that changes the event shape, a
        `ContinuousFlow` (its inverse is an ODE solve, whose round trip is
        only as exact as the solver's tolerance), or a step holding a
        `tf.random.Generator` (its draws cannot be replayed).
    """

    def __init__(
        self, steps: Sequence[tfp.bijectors.Bijector], event_shape: Sequence[int], dtype: tf.DType | str = tf.float32,
        name: str = "memory_saving_chain",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        steps = list(steps)
        if not steps:
            raise ValueError(f"{name}: MemorySavingChain needs at least one step")
        for step in steps:
            self._check_step(step, event_shape, name)
        self._steps = steps
        self._chain = tfb.Chain(steps, name=f"{name}_steps")
        # the gradient walks back part by part: the steps with their chains opened
        self._parts = [part for step in steps for part in _parts(step, event_shape)]
        self._generators = [_seed_generators(part) for part in self._parts]
        self._phase = TrainingPhase(name=f"{name}_training_phase")
        self._context_size = context_size_of(self._chain)
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @staticmethod
    def _check_step(step, event_shape, name):
        for part in [step, *step.submodules]:
            if isinstance(part, ContinuousFlow):
                raise ValueError(
                    f"{name}: memory saving cannot recompute through {part.name!r} (a ContinuousFlow): its inverse "
                    "is an ODE solve whose round trip is only as exact as the solver's tolerance"
                )
        source = _unreplayable_randomness(step)
        if source is not None:
            raise ValueError(
                f"{name}: memory saving cannot replay the random draws of {source!r} (a tf.random.Generator); "
                "use Keras layers seeded by a keras.random.SeedGenerator (keras.layers.Dropout, tfnf.nets.HashedDropout)"
            )
        shape = tuple(int(d) for d in step.forward_event_shape(event_shape))
        if shape != tuple(event_shape):
            raise ValueError(
                f"{name}: every step of a MemorySavingChain keeps the event shape {tuple(event_shape)}, "
                f"but {step.name!r} maps it to {shape}"
            )

    @property
    def steps(self) -> list:
        """The steps, in `tfb.Chain` order (`inverse` applies the first first)."""
        return list(self._steps)

    @property
    def bijectors(self) -> list:
        """The steps (as `tfb.Chain.bijectors`), so walks over compositions see them."""
        return list(self._steps)

    @property
    def keras_layers(self):
        return [self._phase]

    @property
    def context_size(self):
        return self._context_size

    def _kwargs(self, step, context):
        return {} if context is None else conditional_kwargs(step, context)

    def _step_inverse(self, step, x, context):
        kwargs = self._kwargs(step, context)
        y = step.inverse(x, **kwargs)
        ildj = step.inverse_log_det_jacobian(x, event_ndims=len(self.event_shape_in), **kwargs)
        return y, ildj

    def _forward_and_log_det(self, x, conditional_input=None):
        kwargs = self._kwargs(self._chain, conditional_input)
        y = self._chain.forward(x, **kwargs)
        return y, self._chain.forward_log_det_jacobian(x, event_ndims=len(self.event_shape_in), **kwargs)

    def _inverse_and_log_det(self, y, conditional_input=None):
        if conditional_input is not None:
            conditional_input = tf.convert_to_tensor(conditional_input, self.dtype)
        training = self._phase.current(y)
        args = (y,) if conditional_input is None else (y, conditional_input)

        @tf.custom_gradient
        def inverse_keeping_output(*inputs):
            with stop_tape_recording():  # nothing inside is kept for an enclosing tape
                x, ildj, states, final_states = self._run_inverse(*inputs)

            def gradient(dx, dildj, variables=None):
                return self._gradient(x, dx, dildj, inputs[1:], states, final_states, training, variables or [])

            return (x, ildj), gradient

        return inverse_keeping_output(*args)

    def _run_inverse(self, y, context=None):
        states, x, ildj = [], y, None
        for part, generators in zip(self._parts, self._generators):
            states.append(_states(generators))
            x, part_ildj = self._step_inverse(part, x, context)
            ildj = part_ildj if ildj is None else ildj + part_ildj
        final_states = _states([g for generators in self._generators for g in generators])
        return x, ildj, states, final_states

    def _part_vjp(self, part, output, upstream, dildj, trained, context):
        """`(input, input_grad, context_grad, variable_grads)` of one part, from its output."""
        if isinstance(part, Coupling):  # one network pass: see `Coupling.inverse_vjp_from_output`
            return part.inverse_vjp_from_output(output, upstream, dildj, trained, conditional_input=context)
        step_input = tf.stop_gradient(part.forward(tf.identity(output), **self._kwargs(part, context)))
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(step_input)
            if context is not None:
                tape.watch(context)
            tape.watch(trained)
            step_output, step_ildj = self._step_inverse(part, step_input, context)
        sources = [step_input] + ([context] if context is not None else []) + trained
        found = tape.gradient([step_output, step_ildj], sources, output_gradients=[upstream, dildj])
        context_grad = found[1] if context is not None else None
        return step_input, found[0], context_grad, found[2:] if context is not None else found[1:]

    def _gradient(self, x, dx, dildj, context, states, final_states, training, variables):
        context = context[0] if context else None
        dx = tf.zeros_like(x) if dx is None else dx
        dildj = tf.zeros(tf.shape(x)[:1], x.dtype) if dildj is None else dildj
        trained = [v for v in variables if v.dtype.is_floating]

        def walk_back():
            output, upstream, grads, context_grad = x, dx, {}, None
            for index in reversed(range(len(self._parts))):
                _set_states(self._generators[index], states[index])  # the same dropout masks again
                output, upstream, part_context_grad, part_grads = self._part_vjp(
                    self._parts[index], output, upstream, dildj, trained, context
                )
                context_grad = _add(context_grad, part_context_grad)
                for variable, grad in zip(trained, part_grads):
                    if grad is not None:
                        grads[variable.ref()] = _add(grads.get(variable.ref()), grad)
                if upstream is None:
                    upstream = tf.zeros_like(output)
                # the next part back starts once this one's gradients exist, so one part's
                # activations are alive at a time
                with tf.control_dependencies([upstream] + [g for g in part_grads if g is not None]):
                    output = tf.identity(output)
            with tf.control_dependencies([upstream]):
                _set_states([g for generators in self._generators for g in generators], final_states)
            return upstream, context_grad, grads

        upstream, context_grad, grads = self._phase.run(walk_back, training, x)
        input_grads = [upstream] if context is None else [upstream, context_grad]
        return input_grads, [grads.get(v.ref()) for v in variables]

    def round_trip_error(self, x: tf.Tensor, conditional_input: tf.Tensor | None = None) -> tf.Tensor:
        """The largest absolute difference, over all elements, between `x: [batch, *event_shape]`
        (data side) and the input the gradient recomputes from the chain's output, step by step
        (a scalar): the float round-off the gradient is taken with. Dropout is off."""
        x = tf.convert_to_tensor(x, self.dtype)
        inputs, value = [x], x
        for step in self._steps:
            value = step.inverse(value, **self._kwargs(step, conditional_input))
            inputs.append(value)
        worst = tf.zeros([], self.dtype)
        recomputed = inputs[-1]
        for index in reversed(range(len(self._steps))):
            step = self._steps[index]
            recomputed = step.forward(tf.identity(recomputed), **self._kwargs(step, conditional_input))
            worst = tf.maximum(worst, tf.reduce_max(tf.abs(recomputed - inputs[index])))
        return worst


def _add(total, value):
    if value is None:
        return total
    if isinstance(value, tf.IndexedSlices):
        value = tf.convert_to_tensor(value)
    return value if total is None else total + value
