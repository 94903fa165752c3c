"""The run state machine (kernel/runs.py) with an injected clock: which cells form a run, when it
is over, when it crosses its threshold, when its live message is due. No kernel, no threads."""

from __future__ import annotations

import pytest

from jupyter_helpers.kernel.runs import NEVER, Run, RunBook


def book(after: float = 10.0, run_gap: float = 1.0, per: str = "run", live: float = 0.0, every: float = 60.0):
    runs = RunBook()
    runs.configure(True, after, run_gap, per, live, every, 0.0)
    return runs


def cell(runs: RunBook, start: float, end: float, number: int, error: BaseException | None = None) -> bool:
    """One cell from `start` to `end`; True when the hooks asked to wake the closing thread."""
    woke = runs.cell_started(start)
    return runs.cell_ended(number, error, None, None, end) or woke


def test_run_all_is_one_run_sent_once_the_gap_passes() -> None:
    runs = book(after=10.0)
    t = 0.0
    for number in range(1, 6):
        cell(runs, t, t + 3.0, number)
        t += 3.0 + 0.01  # Run All: the next cell starts at once
    end = t - 0.01
    assert runs.due(end + 0.5) is None  # within run_gap: a next cell may still come
    assert runs.wait_time(end + 0.5) == pytest.approx(0.5)
    run = runs.due(end + 1.0)
    assert run is not None and run.pending
    assert (run.first, run.last, run.cells) == (1, 5, 5)
    assert run.end - run.start == pytest.approx(end)
    assert runs.due(end + 100) is None  # taken: sent once


def test_a_gap_just_under_run_gap_continues_the_run_and_just_over_starts_a_new_one() -> None:
    runs = book(after=5.0, run_gap=1.0)
    cell(runs, 0.0, 3.0, 1)
    cell(runs, 3.999, 7.0, 2)  # 0.999 s later: same run, which has now crossed 5 s
    run = runs.run
    assert run is not None and run.pending and (run.first, run.cells) == (1, 2)
    woke = cell(runs, 8.001, 9.0, 3)  # 1.001 s after: a new run; the old one goes to the outbox
    assert woke
    closed = runs.due(9.0)
    assert closed is run and closed.last == 2
    assert runs.run is not None and runs.run.first == 3 and not runs.run.pending


def test_short_runs_are_never_closed() -> None:
    runs = book(after=5.0)
    cell(runs, 0.0, 2.0, 1)
    assert runs.due(100.0) is None
    assert runs.wait_time(100.0) is None  # nothing to time: sleep until woken
    cell(runs, 200.0, 201.0, 2)
    assert not runs.outbox


def test_per_cell_mode_closes_each_long_cell_as_it_ends() -> None:
    runs = book(after=2.0, per="cell")
    cell(runs, 0.0, 3.0, 1)
    cell(runs, 3.0, 3.5, 2)  # short: nothing
    cell(runs, 3.5, 6.0, 3)
    first, second = runs.due(6.0), runs.due(6.0)
    assert first is not None and second is not None and runs.due(6.0) is None
    assert (first.first, first.last, second.first, second.last) == (1, 1, 3, 3)


def test_a_failing_middle_cell_is_remembered_and_the_run_goes_on() -> None:
    runs = book(after=1.0)
    cell(runs, 0.0, 1.0, 1)
    cell(runs, 1.0, 2.0, 2, ValueError("boom"))
    cell(runs, 2.0, 3.0, 3)
    run = runs.due(4.5)
    assert run is not None
    assert (run.failed, run.failures, run.error) == (2, 1, None)
    assert isinstance(run.failure, ValueError)


def test_the_threshold_crossing_is_timed_while_the_cell_runs_and_seen_once() -> None:
    runs = book(after=10.0)
    runs.cell_started(0.0)
    assert runs.wait_time(0.0) == pytest.approx(10.0)
    assert not runs.crossed(9.99)
    assert runs.crossed(10.0)
    assert not runs.crossed(11.0)


def test_sigterm_mid_run_closes_it_as_stopped_in_the_running_cell() -> None:
    runs = book(after=5.0)
    cell(runs, 0.0, 4.0, 1)
    runs.cell_started(4.0)
    assert runs.stop("by SIGTERM", 2, 8.0)
    runs.closing = True
    run = runs.due(8.0)
    assert run is not None and run.pending and run.stopped == "by SIGTERM"
    assert (run.last, run.cells) == (2, 2)


def test_sigterm_before_the_threshold_sends_nothing() -> None:
    runs = book(after=5.0)
    runs.cell_started(0.0)
    assert not runs.stop("by SIGTERM", 1, 3.0)  # the cell goes on to its own end
    runs.closing = True
    assert runs.due(3.0) is None


def test_the_live_message_is_due_at_live_then_every_live_every_while_the_run_goes_on() -> None:
    runs = book(after=60.0, live=300.0, every=60.0)
    runs.cell_started(0.0)
    assert runs.wait_time(0.0) == pytest.approx(60.0)  # the crossing comes first
    runs.crossed(60.0)
    assert runs.wait_time(60.0) == pytest.approx(240.0)
    assert runs.live_due(299.9) is None
    run = runs.live_due(300.0)
    assert run is runs.run
    assert runs.live_due(300.5) is None
    assert runs.wait_time(300.5) == pytest.approx(59.5)
    assert runs.live_due(360.0) is run


