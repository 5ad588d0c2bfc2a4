"""Helpers shared by the benchmark scripts: timing, memory, tables, 2-D KL.

Timing on a shared machine is noisy, so comparisons run their contenders
alternately in one process (`alternate_rates`) and report ratios from the same
run. Peak memory is the resident-set high-water mark of a fresh process
(`ru_maxrss`), so it is measured in a subprocess per model (`run_worker`).
"""

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

import tfnf

WORKER_PREFIX = "BENCHMARK-RESULT "


# --- the machine --------------------------------------------------------------------------
def cpu_description():
    """`"<model name>, <n> cores, flags: ..."` from /proc/cpuinfo: ratios between flows differ
    between CPUs (AMX, AVX-512, bf16), so every result names the CPU it was measured on."""
    import platform

    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    wanted = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16") if f in flags]
    return f"{model}, {os.cpu_count()} cores, flags: {' '.join(wanted) or 'none of avx2/avx512/amx'}"


# --- output -----------------------------------------------------------------------------
def print_table(headers, rows):
    """Print a Markdown table; `rows` are sequences of already formatted cells."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    sys.stdout.flush()


def ratio(a, b):
    """`a / b` formatted as `1.23x`, or `n/a`."""
    if a is None or b is None or not b:
        return "n/a"
    return f"{a / b:.2f}x"


# --- memory and subprocesses --------------------------------------------------------------
def peak_rss_mb():
    """This process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report_from_worker(result):
    """Called in a worker subprocess: hand `result` (a JSON-able dict) to the parent."""
    print(WORKER_PREFIX + json.dumps(result), flush=True)


def run_worker(script, args):
    """Run `script` with `args` in a fresh Python process; return its reported dict."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"), KERAS_BACKEND="tensorflow")
    done = subprocess.run(
        [sys.executable, script, *[str(a) for a in args]], env=env, capture_output=True, text=True, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith(WORKER_PREFIX):
            return json.loads(line[len(WORKER_PREFIX) :])
    raise RuntimeError(f"{os.path.basename(script)} {args} failed:\n{done.stderr[-3000:]}")


# --- timing --------------------------------------------------------------------------------
def block(value):
    """Wait for `value` (a tensor, a dict or list of tensors) to be computed."""
    for leaf in tf.nest.flatten(value):
        if hasattr(leaf, "numpy"):
            leaf.numpy()
    return value


def timed(fn, *args):
    """`(seconds, result)` of one call of `fn(*args)`, waiting for the result."""
    start = time.perf_counter()
    result = block(fn(*args))
    return time.perf_counter() - start, result


def alternate_rates(steps, batches, steps_per_round=30, rounds=5):
    """Steady-state calls per second of each function in `steps`, measured alternately.

    `steps` maps a name to a compiled function taking one batch; every function
    must already have been called once (compiled). The functions take turns
    for `rounds` rounds of `steps_per_round` calls each, so load on the machine
    hits all of them alike. Returns `{name: median rate over rounds}`.
    """
    rates = {name: [] for name in steps}
    for r in range(rounds):
        order = list(steps) if r % 2 == 0 else list(steps)[::-1]
        for name in order:
            start = time.perf_counter()
            result = None
            for i in range(steps_per_round):
                result = steps[name](batches[i % len(batches)])
            block(result)
            rates[name].append(steps_per_round / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def matmul_gflops(n=2048, seconds=3.0, jit_compile=True):
    """Achieved float32 GFLOP/s of an `[n, n] @ [n, n]` matmul, the machine's practical peak.

    `jit_compile=True` times XLA's matmul, False TensorFlow's own kernel (oneDNN
    on x86 CPUs). Counts `2 n^3` FLOPs per product; repeats for about `seconds`
    and returns the best of five timed batches.
    """
    a = tf.random.stateless_normal([n, n], seed=[1, 2])
    b = tf.random.stateless_normal([n, n], seed=[3, 4])

    def reduced_product(x, y):
        return tf.reduce_sum(tf.matmul(x, y))

    product = tf.function(reduced_product, jit_compile=jit_compile)
    block(product(a, b))
    single, _ = timed(product, a, b)
    repeats = max(1, int(seconds / 5 / max(single, 1e-6)))
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            out = product(a, b)
        block(out)
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2.0 * n**3 / best / 1e9


def parameter_count(variables):
    return int(sum(int(np.prod(v.shape)) for v in variables if v.trainable))


# --- eight Gaussians -------------------------------------------------------------------------
def eight_gaussians_data(n, seed):
    """`n` points `[n, 2]` of the eight-Gaussians density (`tfnf.datasets.toy2d`)."""
    return tfnf.datasets.toy2d("eight_gaussians", n, seed=seed)


def eight_gaussians_kl(log_q, n=100_000, seed=12345, chunk=10_000):
    """KL(p || q) = E_p[log p - log q] in nats on `n` fresh eight-Gaussians samples.

    `log_q` maps a float32 array `[m, 2]` to `[m]` log-densities; `log p` is exact
    (`tfnf.datasets.toy2d_log_prob`).
    """
    x = eight_gaussians_data(n, seed)
    log_p = tfnf.datasets.toy2d_log_prob("eight_gaussians", x)
    log_q_values = np.concatenate([np.asarray(log_q(x[i : i + chunk])) for i in range(0, n, chunk)]).astype(np.float64)
    return float(np.mean(log_p - log_q_values))
