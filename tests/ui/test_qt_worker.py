"""Tests for the worker helper: delivery on the GUI thread, progress, cancel, writer pool."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, QThreadPool, Slot
from pytestqt.qtbot import QtBot

from desktop.ui.qt_worker import (
    CancelToken,
    ProgressReporter,
    TaskCancelled,
    TaskHandle,
    active_tasks,
    run_task,
    shutdown_tasks,
    writer_pool,
)

# A safety net so a broken helper fails the test instead of hanging it; never asserted on.
HANDSHAKE_S = 5.0


@pytest.fixture(autouse=True)
def no_leftover_tasks(qtbot: QtBot) -> Iterator[None]:
    """Each test must leave no task running or undelivered."""
    yield
    assert shutdown_tasks(5000)
    qtbot.waitUntil(lambda: not active_tasks())


def _on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    assert app is not None
    return QThread.currentThread() is app.thread()


def _scaled_sum(a: int, b: int, *, scale: int = 1) -> int:
    return (a + b) * scale


def _raise_bad_row(row: int) -> None:
    raise ValueError(f"bad row {row}")


def test_result_is_delivered_with_args_and_kwargs(qtbot: QtBot) -> None:
    results: list[object] = []
    order: list[tuple[object, ...]] = []
    handle = run_task(_scaled_sum, 2, 3, scale=10, on_result=results.append)
    # Connecting after the start is safe: delivery waits for the event loop.
    handle.succeeded.connect(lambda value: order.append(("succeeded", value)))
    handle.finished.connect(lambda: order.append(("finished",)))
    with (
        qtbot.assertNotEmitted(handle.failed),
        qtbot.assertNotEmitted(handle.cancelled),
        qtbot.waitSignal(handle.finished),
    ):
        pass
    assert order == [("succeeded", 50), ("finished",)]
    assert results == [50]
    assert handle.done
    assert handle.error is None


def test_error_is_delivered_with_the_exception_and_traceback(qtbot: QtBot) -> None:
    errors: list[BaseException] = []
    handle = run_task(_raise_bad_row, 3, on_error=errors.append)
    with (
        qtbot.assertNotEmitted(handle.succeeded),
        qtbot.waitSignal(handle.failed) as blocker,
    ):
        pass
    (exc,) = blocker.args
    assert isinstance(exc, ValueError)
    assert str(exc) == "bad row 3"
    assert errors == [exc]
    assert handle.error is exc
    assert "_raise_bad_row" in handle.traceback_text
    assert "ValueError: bad row 3" in handle.traceback_text


def test_progress_arrives_in_order_when_each_report_is_awaited(qtbot: QtBot) -> None:
    delivered = threading.Semaphore(0)
    from_callback: list[tuple[int, int, str]] = []
    from_signal: list[tuple[int, int, str]] = []

    def count_rows(total: int, progress: ProgressReporter) -> int:
        for done in range(1, total + 1):
            progress(done, total, f"row {done}")
            # Waiting for each delivery makes every report visible despite coalescing.
            delivered.acquire(timeout=HANDSHAKE_S)
        return total

    def on_progress(done: int, total: int, message: str) -> None:
        from_callback.append((done, total, message))
        delivered.release()

    handle = run_task(count_rows, 5, on_progress=on_progress)
    handle.progressed.connect(lambda *report: from_signal.append(report))
    with qtbot.waitSignal(handle.succeeded):
        pass
    expected = [(n, 5, f"row {n}") for n in range(1, 6)]
    assert from_callback == expected
    assert from_signal == expected


def test_fast_progress_is_coalesced_in_order_and_ends_before_the_result(qtbot: QtBot) -> None:
    events: list[tuple[str, int]] = []

    def count_fast(total: int, progress: ProgressReporter) -> int:
        for done in range(1, total + 1):
            progress(done, total)
        return total

    handle = run_task(
        count_fast,
        20_000,
        on_progress=lambda done, total, message: events.append(("progress", done)),
        on_result=lambda value: events.append(("result", value)),
    )
    with qtbot.waitSignal(handle.finished):
        pass
    reported = [done for kind, done in events if kind == "progress"]
    assert reported == sorted(set(reported))
    assert events[-2:] == [("progress", 20_000), ("result", 20_000)]


def test_counts_too_big_for_a_qt_int_are_scaled_not_wrapped(qtbot: QtBot) -> None:
    def copy_big_file(progress: ProgressReporter) -> None:
        progress(3_000_000_000, 6_000_000_000, "copying")

    handle = run_task(copy_big_file)
    with qtbot.waitSignal(handle.progressed) as blocker:
        pass
    done, total, message = blocker.args
    assert total == 2**31 - 1
    assert abs(2 * done - total) <= 1
    assert message == "copying"


def test_cancel_stops_a_running_loop_and_reports_cancelled(qtbot: QtBot) -> None:
    resume = threading.Event()
    reached: list[int] = []

    def long_loop(cancel: CancelToken, progress: ProgressReporter) -> str:
        for step in range(1_000_000):
            cancel.raise_if_cancelled()
            reached.append(step)
            if step == 3:
                progress(step, 1_000_000)
                resume.wait(HANDSHAKE_S)
        return "ran to the end"

    cancelled: list[bool] = []
    handle = run_task(long_loop, on_cancelled=lambda: cancelled.append(True))
    with qtbot.waitSignal(handle.progressed):
        pass
    handle.cancel()
    resume.set()
    with (
        qtbot.assertNotEmitted(handle.succeeded),
        qtbot.assertNotEmitted(handle.failed),
        qtbot.waitSignals([handle.cancelled, handle.finished], order="strict"),
    ):
        pass
    assert cancelled == [True]
    assert reached == [0, 1, 2, 3]
    assert handle.done


def test_cancel_before_start_never_runs_the_function(qtbot: QtBot) -> None:
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    gate = threading.Event()
    ran: list[str] = []
    blocker_handle = run_task(gate.wait, HANDSHAKE_S, pool=pool)
    queued = run_task(ran.append, "queued task ran", pool=pool)
    queued.cancel()
    with qtbot.assertNotEmitted(queued.succeeded), qtbot.waitSignal(queued.cancelled):
        gate.set()
    assert ran == []
    assert blocker_handle.wait(5000)
    assert pool.waitForDone(5000)


def test_raising_task_cancelled_without_a_token_counts_as_cancelled(qtbot: QtBot) -> None:
    def give_up() -> None:
        raise TaskCancelled

    handle = run_task(give_up)
    with qtbot.assertNotEmitted(handle.failed), qtbot.waitSignal(handle.cancelled):
        pass
    assert handle.error is None


def test_callbacks_run_on_the_gui_thread_and_the_function_does_not(qtbot: QtBot) -> None:
    gui_ident = threading.get_ident()
    seen: dict[str, tuple[bool, int]] = {}

    def here(label: str) -> None:
        seen[label] = (_on_gui_thread(), threading.get_ident())

    def work(progress: ProgressReporter) -> int:
        here("fn")
        progress(1, 1)
        return 1

    ok = run_task(
        work,
        on_progress=lambda *report: here("on_progress"),
        on_result=lambda value: here("on_result"),
        on_finished=lambda: here("on_finished"),
    )
    bad = run_task(_raise_bad_row, 1, on_error=lambda exc: here("on_error"))
    with qtbot.waitSignals([ok.finished, bad.finished]):
        pass
    assert seen.pop("fn")[0] is False
    assert set(seen) == {"on_progress", "on_result", "on_finished", "on_error"}
    assert all(seen[label] == (True, gui_ident) for label in seen)


def test_a_handle_the_caller_drops_still_delivers(qtbot: QtBot) -> None:
    results: list[object] = []
    finished = threading.Event()
    run_task(_scaled_sum, 1, 1, on_result=results.append, on_finished=finished.set)
    gc.collect()
    qtbot.waitUntil(finished.is_set)
    assert results == [2]


def test_a_task_started_from_a_worker_still_delivers_on_the_gui_thread(qtbot: QtBot) -> None:
    inner_seen: list[bool] = []
    inner_finished = threading.Event()

    def outer() -> bool:
        started_on_gui = _on_gui_thread()
        run_task(
            _scaled_sum,
            4,
            5,
            pool=writer_pool(),
            on_result=lambda value: inner_seen.append(_on_gui_thread() and value == 9),
            on_finished=inner_finished.set,
        )
        return started_on_gui

    handle = run_task(outer)
    with qtbot.waitSignal(handle.succeeded) as blocker:
        pass
    assert blocker.args == [False]
    qtbot.waitUntil(inner_finished.is_set)
    assert inner_seen == [True]


class _Receiver(QObject):
    def __init__(self, calls: list[object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.calls = calls

    @Slot(object)
    def _on_task_succeeded(self, value: object) -> None:
        self.calls.append(value)


def test_receiver_deleted_before_the_task_finishes_gets_nothing(qtbot: QtBot) -> None:
    gate = threading.Event()
    dead_calls: list[object] = []
    live_calls: list[object] = []
    window = QObject()
    doomed = _Receiver(dead_calls, parent=window)
    survivor = _Receiver(live_calls)

    def wait_then_return() -> int:
        gate.wait(HANDSHAKE_S)
        return 7

    handle = run_task(wait_then_return, on_result=doomed._on_task_succeeded)
    handle.succeeded.connect(doomed._on_task_succeeded)
    handle.succeeded.connect(survivor._on_task_succeeded)
    # Deleting the parent deletes the receiver's C++ object; its Python wrapper lives on.
    shiboken6.delete(window)
    assert not shiboken6.isValid(doomed)
    with qtbot.waitSignal(handle.finished):
        gate.set()
    assert dead_calls == []
    assert live_calls == [7]


def _record_span(
    name: str,
    spans: list[tuple[str, str]],
    lock: threading.Lock,
    entered: dict[str, threading.Event],
    patience_s: float,
) -> None:
    with lock:
        spans.append(("enter", name))
    entered[name].set()
    # Linger until the other task has entered: it can only do so if the pool runs both at once.
    other = "b" if name == "a" else "a"
    entered[other].wait(patience_s)
    with lock:
        spans.append(("exit", name))


def _max_overlap(spans: list[tuple[str, str]]) -> int:
    depth = peak = 0
    for edge, _name in spans:
        depth += 1 if edge == "enter" else -1
        peak = max(peak, depth)
    return peak


def _run_two_spans(qtbot: QtBot, pool: QThreadPool, patience_s: float) -> list[tuple[str, str]]:
    spans: list[tuple[str, str]] = []
    lock = threading.Lock()
    entered = {"a": threading.Event(), "b": threading.Event()}
    handles: list[TaskHandle] = [
        run_task(_record_span, name, spans, lock, entered, patience_s, pool=pool)
        for name in ("a", "b")
    ]
    with qtbot.waitSignals([h.finished for h in handles]):
        pass
    return spans


def test_writer_pool_runs_tasks_one_after_another(qtbot: QtBot) -> None:
    pool = writer_pool()
    assert pool is writer_pool()
    assert pool.maxThreadCount() == 1
    spans = _run_two_spans(qtbot, pool, patience_s=0.3)
    assert spans == [("enter", "a"), ("exit", "a"), ("enter", "b"), ("exit", "b")]
    assert _max_overlap(spans) == 1


def test_a_two_thread_pool_does_overlap_so_the_writer_check_can_fail(qtbot: QtBot) -> None:
    pool = QThreadPool()
    pool.setMaxThreadCount(2)
    spans = _run_two_spans(qtbot, pool, patience_s=HANDSHAKE_S)
    assert _max_overlap(spans) == 2
    assert pool.waitForDone(5000)


def test_progress_and_cancel_are_not_injected_into_plain_functions(qtbot: QtBot) -> None:
    received: list[tuple[object, ...]] = []

    def plain(*args: object, **kwargs: object) -> None:
        received.append((args, tuple(sorted(kwargs))))

    handle = run_task(plain, 1, colour="red")
    with qtbot.waitSignal(handle.finished):
        pass
    assert received == [((1,), ("colour",))]


def test_supplying_progress_yourself_is_refused(qtbot: QtBot) -> None:
    def reports(progress: Callable[[int, int], None]) -> None:
        progress(1, 1)

    with pytest.raises(TypeError, match="progress"):
        run_task(reports, progress=print)
    assert active_tasks() == ()


def test_shutdown_cancels_running_tasks_and_waits_for_them(qtbot: QtBot) -> None:
    started = threading.Event()

    def until_cancelled(cancel: CancelToken) -> None:
        started.set()
        while True:
            cancel.raise_if_cancelled()
            started.wait(0.01)

    handle = run_task(until_cancelled)
    assert started.wait(HANDSHAKE_S)
    assert handle in active_tasks()
    with qtbot.waitSignal(handle.cancelled):
        assert shutdown_tasks(5000)
        assert handle.done
    assert handle not in active_tasks()
