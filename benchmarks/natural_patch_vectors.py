"""63-D natural image patches: tfnf's vector flows against TFP's MAF at equal wall-clock time.

Data: `tfnf.datasets.natural_patches(split, form="vectors")`, the BSDS300
recipe (8x8 grey patches, dequantised, in [0, 1], each patch's mean removed,
the last pixel dropped) on scikit-learn's two sample photographs: 100,000
train / 10,000 validation / 20,000 test vectors of 63 values, standard
deviation about 0.08.

Contenders, each with the same wall-clock budget (default 120 s, counted from
the first step, so tracing and compilation are part of it), batch, learning
rate and validation schedule:

* tfnf `maf`, `nsf` and `realnvp` with their default arguments
  (`tfnf.flows.<name>((63,))`), trained through `tfnf.FlowModel.fit` with
  `keras.optimizers.Adam`;
* TFP's MAF as a TFP user writes it: a `tfd.TransformedDistribution` over
  `N(0, I)` of five `tfb.MaskedAutoregressiveFlow(tfb.AutoregressiveNetwork(
  params=2, hidden_units=[512, 512], activation="relu"))` with `tfb.Permute`
  reversals in between, trained by a `tf.function` step with Keras 3's
  `Adam` over a shuffled, batched `tf.data.Dataset`.

Every model is validated after each pass over the training data and when the
budget runs out (training stops at the first step past the budget); the
weights with the best validation log-likelihood are restored and scored on the
test split: the mean log-likelihood in nats (higher is better). Steps/s is the
number of training steps in the budget divided by the training time, so it
includes compilation and validation.

For orientation the script prints how far the scores land from the published
BSDS300 test log-likelihoods (MAF 155.7 nats, Papamakarios et al. 2017; NSF
157.3 nats, Durkan et al. 2019). Those were measured on other photographs
(the Berkeley segmentation set) with hours of training: a reference point,
not a target; these photographs' patches are smoother, so their densities
are higher.

Run: `.venv/bin/python benchmarks/natural_patch_vectors.py [--budget 120] [--models maf nsf realnvp tfp-maf] [--quick]`
"""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import harness
import tfnf

tfb, tfd = tfp.bijectors, tfp.distributions
DIMS = 63
PUBLISHED_BSDS300 = {"MAF": 155.7, "NSF": 157.3}  # test log-likelihood in nats
TFP_LAYERS, TFP_HIDDEN = 5, [512, 512]


def patch_vectors():
    """`(train, validation, test)` float32 arrays `[N, 63]`."""
    return tuple(tfnf.datasets.natural_patches(split, form="vectors", as_numpy=True) for split in ("train", "validation", "test"))


