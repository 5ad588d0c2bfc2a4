"""Flow matching against maximum likelihood for the same continuous flow, and nsf, on eight Gaussians.

p: `tfnf.datasets.toy2d("eight_gaussians")` (exact log-density), KL(p‖q) =
E_p[log p - log q] on fresh samples (`harness.eight_gaussians_kl`). Per seed, on
fresh data, through `tfnf.FlowModel.fit` with Adam and an EMA of the weights
(momentum 0.999), which is what is evaluated:

* `ffjord((2,))` with its defaults, `objective="flow_matching"`: `--fm-steps`
  steps of batch `--batch-size`, learning rate `--lr` with cosine decay;
* the same flow and network, `objective="maximum_likelihood"` (an ODE solve and
  its adjoint per step), Adam(`--lr`), batch `--ml-batch-size` (more steps in the
  time), for as long as flow matching trained;
* `nsf((2,))` with its defaults, maximum likelihood, `--nsf-steps` steps of batch
  `--nsf-batch-size` (the steps and batch of its earlier eight-Gaussians figures,
  with this benchmark's optimizer: `--lr` with cosine decay).

Every `--check-every` seconds of training, a callback evaluates the EMA weights on
10k samples (`--check-samples`; that time is not counted as training) to record the
training wall time at which KL first reaches `--kl-target` (0.02; or the end of
training if only the final KL does); the final KL is on `--kl-samples` (50k: an
ODE solve per point for the CNFs; its standard error is about 0.001 nats). Steps/s is
steps over training wall time (tracing and compilation included); the sample time
is that of `model.sample(1000)` after a warm-up call. Maximum likelihood trains
the CNF without XLA (its adjoint solve does not compile) one step per call, the
others with `jit_compile="auto"`.

Run: `.venv/bin/python benchmarks/flow_matching_eight_gaussians.py [--seeds 0 1 2]` (prints Markdown tables).
"""

import argparse
import time

import keras
import numpy as np

import harness
import tfnf


class KLWatch(keras.callbacks.Callback):
    """Every `every` seconds of training (and at the end), KL of the EMA weights on `samples` points;
    records the training time (checks excluded) at which KL first reaches `target`."""

    def __init__(self, every, target, samples, budget=None):
        super().__init__()
        self.every, self.target, self.samples, self.budget = every, target, samples, budget
        self.reached_at, self.checks = None, []

    def on_train_begin(self, logs=None):
        self.start, self.excluded, self.next_check = time.perf_counter(), 0.0, self.every

    def training_seconds(self):
        return time.perf_counter() - self.start - self.excluded

    def check(self):
        began = time.perf_counter()
        model = self.model
        current = [v.numpy() for v in model.trainable_variables]
        model.optimizer.finalize_variable_values(model.trainable_variables)  # the EMA weights
        kl = harness.eight_gaussians_kl(lambda x: model.log_prob(x).numpy(), n=self.samples, seed=777)
        for variable, value in zip(model.trainable_variables, current):
            variable.assign(value)
        self.excluded += time.perf_counter() - began
        self.checks.append((self.training_seconds(), kl))
        if self.reached_at is None and kl <= self.target:
            self.reached_at = self.training_seconds()

    def on_train_batch_end(self, batch, logs=None):
        seconds = self.training_seconds()
        if self.budget is not None and seconds >= self.budget:
            self.model.stop_training = True
        if seconds >= self.next_check:
            self.check()
            self.next_check = self.training_seconds() + self.every


def train(flow, objective, steps, batch_size, seed, lr, watch, decay=True, ode_steps=False):
    """Fit `flow` by `objective` on fresh data; returns `(model, wall seconds of training, steps run)`.
    `ode_steps`: steps that solve the ODE (maximum likelihood of a CNF): no XLA (the adjoint
    solve does not compile) and one step per call, so that the time budget is kept."""
    model = tfnf.FlowModel(flow, seed=seed, objective=objective)
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.05) if decay else lr
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=0.999),
        jit_compile=False if ode_steps else "auto", steps_per_execution=1 if ode_steps else None,
    )
    data = harness.eight_gaussians_data(steps * batch_size, seed)
    model.fit(data, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[watch])
    seconds = watch.training_seconds()
    model.optimizer.finalize_variable_values(model.trainable_variables)  # evaluate the EMA weights
    return model, seconds, int(model.optimizer.iterations.numpy())


def sample_seconds(model):
    model.sample(1000, seed=0)  # traces
    start = time.perf_counter()
    model.sample(1000, seed=1).numpy()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fm-steps", type=int, default=10000)
    parser.add_argument("--nsf-steps", type=int, default=3000)
    parser.add_argument("--ml-max-steps", type=int, default=5000, help="data drawn for maximum likelihood (time-bound)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--kl-target", type=float, default=0.02)
    parser.add_argument("--check-every", type=float, default=30.0)
    parser.add_argument("--ml-batch-size", type=int, default=256, help="batch of the CNF's maximum likelihood")
    parser.add_argument("--nsf-batch-size", type=int, default=512, help="nsf's protocol in RESULTS.md")
    parser.add_argument("--check-samples", type=int, default=10_000)
    parser.add_argument("--kl-samples", type=int, default=50_000, help="samples of the final KL")
    args = parser.parse_args()
    print(f"CPU: {harness.cpu_description()}\n")
    rows, finals = [], {}
    for seed in args.seeds:
        runs = [
            ("ffjord, flow matching", "flow_matching", args.fm_steps, None, True),
            ("ffjord, maximum likelihood (same time)", "maximum_likelihood", args.ml_max_steps, "fm", False),
            ("nsf, maximum likelihood", "maximum_likelihood", args.nsf_steps, None, True),
        ]
        fm_seconds = None
        for label, objective, steps, budget, decay in runs:
            keras.utils.set_random_seed(seed)
            flow = tfnf.flows.nsf((2,)) if label.startswith("nsf") else tfnf.flows.ffjord((2,))
            watch = KLWatch(args.check_every, args.kl_target, args.check_samples, fm_seconds if budget else None)
            batch_size = args.ml_batch_size if budget else args.nsf_batch_size if label.startswith("nsf") else args.batch_size
            model, seconds, done = train(flow, objective, steps, batch_size, seed, args.lr, watch, decay, bool(budget))
            if objective == "flow_matching":
                fm_seconds = seconds
            kl = harness.eight_gaussians_kl(lambda x: model.log_prob(x).numpy(), n=args.kl_samples)
            if watch.reached_at is None and kl <= args.kl_target:
                watch.reached_at = seconds
            finals.setdefault(label, []).append(kl)
            reached = "not reached" if watch.reached_at is None else f"{watch.reached_at:.0f}"
            rows.append([
                label, seed, done, batch_size, f"{seconds:.0f}", f"{done / seconds:.0f}", reached, f"{kl:.4f}",
                f"{1000 * sample_seconds(model):.0f}",
            ])
            print(f"seed {seed} {label}: checks {[(round(s), round(k, 4)) for s, k in watch.checks]}; row {rows[-1]}", flush=True)
    harness.print_table(
        ["model", "seed", "steps", "batch", "train s", "steps/s", f"s to KL ≤ {args.kl_target}", f"KL(p‖q) nats ({args.kl_samples // 1000}k)", "ms / 1000 samples"],
        rows,
    )
    print()
    harness.print_table(
        ["model", "mean KL", "min", "max"],
        [[label, f"{np.mean(v):.4f}", f"{min(v):.4f}", f"{max(v):.4f}"] for label, v in finals.items()],
    )


if __name__ == "__main__":
    main()
