"""Python generators get the checks arrays and datasets get: shape, pixel range, NaN, conditions."""

import numpy as np
import pytest

import tfnf

RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 4, (16, 2)).astype("float32")
LABELS = (np.arange(16) % 3).astype("int32")


def _tiny(**kwargs):
    return tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,), **kwargs)


@pytest.fixture(scope="module")
def labelled():
    """A conditional model of 2-D pixels in [0, 4) given labels in [0, 3)."""
    model = tfnf.FlowModel(_tiny(num_classes=3), num_bins=4)
    model.compile(jit_compile=False, steps_per_execution=1)
    model.fit(PIXELS, LABELS, batch_size=8, epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def unconditional():
    model = tfnf.FlowModel(_tiny(), num_bins=4)
    model.compile(jit_compile=False, steps_per_execution=1)
    model.fit(PIXELS, batch_size=8, epochs=1, verbose=0)
    return model


def _generator(*elements):
    def generate():
        yield from elements

    return generate()


def _calls(model, make):
    """fit, evaluate and fit's validation data, each reading a fresh generator from `make()`."""
    return {
        "fit": lambda: model.fit(make(), epochs=1, verbose=0),
        "evaluate": lambda: model.evaluate(make(), verbose=0),
        "validation": lambda: model.fit(
            _generator((PIXELS, LABELS)) if model.conditional else _generator((PIXELS,)),
            validation_data=make(), epochs=1, verbose=0,
        ),
    }


@pytest.mark.parametrize("call", ["fit", "evaluate", "validation"])
def test_a_generators_labels_outside_num_classes_are_named(labelled, call):
    before = [v.numpy().copy() for v in labelled.trainable_weights]
    make = lambda: _generator((PIXELS[:8], LABELS[:8]), (PIXELS[8:], np.full(8, 3, np.int32)))
    expected = r"condition must hold class labels in \[0, 3\) for num_classes=3, got values in \[3, 3\]"
    with pytest.raises(ValueError, match=expected):
        _calls(labelled, make)[call]()
    if call != "validation":  # validation data are read after an epoch of good training
        for variable, value in zip(labelled.trainable_weights, before):
            np.testing.assert_array_equal(variable.numpy(), value)


@pytest.mark.parametrize("call", ["fit", "evaluate", "validation"])
def test_a_generators_pixels_outside_num_bins_are_named(unconditional, call):
    make = lambda: _generator((PIXELS,), (PIXELS + 4,))
    with pytest.raises(ValueError, match=r"must hold pixel values in \[0, 4\) for num_bins=4, got values in \[4"):
        _calls(unconditional, make)[call]()


@pytest.mark.parametrize("call", ["evaluate", "validation"])
def test_nan_in_an_evaluation_generator_is_named_not_a_nan_metric(unconditional, call):
    bad = PIXELS.copy()
    bad[3, 1] = np.nan
    make = lambda: _generator((PIXELS,), (bad,))
    with pytest.raises(ValueError, match=r"contains NaN or Inf values \(1 of 32\)"):
        _calls(unconditional, make)[call]()


def test_nan_in_a_training_generator_is_still_a_skipped_step(unconditional):
    bad = np.full_like(PIXELS, np.nan)
    history = unconditional.fit(_generator((PIXELS,), (bad,)), epochs=1, verbose=0)
    assert history.history["skipped_steps"] == [1.0]


def test_a_generators_nan_context_vectors_are_named():
    model = tfnf.FlowModel(_tiny(context_shape=(2,)))
    model.compile(jit_compile=False, steps_per_execution=1)
    context = RNG.normal(size=(16, 2)).astype("float32")
    context[5, 0] = np.nan
    with pytest.raises(ValueError, match="condition contains NaN or Inf values"):
        model.fit(_generator((PIXELS, context)), epochs=1, verbose=0)


def test_a_generator_of_bare_arrays_trains_an_unconditional_model(unconditional):
    history = unconditional.fit(_generator(PIXELS[:8], PIXELS[8:]), epochs=1, verbose=0)
    assert history.history["skipped_steps"] == [0.0] and np.isfinite(history.history["loss"][0])
    assert np.all(np.isfinite(unconditional.evaluate(_generator(PIXELS), verbose=0)))


def test_a_conditional_models_generator_of_bare_arrays_asks_for_pairs(labelled):
    with pytest.raises(ValueError, match=r"conditional \(class labels in \[0, 3\)\).*yield \(x, condition\) pairs"):
        labelled.fit(_generator(PIXELS), epochs=1, verbose=0)
