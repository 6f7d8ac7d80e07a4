"""Time the modular network (Feulner et al. 2022) at default size, and BPTT against its forward pass.

    python benchmarks/bench_modular_rnn.py [--repeats 3] [--paper-update]

Prints the median wall time of a whole default run (train + both adaptations; limit:
120 s on two cores, aim ~60 s alone) and the cost of one training update (forward +
backward) as a multiple of a forward pass alone (reverse-mode differentiation costs a
small constant factor, typically 2-4x). ``--paper-update`` also times one update at the
paper's size (400 units per module, 400 steps, 80 trials) to extrapolate a paper-size run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from nwbmotor.models._bptt import MODULES, forward, init_params, loss_and_grads
from nwbmotor.models._modular_rnn import ModularRnnOptions, _blas_threads, run_modular_rnn


def _update_times(opts: ModularRnnOptions, batch: int, repeats: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    task = opts.task
    params = init_params(opts.n_units, 3, 2, rng)
    inputs, targets = task.trials(rng.integers(0, 8, batch))
    x0 = {m: rng.uniform(-0.1, 0.1, (batch, opts.n_units)) for m in MODULES}
    fwd, full = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        forward(params, inputs, x0, opts.alpha)
        t1 = time.perf_counter()
        loss_and_grads(params, inputs, targets, x0, opts.alpha, loss_start=task.loss_start)
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        full.append(t2 - t1)
    return statistics.median(fwd), statistics.median(full)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paper-update", action="store_true")
    args = parser.parse_args()

    runs = []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        run_modular_rnn(seed=i)
        runs.append(time.perf_counter() - t0)
    run = statistics.median(runs)
    print(f"default run (train + 2 adaptations + tests), median of {args.repeats}: {run:.1f} s "
          f"(runs {', '.join(f'{r:.1f}' for r in runs)}); limit 120 s -> {run / 120:.2f} of the limit")

    opts = ModularRnnOptions()
    with _blas_threads(opts.blas_threads):
        fwd, full = _update_times(opts, opts.batch, 7)
        print(f"default update ({opts.n_units} units/module, {opts.n_steps} steps, {opts.batch} trials): "
              f"forward {fwd * 1e3:.1f} ms, forward+backward {full * 1e3:.1f} ms, ratio {full / fwd:.2f}x")
        if args.paper_update:
            paper = ModularRnnOptions(n_units=400, n_steps=400, n_updates=500, batch=80, lr=1e-4)
            fwd, full = _update_times(paper, paper.batch, 2)
            print(f"paper update (400 units/module, 400 steps, 80 trials): forward {fwd:.2f} s, "
                  f"forward+backward {full:.2f} s, ratio {full / fwd:.2f}x; 500 updates ~ {500 * full / 60:.0f} min")


if __name__ == "__main__":
    main()
