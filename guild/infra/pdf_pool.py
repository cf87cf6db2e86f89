"""The PDF render pool: a small supervisor of spawn-context worker processes, fair to tenants.

Why not ``concurrent.futures.ProcessPoolExecutor(max_tasks_per_child=...)``: on CPython 3.11–3.12 it
stops replacing retired workers while tasks are queued, so after a few hundred renders under a burst
every render hangs for good. This module does the little a PDF pool needs, each part visible:

* **Workers**: one spawn-context process per slot (WeasyPrint crashes when forked or threaded),
  owned by one supervisor thread per slot in the parent. A worker renders one document at a time
  and is replaced after ``recycle_after`` documents (WeasyPrint's caches only grow), after a
  render that overran ``timeout`` (killed), and when it died (replaced on the next job).
* **Dying with the parent**: a worker asks Linux to SIGKILL it when its parent goes
  (``prctl(PR_SET_PDEATHSIG)``), and, on every platform, a watchdog thread ends it as soon as its
  parent process is gone. Workers are daemonic, so a normal interpreter exit also ends them.
* **Fair queueing**: every job names a tenant (the production company for contracts, the compact
  for compact documents); waiting jobs are served one tenant after the other (round-robin), each
  tenant may hold at most ``tenant_max`` jobs (waiting or rendering) and all tenants together
  ``queue_max``. A job that finds its bound full is refused at once with :class:`PdfBusy` and a
  Retry-After estimate, so a wait is bounded by the queue ahead times the render timeout.
* **Health**: :meth:`RenderPool.health` says ``down`` when the pool was shut down, when workers
  cannot start (and none is alive), when a supervisor thread died, or when queued work has made
  no progress for far longer than a render may take; ``/health`` reports it.

The worker side imports WeasyPrint only after it set up its parent-death signal and memory cap,
so this module itself stays light (no WeasyPrint import).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import math
import multiprocessing
import os
import resource
import signal
import stat
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeAlias, TypeVar, cast

from guild.infra.pdf_types import PdfRenderError

__all__ = ["FairQueue", "PdfBusy", "PdfTimeout", "PdfTooLarge", "PdfUnavailable", "RenderPool"]

log = logging.getLogger("guild.pdf")


class PdfUnavailable(RuntimeError):
    """The document cannot be rendered now; try again after ``retry_after`` seconds."""

    rule = "pdf_unavailable"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class PdfBusy(PdfUnavailable):
    """Refused without waiting: the tenant's (or everyone's) share of the render queue is full."""

    rule = "pdf_queue_full"


class PdfTimeout(PdfUnavailable):
    """The render overran its time; its worker was killed and is being replaced."""

    rule = "pdf_render_timeout"


class PdfTooLarge(ValueError):
    """The document is larger than the renderer accepts (or than a worker's memory allows)."""

    def __init__(self, message: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit


# --- the worker process ---------------------------------------------------------------------------

_ToWorker: TypeAlias = tuple[Any, ...] | None  # (html, attachments, title) to render; None: stop
_FromWorker: TypeAlias = tuple[str, Any]  # (kind, detail): ("ready", pid), ("ok", PDF bytes), ("render", text)...

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:  # reparented: the parent is gone
            os._exit(0)


def _die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` ends, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog below still works
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(0)
    # The watchdog only sleeps and compares pids; it never touches WeasyPrint.
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <cachedir>{cache}</cachedir>
  <include ignore_missing="yes">{system}</include>
</fontconfig>
"""


def _font_config_folder() -> str | None:
    """A folder holding a fontconfig configuration for render workers: a cache folder of guild's own,
    listed first, then the system configuration. fontconfig still reads the system's valid caches; but a
    worker that fails to load fonts (e.g. under its memory cap) rescans and writes the empty result to
    the first writable cache folder, which for a root process is the system's, and every later render on
    the machine would then find no fonts (WeasyPrint crashes in Pango). One folder per user, reused by
    every pool, so that nothing accumulates when a server is killed. ``None`` where the operator set
    ``FONTCONFIG_FILE`` or the platform has no system configuration."""
    system = "/etc/fonts/fonts.conf"
    if os.environ.get("FONTCONFIG_FILE") or not os.path.exists(system):
        return None
    folder = os.path.join(tempfile.gettempdir(), f"guild-fontconfig-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return None  # someone else's (or a link): do without rather than trust it
    config = _FONTCONFIG.format(cache=os.path.join(folder, "cache"), system=system)
    path = os.path.join(folder, "fonts.conf")
    if not os.path.exists(path):
        fd, temporary = tempfile.mkstemp(dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(config)
        os.replace(temporary, path)  # concurrent pools write the same text; readers see a whole file
    return folder


def _cap_memory(memory_mb: int) -> None:
    """Cap this process's address space (where the platform allows it; elsewhere no cap)."""
    try:
        limit = memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ImportError, ValueError, OSError, AttributeError):  # pragma: no cover - e.g. not on Linux
        pass


def _worker_main(
    conn: Connection[_FromWorker, _ToWorker],
    parent_pid: int,
    memory_mb: int,
    font_folder: str | None = None,
    nice: int = 0,
) -> None:
    """A render worker: set up, say ready, then render documents until told to stop (``None``)."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    try:
        if font_folder:
            os.environ["FONTCONFIG_FILE"] = os.path.join(font_folder, "fonts.conf")
        if nice:
            os.nice(nice)  # renders yield the CPU to the server's requests
        if memory_mb:
            _cap_memory(memory_mb)
        # WeasyPrint (and with it fontconfig) is loaded here, in the worker only, once its font cache
        # folder and memory cap are set: never in the server process.
        from guild.infra.pdf_render import html_to_pdf  # noqa: PLC0415 - heavy, and must follow the set-up above

        # Ready means able to render: fonts and WeasyPrint's lazy set-up happen here, not in a
        # caller's first document, and a worker that cannot render fails its start.
        html_to_pdf("<!DOCTYPE html><p>guild PDF worker</p>", [], "warm-up")
    except BaseException as exc:  # noqa: BLE001 - reported to the supervisor, which decides
        try:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        finally:
            os._exit(1)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        html, attachments, title = job
        try:
            pdf = html_to_pdf(html, attachments, title)
        except MemoryError:
            conn.send(("memory", "the document needs more memory than a PDF worker may use"))
            return  # memory state is doubtful after this: retire
        except PdfRenderError as exc:
            conn.send(("render", str(exc)))
        except Exception as exc:  # noqa: BLE001 - e.g. a WeasyPrint bug on odd input
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", pdf))


# --- fair queue -----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Job:
    tenant: str
    payload: tuple[Any, ...]
    future: concurrent.futures.Future[bytes] = field(default_factory=concurrent.futures.Future)
    enqueued_at: float = field(default_factory=time.monotonic)


T = TypeVar("T")


class FairQueue(Generic[T]):
    """Waiting jobs by tenant, served round-robin: one job of each tenant with work, in turn."""

    def __init__(self) -> None:
        self._by_tenant: dict[str, deque[T]] = {}  # insertion order is the turn order
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def put(self, tenant: str, item: T) -> None:
        self._by_tenant.setdefault(tenant, deque()).append(item)
        self._count += 1

    def take(self) -> T:
        """The next item: the first of the tenant whose turn it is; that tenant moves to the back."""
        tenant = next(iter(self._by_tenant))  # IndexError-free: callers check len() first
        items = self._by_tenant.pop(tenant)
        item = items.popleft()
        if items:
            self._by_tenant[tenant] = items
        self._count -= 1
        return item

    def remove(self, tenant: str, item: T) -> bool:
        items = self._by_tenant.get(tenant)
        if not items or item not in items:
            return False
        items.remove(item)
        if not items:
            del self._by_tenant[tenant]
        self._count -= 1
        return True

    def drain(self) -> list[T]:
        items = [i for q in self._by_tenant.values() for i in q]
        self._by_tenant.clear()
        self._count = 0
        return items

    def oldest(self, key: Callable[[T], float]) -> T | None:
        """The item that sorts first by ``key`` (e.g. its enqueue time) among each tenant's next item."""
        heads = [q[0] for q in self._by_tenant.values() if q]
        return min(heads, key=key) if heads else None


# --- the supervisor -------------------------------------------------------------------------------


class _RetryStart:
    pass


RETRY_START = _RetryStart()


class _Worker:
    def __init__(self, process: BaseProcess, conn: Connection[_ToWorker, _FromWorker]) -> None:
        self.process = process
        self.conn = conn
        self.tasks = 0
        self.ready = False

    @property
    def pid(self) -> int | None:
        return self.process.pid  # None only before the process started; a _Worker's has

    def stop(self, graceful: bool) -> None:
        """End the process and reap it (never leaves a zombie or an orphan behind)."""
        if graceful and self.process.is_alive():
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
            self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class _Slot:
    """One worker process and the supervisor thread that feeds it."""

    def __init__(self, pool: RenderPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.worker: _Worker | None = None
        self.busy = False
        self._lock = threading.Lock()  # guards self.worker against shutdown's kill
        self.thread = threading.Thread(target=self._run, name=f"guild-pdf-supervisor-{index}", daemon=True)

    # worker life ------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        pool = self.pool
        ctx = multiprocessing.get_context("spawn")
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=_worker_main,
            args=(child_conn, os.getpid(), pool.memory_mb, pool.font_folder, pool.nice),
            name=f"guild-pdf-worker-{self.index}",
            daemon=True,
        )
        process.start()
        child_conn.close()
        worker = _Worker(process, parent_conn)
        with self._lock:
            self.worker = worker
        try:
            if not parent_conn.poll(pool.start_timeout):
                raise RuntimeError(f"no answer within {pool.start_timeout:g} s")
            kind, detail = parent_conn.recv()
            if kind != "ready":
                raise RuntimeError(detail)
            worker.ready = True
        except EOFError:
            process.join(1)
            self._drop(graceful=False)
            raise RuntimeError(f"exited while starting (exit code {process.exitcode})") from None
        except BaseException:
            self._drop(graceful=False)
            raise
        pool._worker_started()
        return worker

    def _drop(self, graceful: bool, background: bool = False) -> None:
        """Take the worker out of service and end it; ``background``: let a reaper thread wait for it."""
        with self._lock:
            worker, self.worker = self.worker, None
        if worker is None:
            return
        if worker.ready:
            self.pool._count("workers_retired")
        if background:
            self.pool._reap_in_background(worker)
        else:
            worker.stop(graceful)

    def kill(self) -> None:
        """From another thread (shutdown): kill the worker now; this slot's thread reaps it."""
        with self._lock:
            worker = self.worker
        if worker is not None:
            try:
                worker.process.kill()  # a no-op once the process was reaped
            except (OSError, ValueError, AttributeError):
                pass

    def pid(self) -> int | None:
        with self._lock:
            worker = self.worker
        return worker.pid if worker is not None and worker.process.is_alive() else None

    # the loop ---------------------------------------------------------------------------------

    def _run(self) -> None:
        pool = self.pool
        try:
            while True:
                job = pool._next_job(self)
                if job is None:
                    break
                if isinstance(job, _RetryStart):  # RETRY_START, the only instance
                    self._start_quietly()
                    continue
                self.busy = True
                try:
                    self._serve(job)
                finally:
                    self.busy = False
                    pool._progress()
                if self.worker is not None and self.worker.tasks >= pool.recycle_after:
                    self._drop(graceful=True, background=True)  # its exit need not delay the replacement
                    if not pool.closed:
                        self._start_quietly()  # the replacement starts before the next job needs it
        except BaseException:  # pragma: no cover - a supervisor bug; health reports the dead thread
            log.exception("PDF supervisor thread %s died", self.index)
            raise
        finally:
            self._drop(graceful=not pool._kill_on_close)

    def _start_quietly(self) -> None:
        if self.worker is not None:  # a worker that died while idle
            self._drop(graceful=False)
        try:
            self._spawn()
        except Exception as exc:  # noqa: BLE001
            if not self.pool.closed:  # (a start cut short by shutdown is no failure)
                self.pool._start_failed(exc)

    def _serve(self, job: _Job) -> None:
        pool = self.pool
        try:
            pdf = self._render(job)
        except BaseException as exc:  # noqa: BLE001 - every outcome goes to the caller
            pool._count("failed")
            job.future.set_exception(exc)
        else:
            pool._count("rendered")
            job.future.set_result(pdf)

    def _render(self, job: _Job) -> bytes:
        pool = self.pool
        if self.worker is None or not self.worker.process.is_alive():
            if self.worker is not None:  # died while idle
                self._drop(graceful=False)
            down = pool._in_backoff()
            if down is not None:
                raise down
            try:
                self._spawn()
            except Exception as exc:  # noqa: BLE001
                if pool.closed:
                    raise PdfUnavailable("the PDF renderer is shutting down") from None
                raise pool._start_failed(exc) from None
        worker = self.worker
        assert worker is not None
        started = time.monotonic()
        try:
            worker.conn.send(job.payload)
            answered = worker.conn.poll(pool.timeout)
            if answered:
                kind, value = worker.conn.recv()
        except (EOFError, OSError):
            self._drop(graceful=False)
            if pool.closed:
                raise PdfUnavailable("the PDF renderer is shutting down") from None
            raise PdfUnavailable("the PDF worker stopped while rendering this document; try again") from None
        if not answered:
            self._drop(graceful=False)  # killed: a render that overran never holds a worker
            pool._count("timeouts")
            raise PdfTimeout(
                f"rendering the document took longer than {pool.timeout:g} s and was stopped", pool.retry_after()
            )
        worker.tasks += 1
        pool._rendered_in(time.monotonic() - started)
        if kind == "ok":
            return cast(bytes, value)  # the worker sends ("ok", PDF bytes)
        if kind == "memory":
            self._drop(graceful=False)
            raise PdfTooLarge(value)
        if kind == "render":
            raise PdfRenderError(value)
        raise RuntimeError(f"PDF worker error: {value}")


class RenderPool:
    """Supervised spawn-context workers behind a tenant-fair, bounded queue. Thread-safe."""

    def __init__(
        self,
        workers: int,
        recycle_after: int = 50,
        queue_max: int = 64,
        tenant_max: int = 8,
        timeout: float = 30.0,
        start_timeout: float = 60.0,
        memory_mb: int = 0,
        nice: int = 0,
    ) -> None:
        if workers < 1 or recycle_after < 1 or queue_max < 1 or tenant_max < 1 or timeout <= 0:
            raise ValueError("workers, recycle_after, queue_max, tenant_max and timeout must be positive")
        self.workers = workers
        self.recycle_after = recycle_after
        self.queue_max = queue_max
        self.tenant_max = tenant_max
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.memory_mb = memory_mb
        self.nice = nice
        self.font_folder = _font_config_folder()
        self.closed = False
        self._kill_on_close = False
        self._cond = threading.Condition()
        self._queue: FairQueue[_Job] = FairQueue()
        self._held: dict[str, int] = {}  # tenant -> jobs waiting or rendering
        self._slots: list[_Slot] = []
        self._retiring: set[_Worker] = set()  # recycled workers not yet reaped
        self._stats = dict.fromkeys(
            ("rendered", "failed", "timeouts", "refused", "workers_started", "workers_retired", "start_failures"), 0
        )
        self._avg_seconds = 1.0
        self._last_progress = time.monotonic()
        self._start_error: str | None = None
        self._backoff = 0.0
        self._retry_at = 0.0

    # submitting -------------------------------------------------------------------------------

    def submit(self, tenant: str, payload: tuple[Any, ...]) -> concurrent.futures.Future[bytes]:
        """Queue a render; the future gets the PDF bytes or the error. Refuses at once when full."""
        with self._cond:
            if self.closed:
                raise PdfUnavailable("the PDF renderer is shut down")
            down = self._in_backoff()
            if down is not None:
                raise down
            held = sum(self._held.values())
            if held >= self.queue_max:
                self._stats["refused"] += 1
                raise PdfBusy(f"the PDF renderer is busy ({held} documents queued)", self.retry_after())
            if self._held.get(tenant, 0) >= self.tenant_max:
                self._stats["refused"] += 1
                raise PdfBusy(
                    "too many documents of the same production company or compact are waiting or rendering "
                    f"(at most {self.tenant_max} at a time)",
                    self.retry_after(),
                )
            if not self._slots:
                self._slots = [_Slot(self, i) for i in range(self.workers)]
                for slot in self._slots:
                    slot.thread.start()
            job = _Job(tenant, payload)
            self._held[tenant] = self._held.get(tenant, 0) + 1
            self._queue.put(tenant, job)
            self._cond.notify()

        def release(_future: concurrent.futures.Future[bytes]) -> None:
            self._release(job)

        job.future.add_done_callback(release)
        return job.future

    def _release(self, job: _Job) -> None:
        with self._cond:
            if job.future.cancelled():
                self._queue.remove(job.tenant, job)
            left = self._held.get(job.tenant, 0) - 1
            if left > 0:
                self._held[job.tenant] = left
            else:
                self._held.pop(job.tenant, None)

    def _next_job(self, slot: _Slot) -> _Job | _RetryStart | None:
        """For a slot thread: the next job to render (skipping cancelled ones), None when closed, or
        ``RETRY_START`` when workers failed to start and it is time to try again: the pool heals
        (and ``/health`` turns ready) without waiting for a request, which a router would not send
        to an instance reported down."""
        with self._cond:
            while True:
                while not self.closed and not len(self._queue):
                    if slot.index == 0 and self._start_error is not None and not self._live_workers():
                        wait = self._retry_at - time.monotonic()
                        if wait <= 0:
                            self._retry_at = time.monotonic() + self._backoff  # one attempt per period
                            return RETRY_START
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self.closed:
                    return None
                job = self._queue.take()
                if job.future.set_running_or_notify_cancel():
                    self._last_progress = time.monotonic()
                    return job

    def retry_after(self) -> int:
        """Seconds until a refused request is worth retrying: the queue ahead, at the recent pace."""
        with self._cond:
            held = sum(self._held.values())
            return max(1, min(120, math.ceil(self._avg_seconds * (held + 1) / self.workers)))

    # bookkeeping ------------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._cond:
            self._stats[name] += 1

    def _progress(self) -> None:
        with self._cond:
            self._last_progress = time.monotonic()

    def _rendered_in(self, seconds: float) -> None:
        with self._cond:
            self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * seconds

    def _reap_in_background(self, worker: _Worker) -> None:
        with self._cond:
            self._retiring.add(worker)

        def reap() -> None:
            try:
                worker.stop(graceful=True)
            finally:
                with self._cond:
                    self._retiring.discard(worker)

        threading.Thread(target=reap, name="guild-pdf-reaper", daemon=True).start()

    def _worker_started(self) -> None:
        with self._cond:
            self._stats["workers_started"] += 1
            self._start_error = None
            self._backoff = 0.0
            self._last_progress = time.monotonic()

    def _start_failed(self, exc: BaseException) -> PdfUnavailable:
        log.error("a PDF worker could not start: %s", exc)
        with self._cond:
            self._stats["start_failures"] += 1
            self._start_error = str(exc)
            self._backoff = min(30.0, max(1.0, self._backoff * 2))
            self._retry_at = time.monotonic() + self._backoff
            self._cond.notify_all()  # the first slot schedules the next attempt
            backoff = int(self._backoff)  # whole seconds: 1, 2, 4, ... 30
            return PdfUnavailable("PDF rendering is unavailable: its worker processes cannot start", backoff)

    def _live_workers(self) -> int:
        return sum(1 for s in self._slots if s.pid() is not None)

    def _in_backoff(self) -> PdfUnavailable | None:
        """While workers fail to start (and none is alive), refuse at once until the next attempt."""
        with self._cond:
            if self._start_error is None or self._live_workers():
                return None
            wait = self._retry_at - time.monotonic()
            if wait <= 0:
                return None
            return PdfUnavailable("PDF rendering is unavailable: its worker processes cannot start", math.ceil(wait))

    # observing --------------------------------------------------------------------------------

    def worker_pids(self) -> list[int]:
        return [pid for s in self._slots if (pid := s.pid()) is not None]

    def stats(self) -> dict[str, int]:
        with self._cond:
            return dict(self._stats)

    def health(self) -> dict[str, Any]:
        """``{"status": "ok" | "down", ...}``: what a readiness probe needs, nothing internal."""
        with self._cond:
            queued = len(self._queue)
            running = sum(1 for s in self._slots if s.busy)
            info: dict[str, Any] = {
                "workers": self._live_workers(),
                "max_workers": self.workers,
                "queued": queued,
                "rendering": running,
            }
            problem = None
            if self.closed:
                problem = "shut down"
            elif any(not s.thread.is_alive() for s in self._slots):
                problem = "a supervisor thread stopped"
            elif self._start_error is not None and info["workers"] == 0:
                problem = "worker processes cannot start"
            else:
                oldest = self._queue.oldest(key=lambda job: job.enqueued_at)
                stall = self.timeout + self.start_timeout + 5
                now = time.monotonic()
                if oldest is not None and now - oldest.enqueued_at > stall and now - self._last_progress > stall:
                    problem = f"no progress for {now - self._last_progress:.0f} s with {queued} documents waiting"
        if problem:
            return {"status": "down", "detail": problem, **info}
        return {"status": "ok", **info}

    # stopping ---------------------------------------------------------------------------------

    def shutdown(self, wait: bool = True) -> None:
        """Stop: refuse new work, fail waiting jobs, end every worker process and reap it.

        ``wait=True`` lets documents being rendered finish (each within the render timeout);
        ``wait=False`` kills their workers at once. Either way no worker outlives this call by more
        than the join bounds (and a worker whose parent has gone ends by itself).
        """
        with self._cond:
            already = self.closed
            self.closed = True
            self._kill_on_close = self._kill_on_close or not wait
            pending = self._queue.drain()
            slots = list(self._slots)
            self._cond.notify_all()
        for job in pending:
            try:
                job.future.set_exception(PdfUnavailable("the PDF renderer is shutting down"))
            except concurrent.futures.InvalidStateError:
                pass
        if not wait:
            for slot in slots:
                slot.kill()
        deadline = time.monotonic() + (self.timeout + 5 if wait else 5)
        for slot in slots:
            if slot.thread.is_alive() and slot.thread is not threading.current_thread():
                slot.thread.join(max(0.1, deadline - time.monotonic()))
        for slot in slots:  # a thread that did not finish in time: end its worker from here
            if slot.thread.is_alive():
                slot.kill()
        with self._cond:
            retiring = list(self._retiring)
        for worker in retiring:  # recycled ones still exiting: wait (briefly) or kill, and reap
            worker.process.join(2)
            worker.stop(graceful=False)
        if not already:
            log.debug("PDF renderer shut down")