class BudgetAndBest(keras.callbacks.Callback):
    """Stops `fit` at the first call of steps past `seconds` (validation still runs for that epoch),
    counts the optimizer steps taken (`steps`) and restores the weights of the best validation loss
    when training ends."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.steps, self.best, self.best_weights = seconds, 0, np.inf, None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.first_iteration = int(self.model.optimizer.iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        # called once per execution (`steps_per_execution` steps): count the optimizer's steps
        self.steps = int(self.model.optimizer.iterations.numpy()) - self.first_iteration
        if time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("val_loss", np.inf)
        if np.isfinite(loss) and loss < self.best:
            self.best, self.best_weights = loss, self.model.get_weights()

    def on_train_end(self, logs=None):
        self.elapsed = time.perf_counter() - self.start
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def train_tfnf(name, data, budget, batch_size, learning_rate, seed, **builder_kwargs):
    """One tfnf builder with its defaults (plus `builder_kwargs`) through `FlowModel.fit`;
    returns `(test log-likelihood, steps/s, parameters, steps)`."""
    train, validation, test = data
    keras.utils.set_random_seed(seed)
    model = tfnf.FlowModel(getattr(tfnf.flows, name)((DIMS,), **builder_kwargs), seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    watch = BudgetAndBest(budget)
    model.fit(train, batch_size=batch_size, epochs=10_000, validation_data=(validation,), callbacks=[watch], verbose=0)
    test_ll = float(np.mean(np.concatenate([model.log_prob(test[i : i + 5000]).numpy() for i in range(0, len(test), 5000)])))
    return test_ll, watch.steps / watch.elapsed, harness.parameter_count(model.trainable_variables), watch.steps


def build_tfp_maf():
    """Five `tfb.MaskedAutoregressiveFlow` layers with `tfb.AutoregressiveNetwork([512, 512])`, reversed in between."""
    parts = []
    for k in range(TFP_LAYERS):
        if k:
            parts.append(tfb.Permute(list(reversed(range(DIMS)))))
        network = tfb.AutoregressiveNetwork(params=2, hidden_units=TFP_HIDDEN, activation="relu")
        parts.append(tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=network))
    base = tfd.MultivariateNormalDiag(loc=tf.zeros(DIMS), scale_diag=tf.ones(DIMS))
    return tfd.TransformedDistribution(base, tfb.Chain(parts))


def train_tfp_maf(data, budget, batch_size, learning_rate, seed):
    """TFP's MAF trained as a TFP user writes it; returns what `train_tfnf` does."""
    train, validation, test = data
    keras.utils.set_random_seed(seed)
    distribution = build_tfp_maf()
    distribution.log_prob(train[:2])  # builds the networks
    variables = list(distribution.trainable_variables)
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(distribution.log_prob(x))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    log_prob = tf.function(distribution.log_prob)

    def mean_log_prob(x):
        return float(np.mean(np.concatenate([log_prob(x[i : i + 5000]).numpy() for i in range(0, len(x), 5000)])))

    dataset = tf.data.Dataset.from_tensor_slices(train).shuffle(len(train), seed=seed).batch(batch_size)
    best, best_values, steps = -np.inf, None, 0
    start = time.perf_counter()
    out_of_time = False
    while not out_of_time:
        for x in dataset.prefetch(tf.data.AUTOTUNE):
            train_step(x)
            steps += 1
            if time.perf_counter() - start >= budget:
                out_of_time = True
                break
        score = mean_log_prob(validation)
        if np.isfinite(score) and score > best:
            best, best_values = score, [v.numpy() for v in variables]
    elapsed = time.perf_counter() - start
    if best_values is not None:
        for variable, value in zip(variables, best_values):
            variable.assign(value)
    return mean_log_prob(test), steps / elapsed, harness.parameter_count(variables), steps


TFP_LABEL = "TFP: tfb.MaskedAutoregressiveFlow + tfb.AutoregressiveNetwork([512, 512]) x5"
MODELS = {
    "maf": ("tfnf maf (defaults)", lambda *a: train_tfnf("maf", *a)),
    "nsf": ("tfnf nsf (defaults)", lambda *a: train_tfnf("nsf", *a)),
    "realnvp": ("tfnf realnvp (defaults)", lambda *a: train_tfnf("realnvp", *a)),
    "tfp-maf": (TFP_LABEL, train_tfp_maf),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="wall-clock seconds of training per model")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="20 s per model: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.budget = 20.0
    data = patch_vectors()
    print(f"CPU: {harness.cpu_description()}")
    print(
        f"63-D natural patch vectors ({len(data[0]):,} train / {len(data[1]):,} validation / {len(data[2]):,} test), "
        f"{args.budget:g} s of training each, batch {args.batch_size}, Adam({args.learning_rate:g}), seed {args.seed}\n"
    )
    results = {}
    for key in args.models:
        label, trainer = MODELS[key]
        results[key] = trainer(data, args.budget, args.batch_size, args.learning_rate, args.seed)
        print(f"{label}: {results[key][0]:.2f} nats, {results[key][1]:.1f} steps/s", flush=True)
    print()
    rows = [
        [MODELS[key][0], f"{ll:.2f}", f"{rate:.1f}", f"{steps:,}", f"{parameters:,}"]
        for key, (ll, rate, parameters, steps) in results.items()
    ]
    harness.print_table(["model", "test log-likelihood (nats)", "steps/s", "steps", "parameters"], rows)
    if "tfp-maf" in results:
        reference = results["tfp-maf"][0]
        for key in results:
            if key != "tfp-maf":
                print(f"{MODELS[key][0]} - TFP MAF: {results[key][0] - reference:+.2f} nats")
    print("\nPublished BSDS300 test log-likelihoods (other photographs, hours of training): a reference, not a target")
    for key, (ll, *_rest) in results.items():
        gaps = ", ".join(f"{ll - value:+.1f} nats from {paper} ({value})" for paper, value in PUBLISHED_BSDS300.items())
        print(f"{MODELS[key][0]}: {gaps}")


if __name__ == "__main__":
    main()
