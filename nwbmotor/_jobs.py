"""Running independent jobs (sessions) serially or on dask.distributed, with progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["run_jobs"]

J = TypeVar("J")
R = TypeVar("R")


def run_jobs(
    func: Callable[..., R],
    jobs: Sequence[J],
    *,
    kwargs: dict[str, Any] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    label: str = "jobs",
    cleanup: Callable[[J], None] | None = None,
) -> list[R]:
    """Run ``func(job, **kwargs)`` for every job and return the results in job order.

    With ``workers == 1`` and no scheduler the jobs run here, one after the other.
    Otherwise they run on dask.distributed: a ``LocalCluster`` of ``workers``
    single-threaded processes, or the cluster at ``scheduler``. ``func`` must report
    failures in its result rather than raise (one failing job must not stop the
    others). On interruption (Ctrl-C) the cluster is closed and ``cleanup(job)`` is
    called for every job that had not finished, so no partial output is left.
    """
    from tqdm.auto import tqdm

    kwargs = kwargs or {}
    results: dict[int, R] = {}
    bar = tqdm(total=len(jobs), desc=label, unit="session", disable=not progress)
    try:
        if workers == 1 and scheduler is None:
            for i, job in enumerate(jobs):
                results[i] = func(job, **kwargs)
                bar.update()
        else:
            from dask.distributed import Client, LocalCluster, as_completed

            cluster = None
            if scheduler is None:
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
            try:
                client = Client(scheduler or cluster, timeout="10s")
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                if cluster is not None:
                    cluster.close()
                from nwbmotor._errors import NwbMotorValueError
                from nwbmotor._safe_yaml import clip, shorten

                raise NwbMotorValueError(
                    f"--scheduler {clip(scheduler)}: cannot connect to a dask scheduler there ({shorten(str(exc), 120)}); "
                    "expected the address of a running one, e.g. tcp://127.0.0.1:8786"
                ) from None
            with client:
                futures = {client.submit(func, job, pure=False, **kwargs): i for i, job in enumerate(jobs)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update()
            if cluster is not None:
                cluster.close()
    except BaseException:
        if cleanup is not None:
            for i, job in enumerate(jobs):
                if i not in results:
                    cleanup(job)
        raise
    finally:
        bar.close()
    return [results[i] for i in range(len(jobs))]