def test_a_run_shorter_than_live_never_gets_one() -> None:
    runs = book(after=1.0, live=300.0)
    cell(runs, 0.0, 299.0, 1)
    assert runs.live_due(299.5) is None  # not running, and within run_gap only for a second
    assert runs.live_due(400.0) is None
    run = runs.due(400.0)
    assert run is not None and run.live is None


def test_live_zero_means_never() -> None:
    runs = book(after=1.0, live=0.0)
    runs.cell_started(0.0)
    assert runs.run is not None and runs.run.live_next == NEVER
    assert runs.live_due(1e9) is None


def test_a_run_with_a_live_message_is_closed_even_under_the_threshold() -> None:
    """live below after: the live message must still be ended when the run is over."""
    runs = book(after=600.0, live=5.0)
    runs.cell_started(0.0)
    run = runs.live_due(5.0)
    assert run is not None
    run.live = object()  # what the watcher hangs on it once it sent one
    runs.cell_ended(1, None, None, None, 10.0)
    assert runs.wait_time(10.0) == pytest.approx(1.0)
    closed = runs.due(11.0)
    assert closed is run and not closed.pending


def test_no_live_message_is_due_once_the_kernel_closes() -> None:
    runs = book(live=1.0)
    runs.cell_started(0.0)
    runs.closing = True
    assert runs.live_due(5.0) is None


def test_a_continued_run_wakes_a_closing_thread_that_sleeps_untimed() -> None:
    runs = book(after=10.0, live=5.0)
    cell(runs, 0.0, 1.0, 1)
    runs.untimed = True
    assert runs.cell_started(1.5)  # same run: its crossing and live message must be timed again
    runs.untimed = False
    cell(runs, 3.0, 3.2, 2)
    assert not runs.cell_started(3.5)


def test_disabled_drops_the_run() -> None:
    runs = RunBook()
    runs.configure(False, 1.0, 1.0, "run", 0.0, 60.0, 0.0)
    runs.cell_started(0.0)
    assert not runs.cell_ended(1, None, None, None, 5.0)
    assert runs.run is None


def test_turned_off_mid_run_its_live_message_is_ended_at_once_and_nothing_else_is_sent() -> None:
    """`%autonotify --off` run inside the running cell of a run that has a live message (and has
    crossed its threshold in an earlier cell): the run is closed at once, with the time it was
    turned off, not edited on until the cell ends and then ended with a 0 s duration."""
    runs = book(after=3.0, live=5.0)
    cell(runs, 0.0, 4.0, 1)  # past the threshold: it would get a message
    runs.cell_started(4.01)
    run = runs.live_due(5.0)
    assert run is not None and run.pending
    run.live = object()
    runs.configure(False, 3.0, 1.0, "run", 5.0, 60.0, 12.5)
    assert runs.run is None and runs.live_due(20.0) is None  # no more edits
    closed = runs.due(12.5)
    assert closed is run and closed.off == pytest.approx(12.5)
    assert not closed.pending and closed.closable  # no message; its live message ends
    assert not runs.cell_ended(2, None, None, None, 30.0)  # the cell's end changes nothing
    assert runs.due(100.0) is None and runs.wait_time(30.0) is None


def test_turned_off_before_the_live_message_the_run_never_gets_one() -> None:
    """Off in a run's first cell, before its live message was due: no live message, no message,
    and the closing thread is not kept waking for it (a run started while off gets none either)."""
    runs = book(after=3.0, live=5.0)
    runs.cell_started(0.0)
    runs.configure(False, 3.0, 1.0, "run", 5.0, 60.0, 1.0)
    assert runs.live_due(10.0) is None and runs.run is not None and runs.run.live_next == NEVER
    assert not runs.cell_ended(1, None, None, None, 10.0) and runs.due(100.0) is None
    runs.cell_started(200.0)
    assert runs.run is not None and runs.run.live_next == NEVER and runs.live_due(300.0) is None


def test_turned_off_and_on_again_within_a_run_it_is_judged_as_usual() -> None:
    runs = book(after=3.0, live=5.0)
    runs.cell_started(0.0)
    runs.configure(False, 3.0, 1.0, "run", 5.0, 60.0, 1.0)
    runs.configure(True, 3.0, 1.0, "run", 5.0, 60.0, 2.0)  # `%autonotify -a 3` in the same cell
    assert runs.live_due(5.0) is runs.run
    runs.cell_ended(1, None, None, None, 10.0)
    run = runs.due(11.0)
    assert run is not None and run.pending and run.off is None


def test_run_keeps_slots() -> None:
    assert not hasattr(Run(0.0), "__dict__") and not hasattr(RunBook(), "__dict__")


def test_changing_live_during_a_run_re_times_its_live_message() -> None:
    runs = book(live=300.0)
    runs.cell_started(0.0)
    runs.configure(True, 10.0, 1.0, "run", 2.0, 60.0, 0.0)  # `%autonotify --live 2` in the run's first cell
    assert runs.live_due(2.0) is runs.run
    runs.configure(True, 10.0, 1.0, "run", 0.0, 60.0, 1.0)
    assert runs.live_due(1e6) is None
