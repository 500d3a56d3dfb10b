"""Run a function off the GUI thread and hand its outcome back on the GUI thread.

Every long task in the UI (import, sync, batch PDF, printing) goes through `run_task`.
The function runs on a `QThreadPool`; its result, error, progress and cancellation come
back as signals of a `TaskHandle`, and the optional callbacks are always called on the
GUI thread. Give the function copies of what it needs (ids, paths, dataclasses), never a
live object the GUI also touches. Database writes go through `writer_pool()`, which has a
single thread so two writes never run at once.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, cast

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QThreadPool, Signal, Slot

__all__ = [
    "CancelToken",
    "ProgressReporter",
    "TaskCancelled",
    "TaskHandle",
    "active_tasks",
    "run_task",
    "shutdown_tasks",
    "writer_pool",
]

log = logging.getLogger(__name__)

_SUCCEEDED = "succeeded"
_FAILED = "failed"
_CANCELLED = "cancelled"
# Progress travels in a Qt int signal; larger counts (bytes of a big file) are scaled down.
_PROGRESS_MAX = 2**31 - 1


class TaskCancelled(Exception):
    """Raised inside a task to stop it once its handle has been cancelled.

    A loop that catches `Exception` per item must re-raise this one.
    """


class CancelToken:
    """Handed to a task as ``cancel``; the task checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once cancellation has been requested."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Request cancellation; the task stops at its next check."""
        self._event.set()

    def raise_if_cancelled(self) -> None:
        """Raise `TaskCancelled` if cancellation has been requested."""
        if self._event.is_set():
            raise TaskCancelled


class _Dispatcher(QObject):
    """One object, living on the GUI thread for the whole run, that tasks post through.

    A worker emits its signals with a task's key; being queued, they are delivered on the GUI
    thread, where the key finds the handle. No QObject is ever made or destroyed in a worker:
    a per-task sender destroyed there while the GUI thread destroyed its receiver crashed Qt
    (both sides touching the connection at once).
    """

    progress_posted = Signal(int)
    ended = Signal(int, str, object, str)

    def __init__(self) -> None:
        super().__init__()
        self.progress_posted.connect(self._on_progress_posted, Qt.ConnectionType.QueuedConnection)
        self.ended.connect(self._on_ended, Qt.ConnectionType.QueuedConnection)

    @Slot(int)
    def _on_progress_posted(self, key: int) -> None:
        handle = _handle_for(key)
        if handle is not None:
            handle._on_relay_progress_posted()

    @Slot(int, str, object, str)
    def _on_ended(self, key: int, outcome: str, payload: object, traceback_text: str) -> None:
        handle = _handle_for(key)
        if handle is not None:
            handle._on_relay_ended(outcome, payload, traceback_text)


_dispatcher_lock = threading.Lock()
_dispatcher: _Dispatcher | None = None


def _the_dispatcher() -> _Dispatcher:
    """The dispatcher, made on first use and handed to the GUI thread (the app owns it)."""
    global _dispatcher
    with _dispatcher_lock:
        if _dispatcher is None or not shiboken6.isValid(_dispatcher):
            made = _Dispatcher()
            app = QCoreApplication.instance()
            if app is not None:
                made.moveToThread(app.thread())
                made.setParent(app)
            _dispatcher = made
        return _dispatcher


