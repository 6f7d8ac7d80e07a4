"""The one job runner: independent jobs (sessions) run here, or on dask.distributed, with progress.

Conversion (``convert --workers``), the analysis workflow (``analyze --workers``) and
the views' :func:`nwbmotor.map_sessions` all run their sessions through
:func:`run_jobs`, so serial and distributed runs, progress, Ctrl-C clean-up and the
naming of a failing session are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["run_jobs"]

J = TypeVar("J")
R = TypeVar("R")


def run_jobs(
    func: Callable[..., R],
    jobs: Sequence[J],
    *,
    kwargs: dict[str, Any] | None = None,
    workers: int = 1,
    scheduler: str | Client | None = None,
    progress: bool = True,
    label: str = "jobs",
    cleanup: Callable[[J], None] | None = None,
    describe: Callable[[J], str] | None = None,
) -> list[R]:
    """Run ``func(job, **kwargs)`` for every job and return the results in job order.

    Parameters
    ----------
    func : callable
        Picklable when run on dask (a module-level function, a ``functools.partial``;
        lambdas go through cloudpickle).
    jobs : sequence
        One item per job; only the item travels to a worker.
    kwargs : dict, optional
        Keyword arguments of every call.
    workers : int, default 1
        With 1 and no ``scheduler`` the jobs run here, one after the other. Otherwise a
        ``LocalCluster`` of ``workers`` single-threaded processes runs them.
    scheduler : str or distributed.Client, optional
        The address of a running scheduler (``"tcp://host:8786"``), or a Client used as
        is; ``workers`` is then ignored.
    progress : bool, default True
        A tqdm bar as jobs finish.
    label : str
        The bar's description.
    cleanup : callable, optional
        On interruption (Ctrl-C) or error, ``cleanup(job)`` is called for every job
        that had not finished, so that no partial output is left.
    describe : callable, optional
        ``describe(job)`` is added as a note to an exception a job raises (e.g. the
        session file), so the error names what failed.

    Returns
    -------
    list
        ``func``'s results, in the order of ``jobs``.

    Raises
    ------
    NwbMotorValueError
        ``workers`` < 1, or a scheduler that cannot be reached.
    NwbMotorTypeError
        ``scheduler`` of a wrong type.

    Examples
    --------
    >>> run_jobs(abs, [-2, 3], progress=False)
    [2, 3]
    """
    from tqdm.auto import tqdm

    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise NwbMotorValueError(f"workers: expected an integer >= 1, got {workers!r}")
    kwargs = kwargs or {}
    results: dict[int, R] = {}
    bar = tqdm(total=len(jobs), desc=label, unit="session", disable=not progress)
    current: list[int] = []
    try:
        if workers == 1 and scheduler is None:
            for i, job in enumerate(jobs):
                current[:] = [i]
                results[i] = func(job, **kwargs)
                bar.update()
        else:
            _run_distributed(func, jobs, kwargs, workers, scheduler, results, bar, current)
    except BaseException as exc:
        if describe is not None and current and isinstance(exc, Exception):
            exc.add_note(f"while running {getattr(func, '__name__', func)!r} on {describe(jobs[current[0]])}")
        if cleanup is not None:
            for i, job in enumerate(jobs):
                if i not in results:
                    cleanup(job)
        raise
    finally:
        bar.close()
    return [results[i] for i in range(len(jobs))]


def _run_distributed(
    func: Callable[..., R],
    jobs: Sequence[J],
    kwargs: dict[str, Any],
    workers: int,
    scheduler: str | Client | None,
    results: dict[int, R],
    bar: Any,
    current: list[int],
) -> None:
    from distributed import Client, LocalCluster, as_completed

    owned: list[Any] = []
    try:
        if scheduler is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            owned.append(cluster)
            client = Client(cluster)
            owned.insert(0, client)
        elif isinstance(scheduler, str):
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise NwbMotorValueError(
                    f"scheduler: cannot reach a dask scheduler at {scheduler[:100]!r} ({type(exc).__name__}); "
                    "expected the address of a running scheduler, e.g. 'tcp://host:8786'"
                ) from None
            owned.append(client)
        elif isinstance(scheduler, Client):
            client = scheduler
        else:
            raise NwbMotorTypeError(
                f"scheduler: expected a distributed.Client, a scheduler address or None, got {type(scheduler).__name__}"
            )
        futures = {client.submit(func, job, pure=False, **kwargs): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            current[:] = [i]
            results[i] = future.result()
            bar.update()
        current.clear()
    finally:
        for obj in owned:
            obj.close()
