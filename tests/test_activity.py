"""Which document is in use, as segments of time (server/activity.py): the state machine alone,
driven by an injected clock (seconds from 0)."""

from __future__ import annotations

from jupyter_helpers.common.editor_bucket import EditorData
from jupyter_helpers.server.activity import MAX_QUEUED, REPORT_GRACE, Activity, PageState, Segment

ALPHA: EditorData = {"file": "/w/alpha/a.ipynb", "project": "Project Alpha", "language": "python"}
BETA: EditorData = {"file": "/w/beta/b.ipynb", "project": "Project Beta", "language": "python"}
IDLE_AFTER = 8.0


def state(
    now: float, data: EditorData | None = ALPHA, idle: float | None = 0.0, focused: bool = True, visible: bool = True
) -> PageState:
    return PageState(data, focused, visible, reported=now, last_input=None if idle is None else now - idle)


def spans(segments: list[Segment]) -> list[tuple[str, float, float]]:
    return [(segment.data["project"], segment.start, segment.end) for segment in segments]


def used(
    activity: Activity, reports: list[tuple[float, str, PageState]], until: float
) -> list[tuple[str, float, float]]:
    for now, page, page_state in reports:
        activity.report(page, page_state, now)
    return spans(activity.take(until))


def test_a_focused_page_with_input_counts_until_focus_leaves() -> None:
    activity = Activity(IDLE_AFTER)
    assert used(
        activity,
        [
            (0, "p1", state(0)),
            (5, "p1", state(5, idle=1)),
            (10, "p1", state(10, idle=2)),
            (12, "p1", state(12, idle=4, focused=False)),
        ],
        until=40,
    ) == [("Project Alpha", 0, 12)]


def test_hidden_unfocused_idle_and_folder_pages_add_nothing() -> None:
    for page_state in (
        state(0, focused=False),
        state(0, visible=False),
        state(0, idle=None),
        state(0, idle=IDLE_AFTER + 1),
        state(0, data=None),
    ):
        assert used(Activity(IDLE_AFTER), [(0, "p1", page_state)], until=30) == [], page_state


def test_no_input_for_idle_after_ends_the_span_where_input_stopped_plus_idle_after() -> None:
    activity = Activity(IDLE_AFTER)
    reports = [(0, "p1", state(0)), (10, "p1", state(10, idle=10)), (20, "p1", state(20, idle=20))]
    assert used(activity, reports, until=60) == [("Project Alpha", 0, IDLE_AFTER)]
    assert used(activity, [(61, "p1", state(61))], until=66) == [("Project Alpha", 61, 66)]  # input again


def test_a_tab_switch_moves_the_time_to_the_other_document() -> None:
    """One JupyterLab page, two documents: the page's reported path changes."""
    activity = Activity(IDLE_AFTER)
    reports = [(0, "lab", state(0)), (7, "lab", state(7, data=BETA)), (11, "lab", state(11, data=BETA, idle=0.5))]
    assert used(activity, reports, until=14) == [("Project Alpha", 0, 7), ("Project Beta", 7, 14)]


def test_the_page_with_the_latest_input_wins() -> None:
    activity = Activity(IDLE_AFTER)
    reports = [(0, "p1", state(0)), (3, "p2", state(3, data=BETA, idle=0)), (4, "p1", state(4, idle=2))]
    assert used(activity, reports, until=6) == [("Project Alpha", 0, 3), ("Project Beta", 3, 6)]


def test_a_page_that_stops_reporting_counts_only_a_grace_period() -> None:
    activity = Activity(idle_after=180)
    assert used(activity, [(0, "p1", state(0))], until=100) == [("Project Alpha", 0, REPORT_GRACE)]


def test_forgotten_pages_end_at_once() -> None:
    activity = Activity(IDLE_AFTER)
    activity.report("p1", state(0), 0)
    activity.forget(["p1"], 4)
    assert spans(activity.take(30)) == [("Project Alpha", 0, 4)]


def test_segments_follow_each_other_and_come_back_when_not_sent() -> None:
    activity = Activity(idle_after=180)
    activity.report("p1", state(0), 0)
    first = activity.take(5)
    assert spans(first) == [("Project Alpha", 0, 5)]
    activity.report("p1", state(9), 9)
    second = activity.take(10)
    assert spans(second) == [("Project Alpha", 5, 10)]  # starts where the last one ended
    activity.give_back(second)  # aw-server did not answer
    activity.report("p1", state(12, data=BETA), 12)
    assert spans(activity.take(14)) == [("Project Alpha", 5, 12), ("Project Beta", 12, 14)]


def test_the_queue_stays_bounded_while_aw_server_is_away() -> None:
    activity = Activity(idle_after=180)
    for second in range(3 * MAX_QUEUED):  # a switch every second, nothing taken
        activity.report("p1", state(second, data=ALPHA if second % 2 else BETA), second)
    activity.advance(3 * MAX_QUEUED)
    assert len(activity.queue) == MAX_QUEUED and activity.dropped > 0
    taken = activity.take(3 * MAX_QUEUED)
    assert len(taken) == MAX_QUEUED and taken[-1].end == 3 * MAX_QUEUED


def test_an_hour_of_one_document_while_away_is_one_segment() -> None:
    activity = Activity(idle_after=180)
    for second in range(0, 3600, 10):  # a focused page reports every 10 s; every send fails
        activity.report("p1", state(second, idle=1), second)
        if second % 30 == 0:
            activity.give_back(activity.take(second))
    assert spans(activity.take(3600)) == [("Project Alpha", 0, 3600)]