class ProgressReporter:
    """Handed to a task as ``progress``; call ``progress(done, total, message="")``.

    Reports are coalesced: while one is waiting to be picked up by the GUI thread, a newer
    one replaces it, so a task may report on every row without flooding the event queue.
    Values arrive in order and the last one is always delivered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: tuple[int, int, str] | None = None
        self._notify: Callable[[], None] | None = None

    def __call__(self, done: int, total: int, message: str = "") -> None:
        """Report that `done` of `total` steps are complete."""
        done, total = int(done), int(total)
        largest = max(done, total)
        if largest > _PROGRESS_MAX:
            done, total = done * _PROGRESS_MAX // largest, total * _PROGRESS_MAX // largest
        with self._lock:
            # Only the first report after a pick-up needs a signal; later ones ride on it.
            must_notify = self._latest is None
            self._latest = (done, total, str(message))
            notify = self._notify
        if must_notify and notify is not None:
            notify()

    def _attach(self, notify: Callable[[], None] | None) -> None:
        with self._lock:
            self._notify = notify

    def _take(self) -> tuple[int, int, str] | None:
        with self._lock:
            latest, self._latest = self._latest, None
            return latest


def _call_if_receiver_alive(callback: Callable[..., object] | None, *args: object) -> None:
    """Call `callback` unless it is a method of a QObject whose C++ side is already gone."""
    if callback is None:
        return
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, QObject) and not shiboken6.isValid(owner):
        log.debug("dropping task callback %r: its receiver was deleted", callback)
        return
    callback(*args)


class TaskHandle(QObject):
    """The GUI-thread side of one running task: its signals, `cancel()` and `wait()`.

    Signals are emitted on the GUI thread, in this order: any number of `progressed`,
    then exactly one of `succeeded`, `failed` or `cancelled`, then `finished`.
    """

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(
        self,
        name: str,
        job: _Job,
        callbacks: dict[str, Callable[..., object] | None],
    ) -> None:
        super().__init__()
        self.setObjectName(name)
        self.name = name
        self.error: BaseException | None = None
        self.traceback_text = ""
        self._job = job
        self._callbacks = callbacks
        self._ended = False

    @property
    def done(self) -> bool:
        """True once the function has stopped running (its signals may still be queued)."""
        return self._job.stopped.is_set()

    def cancel(self) -> None:
        """Ask the task to stop; it ends with `cancelled` if it had not started or gives up."""
        self._job.token.cancel()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the function has stopped running; False if `timeout_ms` ran out.

        The signals are delivered later, by the event loop.
        """
        timeout = None if timeout_ms is None else max(timeout_ms, 0) / 1000
        return self._job.stopped.wait(timeout)

    @Slot()
    def _on_relay_progress_posted(self) -> None:
        latest = self._job.reporter._take()
        if latest is None or self._ended:
            return
        _call_if_receiver_alive(self._callbacks["on_progress"], *latest)
        self.progressed.emit(*latest)

    @Slot(str, object, str)
    def _on_relay_ended(self, outcome: str, payload: object, traceback_text: str) -> None:
        try:
            # A report made from a helper thread of the task may still be waiting here;
            # deliver it now, as nothing is delivered after the outcome.
            self._on_relay_progress_posted()
            self._ended = True
            if outcome == _SUCCEEDED:
                _call_if_receiver_alive(self._callbacks["on_result"], payload)
                self.succeeded.emit(payload)
            elif outcome == _FAILED:
                self.error = cast(BaseException, payload)
                self.traceback_text = traceback_text
                log.warning("task %s failed:\n%s", self.name, traceback_text)
                _call_if_receiver_alive(self._callbacks["on_error"], payload)
                self.failed.emit(payload)
            else:
                _call_if_receiver_alive(self._callbacks["on_cancelled"])
                self.cancelled.emit()
        finally:
            # A callback that raises must not leave the task looking unfinished.
            try:
                _call_if_receiver_alive(self._callbacks["on_finished"])
                self.finished.emit()
            finally:
                # Drop the callbacks and arguments now: a caller may keep the handle long
                # after, and they may hold widgets or large data.
                self._callbacks = dict.fromkeys(self._callbacks)
                self._job.release()
                _forget(self)


