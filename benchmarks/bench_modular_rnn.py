"""Time the modular network (Feulner et al. 2022): the fast preset, and one update of the paper preset.

    python benchmarks/bench_modular_rnn.py [--repeats 3] [--paper-update]

Prints the median wall time of a whole run of the fast default preset (train + both
adaptations + test trials; limit: 90 s on two cores) and the cost of one training
update (forward + backward) as a multiple of a forward pass alone (reverse-mode
differentiation costs a small constant factor, typically 2-4x). ``--paper-update``
also times one training update of the paper preset (400 units per module, 400 steps,
80 trials, float32) and one adaptation update (1 trial), to extrapolate a paper run
(500 + 2 x 100 updates).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from nwbmotor.models._bptt import MODULES, forward, init_params, loss_and_grads
from nwbmotor.models._modular_rnn import PRESETS, ModularRnnOptions, _blas_threads, run_modular_rnn


def _update_times(opts: ModularRnnOptions, batch: int, repeats: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    task = opts.task
    params = init_params(opts.n_units, 3, 2, rng, dtype=np.dtype(opts.dtype).type)
    inputs, targets = task.trials(rng.integers(0, 8, batch))
    x0 = {m: rng.uniform(-0.1, 0.1, (batch, opts.n_units)) for m in MODULES}
    fwd, full = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        forward(params, inputs, x0, opts.alpha)
        t1 = time.perf_counter()
        loss_and_grads(params, inputs, targets, x0, opts.alpha, loss_start=task.loss_start,
                       weight_penalty=opts.weight_penalty(), rate_penalty=opts.rate_penalty())
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
    print(f"fast preset run (train + 2 adaptations + tests), median of {args.repeats}: {run:.1f} s "
          f"(runs {', '.join(f'{r:.1f}' for r in runs)}); limit 90 s -> {run / 90:.2f} of the limit")

    opts = ModularRnnOptions(**PRESETS["default"])
    with _blas_threads(opts.blas_threads):
        fwd, full = _update_times(opts, opts.batch, 7)
        print(f"default update ({opts.n_units} units/module, {opts.n_steps} steps, {opts.batch} trials): "
              f"forward {fwd * 1e3:.1f} ms, forward+backward {full * 1e3:.1f} ms, ratio {full / fwd:.2f}x")
        if args.paper_update:
            paper = ModularRnnOptions(**PRESETS["paper"])
            fwd, full = _update_times(paper, paper.batch, 2)
            _, single = _update_times(paper, 1, 3)
            total = paper.n_updates * full + 2 * paper.n_adapt * single
            print(f"paper training update (400 units/module, 400 steps, 80 trials, {paper.dtype}): forward {fwd:.2f} s, "
                  f"forward+backward {full:.2f} s, ratio {full / fwd:.2f}x; adaptation update (1 trial) {single:.2f} s; "
                  f"a paper run ~ {total / 60:.0f} min")


if __name__ == "__main__":
    main()
