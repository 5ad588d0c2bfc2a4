"""`GraphWarmUp`: a Keras train function's graph prepared on a second thread, no step taken.

The first call of a `tf.function` that runs without XLA spends seconds before its
first step: TensorFlow optimises the graph (grappler) and builds its executor.
`jit_compile="auto"` needs that graph only after XLA has compiled its own, so
`JitCompileChoice` starts a `GraphWarmUp` when XLA starts compiling: the warm-up
calls the train function on an empty iterator of the same element spec, which
prepares the whole graph and runs no step (no variable, optimizer, metric or
seed changes), while XLA compiles on the calling thread. Both run in TensorFlow's
C++ runtime, which releases Python's lock, so with a second core free the
preparation costs no wall time (digits Glow on 2 cores: XLA's first call took
18.4 s with and without a warm-up beside it, and the warm-up took 10 s off the
first call without XLA).

Nothing may be traced on the second thread: Keras keeps its state (dtype
policy, training flag, name scopes) per thread, so a model's layers traced
there would not see the caller's. The caller therefore traces the train step
before the warm-up starts (`trace_step`), and the warm-up only traces Keras'
loop around it, which calls the step's existing trace. `traced_on_this_thread`
guards the step: should a warm-up ever need a new trace of it, the warm-up
stops there, keeping no trace, and the first real call prepares the graph as
it would without a warm-up.
"""

import functools
import threading

import tensorflow as tf


class TracedOffThreadError(RuntimeError):
    """A step guarded by `traced_on_this_thread` was traced on another thread."""


_refused = threading.local()  # the guard's last refusal on each thread (tracing may wrap the error)


def traced_on_this_thread(step):
    """`step` wrapped to raise `TracedOffThreadError` when called on a thread other than this one
    (under `tf.function`, called means traced)."""
    owner = threading.get_ident()

    @functools.wraps(step)
    def guarded(*args, **kwargs):
        if threading.get_ident() != owner:
            _refused.error = TracedOffThreadError(f"{getattr(step, '__name__', 'the step')} traced off its thread")
            raise _refused.error
        return step(*args, **kwargs)

    return guarded


def empty_iterator_like(iterator):
    """An iterator with `iterator`'s element spec and no elements (a `tf.data.Iterator`),
    or None when `iterator` is not a `tf.data.Iterator` or its spec cannot be rebuilt."""
    if not isinstance(iterator, tf.data.Iterator):
        return None
    try:
        dataset = tf.data.Dataset.from_generator(lambda: iter(()), output_signature=iterator.element_spec)
    except (TypeError, ValueError):  # a spec from_generator cannot produce
        return None
    return iter(dataset)


class GraphWarmUp:
    """Calls `train_function(empty iterator like data)` on a daemon thread.

    Args:
      train_function: a Keras train function, `(iterator) -> logs`, that
        raises `StopIteration` (or, with one step per execution, `OutOfRangeError`)
        when the iterator has no batch (as Keras' do).
      data: the iterator `fit` passes to it; only its element spec is used.
      trace_step: `(element_spec) -> None`, traces the step the train function
        calls, on the calling thread.

    `started` says whether a warm-up runs (data that is not a `tf.data.Iterator`
    get none). `wait()` blocks until it ends and raises its error, if any; a
    warm-up stopped by `TracedOffThreadError` is no error (`stopped` says why).
    `prepared` is True once a warm-up has run to its end.
    """

    def __init__(self, train_function, data, trace_step):
        self.error = None
        self.stopped = None
        self.thread = None
        self.prepared = False
        empty = empty_iterator_like(data)
        self.started = empty is not None
        if not self.started:
            return
        trace_step(data.element_spec)
        self.thread = threading.Thread(target=self._run, args=(train_function, empty), name="tfnf-graph-warm-up", daemon=True)
        self.thread.start()

    def _run(self, train_function, empty):
        try:
            train_function(empty)
        except (StopIteration, tf.errors.OutOfRangeError):  # the empty iterator: no step taken, as intended
            pass  # (one step per execution reads it with `get_next`, which raises OutOfRangeError)
        except BaseException as error:  # handed to the caller by `wait`, unless the guard stopped it
            refusal = getattr(_refused, "error", None)
            if refusal is None:
                self.error = error
            else:  # nothing was traced: the first real call prepares the graph
                self.stopped = str(refusal)
            return
        self.prepared = True

    def wait(self):
        """Blocks until the warm-up has ended; raises its error, if it failed."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error
