"""Many inputs, one job each: serially, on local worker processes, or as Ray tasks.

A :class:`BatchJob` is one input (a video, an image folder, a MOTChallenge sequence) with the
final paths of its outputs. A job function writes each output under a temporary name beside the
final one (:func:`partial_path`); only when the whole input is done are they renamed to their
final names (``os.replace``, atomic on one file system). So an output file that exists is
complete: a rerun with ``resume`` skips the inputs whose outputs all exist, and a failed input
leaves nothing behind but its error in the summary, while the other inputs finish.

Each input is tracked by the same code whatever runs it, so a batch gives the same files as a
serial run, byte for byte. Workers get ``cores // workers`` threads each (BLAS, OpenMP, ONNX
Runtime, OpenCV) so that they do not oversubscribe the cores.

Ray (``pip install cosmot[ray]``): one task per input, one CPU each; ``ray_address=None`` starts
a local cluster, ``"auto"`` or ``"host:port"`` joins a running one. Input and output paths must
then be visible to every node (a shared file system).
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

#: Environment variables that cap a worker's threads (read by the libraries when they load).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "COSMOT_THREADS")

#: Suffix of the list files accepted as inputs (one path per line).
LIST_SUFFIXES = (".txt", ".lst", ".list")


@dataclass(frozen=True)
class BatchJob:
    """One input and the final paths of its outputs (``name`` is unique within a batch)."""

    name: str
    input: str
    outputs: tuple[str, ...]


@dataclass
class JobResult:
    """What became of one job: ``status`` is ``"done"``, ``"skipped"`` (outputs already there),
    ``"failed"`` (``error`` says why) or ``"interrupted"`` (the batch was stopped first).
    ``seconds`` is wall time, ``cpu_seconds`` the worker process's CPU time for this job;
    ``stats`` what the job function returned."""

    name: str
    status: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    stats: dict = field(default_factory=dict)
    error: str = ""
    #: the warnings the job raised (dropped rows, frame gaps, a truncated video, ...): a
    #: worker's stderr is not the user's, so they travel back with the result
    warnings: tuple[str, ...] = ()

    @property
    def frames(self) -> int:
        return int(self.stats.get("frames", 0))

    @property
    def ids(self) -> int:
        return int(self.stats.get("ids", 0))


#: Files written beside an output that belong to it (a det file's ``DET.json`` metadata).
COMPANIONS = (".json",)


def partial_path(path: str | os.PathLike) -> Path:
    """Where an output is written until its input is finished: a hidden name beside the final
    one, keeping the extension (video writers choose the codec from it)."""
    p = Path(path)
    return p.with_name(f".{p.stem}.partial{p.suffix}")


# ---------------------------------------------------------------------------- inputs
def expand_inputs(items: Sequence[str], accept_dir: Callable[[Path], bool],
                  accept_file: Callable[[Path], bool],
                  incomplete_dir: Callable[[Path], str | None] = lambda p: None) -> list[str]:
    """Turn command-line items into a list of inputs, in order, without duplicates.

    Each item is a glob pattern (``*``, ``?``, ``[``), a list file (``.txt``/``.lst``/``.list``
    that ``accept_file`` refuses: one input per line, ``#`` comments, paths relative to the list
    file), a folder that is itself an input (``accept_dir``), a folder of inputs (its entries
    that ``accept_dir``/``accept_file`` accept, in name order), or anything else, passed as it
    is (a file, a camera index, a URL: the command reports what is wrong with it).
    ``incomplete_dir`` says what a folder lacks when it looks like an input but is not one (a
    sequence without its seqinfo.ini): such a folder, given or inside a given folder, is an
    error with that message rather than skipped.
    """
    out: list[str] = []

    def add(text: str) -> None:
        if text not in out:
            out.append(text)

    def visit(text: str, depth: int = 0) -> None:
        path = Path(text)
        if any(c in text for c in "*?[") and not path.exists():
            matches = sorted(glob.glob(text))
            if not matches:
                raise FileNotFoundError(f"{text}: the pattern matches nothing")
            for m in matches:
                visit(m, depth)
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES and not accept_file(path):
            if depth > 2:
                raise ValueError(f"{text}: list files nested too deep")
            for line in path.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    entry = Path(line)
                    visit(str(entry if entry.is_absolute() else path.parent / entry), depth + 1)
        elif path.is_dir() and not accept_dir(path):
            if (why := incomplete_dir(path)) is not None:
                raise FileNotFoundError(why)
            entries = [c for c in sorted(path.iterdir()) if not c.name.startswith(".")]
            for c in entries:
                if c.is_dir() and not accept_dir(c) and (why := incomplete_dir(c)) is not None:
                    raise FileNotFoundError(why)
            children = [c for c in entries
                        if (c.is_dir() and accept_dir(c)) or (c.is_file() and accept_file(c))]
            if not children:
                raise FileNotFoundError(f"{text}: a folder with no inputs in it")
            for c in children:
                add(str(c))
        else:
            add(text)

    for item in items:
        visit(item)
    return out


def unique_names(inputs: Sequence[str], name_of: Callable[[str], str]) -> list[str]:
    """One output name per input (``name_of``), made unique with ``-2``, ``-3``, ..."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for text in inputs:
        base = name_of(text)
        k = seen.get(base, 0) + 1
        seen[base] = k
        names.append(base if k == 1 else f"{base}-{k}")
    return names


# ---------------------------------------------------------------------------- running
def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Cores of this machine shared out among ``workers`` (at least 1 each)."""
    if cores is None:
        from cosmot.runtime import available_cores

        cores = available_cores()
    return max(1, cores // max(1, workers))


def limit_threads(threads: int) -> None:
    """Cap this process's threads: environment for libraries not loaded yet, and the ones that
    are loaded (OpenCV, torch) directly."""
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def run_job(fn: Callable, job: BatchJob, options: dict) -> JobResult:
    """Run ``fn(job, partial_outputs, options) -> stats`` and commit its outputs.

    On success each partial output that exists is renamed to its final path; on failure the
    partial outputs are removed and the error is returned in the result, not raised.
    """
    partial = tuple(str(partial_path(p)) for p in job.outputs)
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for p in job.outputs:
                Path(p).parent.mkdir(parents=True, exist_ok=True)
            stats = fn(job, partial, options) or {}
            for tmp, final in zip(partial, job.outputs):
                for suffix in COMPANIONS:  # metadata beside an output goes with it
                    if os.path.exists(tmp + suffix):
                        os.replace(tmp + suffix, final + suffix)
                if os.path.exists(tmp):
                    os.replace(tmp, final)
            status, error = "done", ""
        except Exception as e:  # reported in the summary; the other inputs go on
            stats, status = {}, "failed"
            error = f"{type(e).__name__}: {e}"
            if options.get("verbose"):
                error += "\n" + traceback.format_exc()
            for tmp in partial:
                for path in (tmp, *(tmp + suffix for suffix in COMPANIONS)):
                    try:
                        os.remove(path)
                    except FileNotFoundError:
                        pass
    said = tuple(dict.fromkeys(str(w.message) for w in caught))  # in order, once each
    return JobResult(job.name, status, time.perf_counter() - t0, time.process_time() - c0,
                     stats, error, said)


def _worker_init(threads: int) -> None:
    limit_threads(threads)


def is_complete(job: BatchJob) -> bool:
    """All final outputs exist (they only appear when their input finished)."""
    return bool(job.outputs) and all(os.path.exists(p) for p in job.outputs)


def run_batch(fn: Callable, jobs: Sequence[BatchJob], options: dict, workers: int = 1,
              ray_address: str | None = None, use_ray: bool = False, resume: bool = False,
              progress: bool = True, on_result: Callable[[JobResult], None] | None = None
              ) -> list[JobResult]:
    """Run ``fn`` over ``jobs``; returns one :class:`JobResult` per job, in job order.

    workers: local processes (1: in this process, one input after another). use_ray: one Ray
        task per input instead (``ray_address``: None starts a local cluster with ``workers``
        CPUs, or ``"auto"``/``"host:port"`` to join one). resume: skip jobs whose outputs all
        exist. ``fn`` must be a module-level function (it is sent to other processes by name).
    """
    from tqdm import tqdm

    results: dict[str, JobResult] = {}
    todo = []
    for job in jobs:
        if resume and is_complete(job):
            results[job.name] = JobResult(job.name, "skipped")
            if on_result is not None:
                on_result(results[job.name])
        else:
            todo.append(job)
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), unit="input",
               disable=not progress, dynamic_ncols=True)
    frames = 0

    def finished(r: JobResult) -> None:
        nonlocal frames
        results[r.name] = r
        frames += r.frames
        bar.update(1)
        bar.set_postfix(frames=frames, failed=sum(x.status == "failed" for x in results.values()),
                        refresh=True)
        if on_result is not None:
            on_result(r)

    try:
        if use_ray:
            _run_ray(fn, todo, options, workers, ray_address, finished)
        elif workers <= 1 or len(todo) <= 1:
            for job in todo:
                finished(run_job(fn, job, options))
        else:
            _run_pool(fn, todo, options, workers, finished)
    finally:
        bar.close()
    return [results[j.name] for j in jobs if j.name in results]


def _run_pool(fn, jobs, options, workers, finished) -> None:
    import multiprocessing as mp

    threads = threads_per_worker(workers)
    saved = {v: os.environ.get(v) for v in THREAD_VARIABLES}
    for var in THREAD_VARIABLES:  # inherited by the workers before they import anything
        os.environ[var] = str(threads)
    try:
        # spawn, not fork: a forked copy of a process with torch/OpenMP threads can deadlock
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                 mp_context=mp.get_context("spawn"),
                                 initializer=_worker_init, initargs=(threads,)) as pool:
            pending = {pool.submit(run_job, fn, job, options): job for job in jobs}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = pending.pop(fut)
                    try:
                        finished(fut.result())
                    except Exception as e:  # the worker process died (killed, out of memory)
                        finished(JobResult(job.name, "failed",
                                           error=f"worker lost: {type(e).__name__}: {e}"))
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


@contextlib.contextmanager
def _signal_handlers_kept():
    """The SIGINT/SIGTERM/SIGHUP handlers as they were before the block (main thread only)."""
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    kept = {getattr(signal, n): signal.getsignal(getattr(signal, n))
            for n in names if hasattr(signal, n)}
    try:
        yield
    finally:
        if threading.current_thread() is threading.main_thread():
            for s, handler in kept.items():
                if handler is not None:
                    signal.signal(s, handler)


def _run_ray(fn, jobs, options, workers, address, finished) -> None:
    try:
        import ray
    except ImportError:
        raise ImportError("--ray needs the ray package: pip install 'cosmot[ray]'") from None
    started = False
    if not ray.is_initialized():
        env = {"env_vars": {v: "1" for v in THREAD_VARIABLES}}
        # ray.init replaces the SIGTERM handler with sys.exit (no summary, Ray's own dump):
        # the caller's handlers come back, so a stop signal ends the batch as without Ray
        with _signal_handlers_kept():
            if address is None:
                ray.init(num_cpus=max(1, workers), include_dashboard=False, runtime_env=env,
                         log_to_driver=False)
            else:
                ray.init(address=address, runtime_env=env, log_to_driver=False)
        started = True

    @ray.remote(num_cpus=1, max_retries=1)
    def task(job: BatchJob) -> JobResult:
        limit_threads(1)
        return run_job(fn, job, options)

    try:
        pending = {task.remote(job): job for job in jobs}
        while pending:
            # a timeout, so the loop returns to Python often and a stop signal ends it within a
            # fraction of a second; a signal that lands inside ray.wait runs the handler there and
            # Ray re-raises its Terminated as a plain KeyboardInterrupt (cli.signals keeps the
            # signal's number for the exit code)
            done, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
            for ref in done:
                job = pending.pop(ref)
                try:
                    finished(ray.get(ref))
                except Exception as e:  # the task's worker or node died
                    finished(JobResult(job.name, "failed",
                                       error=f"ray task lost: {type(e).__name__}: {e}"))
    finally:
        if started and address is None:
            ray.shutdown()


# ---------------------------------------------------------------------------- summary
def summary_table(results: Iterable[JobResult], wall_seconds: float | None = None) -> str:
    """A plain-text table: one row per input, then the totals."""
    results = list(results)
    rows = [("input", "status", "frames", "frames/s", "ids", "seconds", "error or warnings")]
    for r in results:
        fps = f"{r.frames / r.seconds:.1f}" if r.status == "done" and r.seconds > 0 else ""
        err = r.error.splitlines()[0] if r.error else ""
        if r.warnings:  # printed in full as the input finished
            err = (err + "; " if err else "") + f"{len(r.warnings)} warning(s), see above"
        rows.append((r.name, r.status, str(r.frames) if r.status == "done" else "", fps,
                     str(r.ids) if r.status == "done" else "",
                     f"{r.seconds:.1f}" if r.status not in ("skipped", "interrupted") else "",
                     err))
    done = [r for r in results if r.status == "done"]
    frames = sum(r.frames for r in done)
    count = {s: sum(r.status == s for r in results) for s in ("skipped", "failed", "interrupted")}
    total = f"{len(done)} done, {count['skipped']} skipped, {count['failed']} failed"
    if count["interrupted"]:
        total += f", {count['interrupted']} interrupted"
    total += f"; {frames} frames"
    if wall_seconds:
        total += f" in {wall_seconds:.1f} s ({frames / wall_seconds:.1f} frames/s overall)"
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in
                 enumerate(zip(row[:-1], widths))]
        lines.append("  ".join(cells) + (f"  {row[-1]}" if row[-1] else ""))
    return "\n".join(lines + [total])