class _Job:
    """The callable the pool runs: calls the task function and posts its outcome."""

    def __init__(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.token = CancelToken()
        self.reporter = ProgressReporter()
        self.stopped = threading.Event()
        self.key = next(_keys)
        self.dispatcher = _the_dispatcher()

    def release(self) -> None:
        """Forget the function and its arguments once the outcome has been delivered."""
        self.fn = _released
        self.args = ()
        self.kwargs = {}

    def __call__(self) -> None:
        # Everything goes back through the one dispatcher on the GUI thread, by key: this
        # thread neither makes nor destroys a QObject, nor holds the handle.
        dispatcher = self.dispatcher
        key = self.key
        self.reporter._attach(lambda: dispatcher.progress_posted.emit(key))
        try:
            outcome, payload, traceback_text = self._execute()
        finally:
            self.reporter._attach(None)
        # Stopped before the outcome is posted, so `done` is already True in every handler.
        self.stopped.set()
        dispatcher.ended.emit(key, outcome, payload, traceback_text)

    def _execute(self) -> tuple[str, object, str]:
        if self.token.cancelled:
            return _CANCELLED, None, ""
        try:
            result = self.fn(*self.args, **self.kwargs)
        except TaskCancelled:
            return _CANCELLED, None, ""
        except BaseException as exc:
            # Even SystemExit is reported: a pool thread has nobody else to tell, and a
            # handle that never finishes would leave a window waiting forever.
            return _FAILED, exc, traceback.format_exc()
        return _SUCCEEDED, result, ""


def _released() -> None:
    """Stands in for a task function that has already run."""


_active_lock = threading.Lock()
_active: set[TaskHandle] = set()


_by_key: dict[int, TaskHandle] = {}
_keys = itertools.count(1)


def _forget(handle: TaskHandle) -> None:
    with _active_lock:
        _active.discard(handle)
        _by_key.pop(handle._job.key, None)


def _handle_for(key: int) -> TaskHandle | None:
    with _active_lock:
        return _by_key.get(key)


def active_tasks() -> tuple[TaskHandle, ...]:
    """The handles of tasks whose `finished` has not been delivered yet."""
    with _active_lock:
        return tuple(_active)


def _accepts_keyword(fn: Callable[..., object], name: str) -> bool:
    try:
        parameter = inspect.signature(fn).parameters.get(name)
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def run_task(
    fn: Callable[..., Any],
    /,
    *args: Any,
    on_result: Callable[[Any], object] | None = None,
    on_error: Callable[[BaseException], object] | None = None,
    on_progress: Callable[[int, int, str], object] | None = None,
    on_cancelled: Callable[[], object] | None = None,
    on_finished: Callable[[], object] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> TaskHandle:
    """Run ``fn(*args, **kwargs)`` on `pool` (the global pool by default); return its handle.

    If `fn` has a ``progress`` or ``cancel`` parameter it receives a `ProgressReporter` or
    `CancelToken`. Callbacks run on the GUI thread; one whose QObject was deleted is skipped.
    Called from a worker, drop the returned handle at once rather than keep it there.
    """
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("run_task needs a QApplication")
    job = _Job(fn, args, dict(kwargs))
    for name, supplied in (("progress", job.reporter), ("cancel", job.token)):
        if _accepts_keyword(fn, name):
            if name in job.kwargs:
                raise TypeError(f"run_task supplies the {name!r} argument itself")
            job.kwargs[name] = supplied
    callbacks: dict[str, Callable[..., object] | None] = {
        "on_result": on_result,
        "on_error": on_error,
        "on_progress": on_progress,
        "on_cancelled": on_cancelled,
        "on_finished": on_finished,
    }
    name = getattr(fn, "__qualname__", None) or repr(fn)
    handle = TaskHandle(name, job, callbacks)
    if QThread.currentThread() is not app.thread():
        # Started from a worker: the handle must still receive on the GUI thread.
        handle.moveToThread(app.thread())
    # The registry keeps the handle (and through it the job) alive until `finished` has
    # been delivered, even when the caller keeps no reference.
    with _active_lock:
        _active.add(handle)
        _by_key[job.key] = handle
    (pool if pool is not None else QThreadPool.globalInstance()).start(job)
    return handle


def shutdown_tasks(timeout_ms: int = 5000) -> bool:
    """Cancel every active task and wait for them to stop; False if some still run.

    Meant for closing the main window; the outcomes are delivered if the loop runs again.
    """
    handles = active_tasks()
    for handle in handles:
        handle.cancel()
    deadline = time.monotonic() + max(timeout_ms, 0) / 1000
    for handle in handles:
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if not handle.wait(max(remaining_ms, 0)):
            return False
    return True


_serial_lock = threading.Lock()
_serial: dict[str, QThreadPool] = {}


def serial_pool(name: str) -> QThreadPool:
    """A pool of one thread, one per ``name``: its tasks run in order, never two at once."""
    with _serial_lock:
        pool = _serial.get(name)
        if pool is None or not shiboken6.isValid(pool):
            pool = QThreadPool()
            pool.setObjectName(f"eventdesk-{name}")
            pool.setMaxThreadCount(1)
            app = QCoreApplication.instance()
            if app is not None:
                # Owned by the application, so quitting waits for a task in progress. It
                # may be first asked for from a worker, hence the move before parenting.
                pool.moveToThread(app.thread())
                pool.setParent(app)
            _serial[name] = pool
        return pool


def writer_pool() -> QThreadPool:
    """The single-thread pool for database writes, so they never run at the same time."""
    return serial_pool("writer")
