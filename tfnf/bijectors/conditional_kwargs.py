"""`conditional_kwargs`: the nested keyword arguments that condition a whole flow.

TFP passes keyword arguments to the bijectors inside a `tfb.Chain` by name:
`chain.forward(x, coupling0={"conditional_input": c})` calls
`coupling0.forward(..., conditional_input=c)`, and a nested chain receives its
own dict of the same form. `tfb.Invert` and `FactorOut` hand theirs to the
bijector they wrap. `conditional_kwargs` walks a bijector that way and builds
the dict that gives one context to every conditional bijector in it; the same
dict goes to `bijector.forward(z, **kwargs)` and to
`flow.log_prob(x, bijector_kwargs=kwargs)` / `flow.sample(n, bijector_kwargs=kwargs)`.
"""

import tensorflow as tf

from tfnf.bijectors.factor_out import FactorOut
from tfnf.bijectors.flow_bijector import FlowBijector


def _walk(bijector, leaf):
    """Nested kwargs for `bijector` with `leaf(b)` at every conditional tfnf bijector `b`."""
    if isinstance(bijector, FactorOut):
        return _walk(bijector.inner, leaf)
    if isinstance(bijector, FlowBijector):
        return leaf(bijector) if bijector.context_size is not None else {}
    parts = getattr(bijector, "bijectors", None)
    if parts is not None:  # tfb.Chain and other compositions route by name
        kwargs = {}
        for part in tf.nest.flatten(parts):
            inner = _walk(part, leaf)
            if not inner:
                continue
            if part.name in kwargs:
                raise ValueError(
                    f"two bijectors named {part.name!r} inside {bijector.name!r} read a context; TFP routes "
                    "keyword arguments by name, so conditional bijectors in one chain need distinct names"
                )
            kwargs[part.name] = inner
        return kwargs
    inner = getattr(bijector, "bijector", None)  # tfb.Invert passes its kwargs through
    if inner is not None:
        return _walk(inner, leaf)
    return {}


def conditional_kwargs(bijector, context):
    """The keyword arguments giving `context` to every conditional bijector in `bijector`.

    Args:
      bijector: a tfnf bijector, or a TFP composition (`tfb.Chain`,
        `tfb.Invert`, ...) of them; a flow's `.bijector`.
      context: the context, `[batch, k]` (or `[k]` for the whole batch).

    Returns:
      A (possibly nested) dict, empty when nothing in `bijector` is conditional.
      For a `tfb.Chain` of `coupling0`, `actnorm`, `coupling1`:
      `{"coupling0": {"conditional_input": context}, "coupling1": {"conditional_input": context}}`.
    """
    return _walk(bijector, lambda b: {"conditional_input": context})


def context_size_of(bijector):
    """The context width `k` the conditional bijectors in `bijector` read, or None if none is conditional.

    Raises `ValueError` if they disagree.
    """
    sizes = set()

    def record(b):
        sizes.add(b.context_size)
        return {"conditional_input": None}

    _walk(bijector, record)
    if len(sizes) > 1:
        raise ValueError(f"the conditional bijectors of {bijector.name!r} read contexts of different widths {sorted(sizes)}")
    return sizes.pop() if sizes else None
