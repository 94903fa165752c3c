"""The report's decisions as pure functions: WHEN parsing, intervals, matching, tallies, the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jupyter_helpers.activitywatch.periods import Period, day_edges, parse_when, resolve_period
from jupyter_helpers.activitywatch.report import (
    Kind,
    Report,
    Source,
    Tally,
    active_spans,
    choose_source,
    counted_pieces,
    event_span,
    exact,
    labelled,
    project_matcher,
    slice_edges,
    to_json,
)
from jupyter_helpers.activitywatch.table import bar, hours_minutes, printable, render
from jupyter_helpers.common.errors import UserError

BERLIN = ZoneInfo("Europe/Berlin")


def tally(pieces, match, days=None) -> Tally:
    result = Tally()
    result.add(pieces, match, days)
    return result


NOW = datetime(2026, 11, 23, 15, 30, 0, tzinfo=BERLIN)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


# --- WHEN and the period -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("today", berlin(2026, 11, 23), berlin(2026, 11, 24)),
        (" Yesterday ", berlin(2026, 11, 22), berlin(2026, 11, 23)),
        ("1d", berlin(2026, 11, 23), berlin(2026, 11, 24)),
        ("7d", berlin(2026, 11, 17), berlin(2026, 11, 18)),
        ("2026-11-20", berlin(2026, 11, 20), berlin(2026, 11, 21)),
        ("2026-03-29", berlin(2026, 3, 29), berlin(2026, 3, 30)),  # the 23-hour DST day
    ],
)
def test_named_days_start_and_end_at_local_midnight(text: str, start: datetime, end: datetime) -> None:
    assert parse_when("--since", text, NOW, BERLIN, end=False) == start
    assert parse_when("--until", text, NOW, BERLIN, end=True) == end


def test_date_times_are_instants_local_unless_offset() -> None:
    assert parse_when("--since", "2026-11-20T08:00", NOW, BERLIN, end=False) == berlin(2026, 11, 20, 8)
    assert parse_when("--until", "2026-11-20 08:00", NOW, BERLIN, end=True) == berlin(2026, 11, 20, 8)
    assert parse_when("--since", "2026-11-20T08:00:00+00:00", NOW, BERLIN, end=False) == datetime(
        2026, 11, 20, 8, tzinfo=UTC
    )
    assert parse_when("--since", "2026-11-20t08:00z", NOW, BERLIN, end=False) == datetime(2026, 11, 20, 8, tzinfo=UTC)


def test_local_time_follows_dst() -> None:
    assert parse_when("--since", "2026-07-01T12:00", NOW, BERLIN, end=False).utcoffset() == timedelta(hours=2)
    assert parse_when("--since", "2026-12-01T12:00", NOW, BERLIN, end=False).utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    "text", ["", "tomorrow", "0d", "-3d", "d", "7 days", "2026-02-30", "20.11.2026", "2026-11-20T24:30", "999999999d"]
)
def test_unparseable_when_names_the_option_and_the_forms(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when("--since", text, NOW, BERLIN, end=False)
    assert str(caught.value).startswith(f"--since {text!r}: expected an ISO date") and "\n" not in str(caught.value)


def test_period_defaults_to_today_until_now_and_never_passes_now() -> None:
    assert resolve_period(None, None, NOW, BERLIN) == Period(berlin(2026, 11, 23), NOW)
    assert resolve_period("yesterday", "today", NOW, BERLIN) == Period(berlin(2026, 11, 22), NOW)
    assert resolve_period("yesterday", "yesterday", NOW, BERLIN) == Period(berlin(2026, 11, 22), berlin(2026, 11, 23))
    since_utc = resolve_period("2026-11-20T08:00+00:00", None, NOW, BERLIN).since
    assert since_utc == berlin(2026, 11, 20, 9) and since_utc.tzinfo == BERLIN  # shown in local time


@pytest.mark.parametrize(
    "since, until", [("2026-11-21", "2026-11-20"), ("2026-11-24", None), ("2026-11-20T10:00", "2026-11-20T10:00")]
)
def test_since_not_before_until_is_refused(since: str, until: str | None) -> None:
    with pytest.raises(UserError, match="must come before --until"):
        resolve_period(since, until, NOW, BERLIN)


def test_day_edges_cut_at_local_midnights_including_dst_days() -> None:
    period = Period(berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 6))
    edges = day_edges(period, BERLIN)
    assert [name for name, _, _ in edges] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert [end - start for _, start, end in edges] == [12 * 3600, 23 * 3600, 6 * 3600]
    assert edges[0][1] == period.since.timestamp() and edges[-1][2] == period.until.timestamp()


# --- intervals ------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def event(start_min: float, end_min: float, **data: str) -> dict:
    return {
        "timestamp": (T0 + timedelta(minutes=start_min)).isoformat(),
        "duration": (end_min - start_min) * 60,
        "data": data,
    }


def minutes(pieces) -> list[tuple[float, float, str]]:
    return [((start - T0.timestamp()) / 60, (end - T0.timestamp()) / 60, title) for start, end, title in pieces]


def span(start_min: float, end_min: float) -> tuple[float, float]:
    return (T0 + timedelta(minutes=start_min)).timestamp(), (T0 + timedelta(minutes=end_min)).timestamp()


def titles(events: list[dict]) -> list[tuple[float, float, str]]:
    return labelled(events, "title")


def test_active_spans_merge_not_afk_and_drop_afk() -> None:
    spans = active_spans(
        [
            event(10, 20, status="not-afk"),
            event(0, 5, status="not-afk"),
            event(5, 10, status="afk"),
            event(15, 30, status="not-afk"),
            event(40, 40, status="not-afk"),
            event(50, 60),
        ]
    )
    assert [((s - T0.timestamp()) / 60, (e - T0.timestamp()) / 60) for s, e in spans] == [(0, 5), (10, 30)]


def test_pieces_are_clipped_to_the_period_and_to_active_spans() -> None:
    windows = [
        event(-30, -10, title="before"),
        event(-5, 10, title="straddles start"),
        event(10, 40, title="afk gap"),
        event(55, 70, title="straddles end"),
    ]
    active = active_spans([event(-60, 20, status="not-afk"), event(25, 120, status="not-afk")])
    assert minutes(counted_pieces(titles(windows), active, span(0, 60))) == [
        (0, 10, "straddles start"),
        (10, 20, "afk gap"),
        (25, 40, "afk gap"),
        (55, 60, "straddles end"),
    ]


def test_overlapping_window_events_count_once() -> None:
    windows = [event(0, 30, title="a"), event(10, 20, title="inside"), event(20, 40, title="b")]
    assert minutes(counted_pieces(titles(windows), None, span(0, 60))) == [(0, 30, "a"), (30, 40, "b")]


def test_no_window_events_or_no_active_spans_count_nothing() -> None:
    assert list(counted_pieces([], [], span(0, 60))) == []
    assert list(counted_pieces(titles([event(0, 10, title="x")]), [], span(0, 60))) == []


@pytest.mark.parametrize("duration", [float("nan"), float("inf"), "x"])
def test_an_unusable_duration_is_refused(duration: object) -> None:
    """json.loads accepts NaN and 1e999; a NaN sum would reach the table as a traceback."""
    with pytest.raises(ValueError):
        event_span({"timestamp": T0.isoformat(), "duration": duration, "data": {}})


def test_slices_are_weeks_of_local_days() -> None:
    period = Period(berlin(2026, 3, 1, 12), berlin(2026, 3, 16, 6))
    days = day_edges(period, BERLIN)
    assert slice_edges(days) == [(days[0][1], days[6][2]), (days[7][1], days[13][2]), (days[14][1], days[15][2])]
    assert len(days) == 16 and slice_edges(days)[-1][1] == period.until.timestamp() and slice_edges([]) == []


def test_slices_add_up_to_the_whole_period() -> None:
    """Events read a slice at a time (each slice gets every event overlapping it, untrimmed) count
    what one pass over the whole period counts, overlaps and AFK included."""
    windows = [event(-5, 25, title="a"), event(10, 50, title="b"), event(20, 21, title="c"), event(48, 90, title="a")]
    afk = [event(-10, 15, status="not-afk"), event(15, 18, status="afk"), event(18, 100, status="not-afk")]
    whole = tally(counted_pieces(titles(windows), active_spans(afk), span(0, 60)), exact)
    edges = [span(0, 12), span(12, 20), span(20, 49), span(49, 60)]
    sliced = tally([], exact)
    for piece in edges:
        overlapping = [e for e in windows if event_span(e)[0] < piece[1] and event_span(e)[1] > piece[0]]
        sliced.add(counted_pieces(titles(overlapping), active_spans(afk), piece), exact)
    assert dict(whole.rows) == {"a": 32 * 60, "b": 25 * 60} and whole.active == 57 * 60
    assert dict(sliced.rows) == dict(whole.rows) and sliced.active == whole.active


# --- matching: the export's rules, ActivityWatch's choice -----------------------------------------


def test_matcher_uses_the_export_rules() -> None:
    match = project_matcher(["Project Alpha", "Project Beta"])
    assert match("notes - Project Alpha — Mozilla Firefox") == "Project Alpha"
    assert match("notes - project beta - Google Chrome") == "Project Beta"
    assert match("notes - Project Alphabet - Google Chrome") is None
    assert match("Project Alpha - Google Chrome") is None
    assert match("") is None


# --- tallies, JSON, table -------------------------------------------------------------------------


def test_tally_splits_pieces_at_day_edges() -> None:
    tz = ZoneInfo("UTC")
    span = Period(datetime(2026, 11, 20, 22, tzinfo=tz), datetime(2026, 11, 21, 2, tzinfo=tz))
    start = span.since.timestamp()
    pieces = [(start, start + 3 * 3600, "x - A"), (start + 3 * 3600, start + 4 * 3600, "other")]
    result = tally(pieces, project_matcher(["A"]), day_edges(span, tz))
    assert dict(result.rows) == {"A": 3 * 3600} and result.active == 4 * 3600
    assert {day: dict(projects) for day, projects in result.days.items()} == {
        "2026-11-20": {"A": 7200},
        "2026-11-21": {"A": 3600},
    }
    assert result.days_active == {"2026-11-20": 7200, "2026-11-21": 7200}


TITLES = Source(Kind.TITLES, ["aw-watcher-window_laptop"], ["aw-watcher-afk_laptop"])
JUPYTER = Source(Kind.EDITOR, ["aw-watcher-jupyter_laptop"])


def sample_report(by_day: bool) -> Report:
    tz = ZoneInfo("UTC")
    span = Period(datetime(2026, 11, 20, tzinfo=tz), datetime(2026, 11, 22, tzinfo=tz))
    start = span.since.timestamp()
    pieces = [
        (start, start + 2700.4, "a - Alpha - Chromium"),
        (start + 2700.4, start + 3600, "b - Beta"),
        (start + 86400, start + 86400 + 60, "c - Beta"),
        (start + 90000, start + 90600, "terminal"),
    ]
    return Report(
        "laptop",
        span,
        tally(pieces, project_matcher(["Alpha", "Beta", "Gamma"]), day_edges(span, tz) if by_day else None),
        TITLES,
    )


def test_json_lists_projects_with_time_most_first_and_names_the_source() -> None:
    doc = to_json(sample_report(by_day=False))
    assert doc == {
        "since": "2026-11-20T00:00:00+00:00",
        "until": "2026-11-22T00:00:00+00:00",
        "host": "laptop",
        "source": "window-titles",
        "buckets": ["aw-watcher-window_laptop", "aw-watcher-afk_laptop"],
        "projects": {"Alpha": 2700.4, "Beta": 959.6},
        "active": 4260.0,
    }
    assert to_json(sample_report(by_day=True))["days"] == {
        "2026-11-20": {"Alpha": 2700.4, "Beta": 899.6},
        "2026-11-21": {"Beta": 60.0},
    }


def test_table_shows_source_time_share_and_bars() -> None:
    lines = render(sample_report(by_day=False)).splitlines()
    assert lines[0] == "Active time per project on laptop, 2026-11-20 00:00 to 2026-11-22 00:00 (UTC)"
    assert lines[1] == (
        "from window titles (aw-watcher-window_laptop) with the project rules, while aw-watcher-afk_laptop says not-afk"
    )
    assert lines[3:] == [
        "project    time  share",
        "──────────────────────",
        "Alpha      0:45    63%  ████████████████████",
        "Beta       0:16    23%  ███████",
        "──────────────────────",
        "matched    1:01    86%",
        "active     1:11   100%",
    ]


def test_table_of_files_from_jupyter_has_no_matched_row() -> None:
    span = Period(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
    start = span.since.timestamp()
    pieces = [(start, start + 1200, "/w/alpha/a.ipynb"), (start + 1200, start + 1500, "/w/beta/b.py")]
    report = Report("laptop", span, tally(pieces, exact), JUPYTER, "file")
    lines = render(report).splitlines()
    assert lines[0].startswith("Active time per file on laptop") and lines[1].startswith("from Jupyter (")
    assert lines[3:] == [
        "file                time  share",
        "───────────────────────────────",
        "/w/alpha/a.ipynb    0:20    80%  ████████████████████",
        "/w/beta/b.py        0:05    20%  █████",
        "───────────────────────────────",
        "active              0:25   100%",
    ]
    assert to_json(report)["files"] == {"/w/alpha/a.ipynb": 1200.0, "/w/beta/b.py": 300.0}
    assert to_json(report)["source"] == "jupyter" and "projects" not in to_json(report)


def test_table_by_day_has_a_column_per_day() -> None:
    lines = render(sample_report(by_day=True)).splitlines()
    assert lines[3].split() == ["project", "2026-11-20", "2026-11-21", "total", "share"]
    assert lines[5].split()[:4] == ["Alpha", "0:45", "-", "0:45"]
    assert lines[6].split()[:4] == ["Beta", "0:15", "0:01", "0:16"]
    assert lines[-1].split() == ["active", "1:00", "0:11", "1:11", "100%"]


def test_formatting_rules() -> None:
    assert [hours_minutes(s) for s in (0, 29.9, 30, 3599, 3600, 36000 + 59 * 60 + 31)] == [
        "0:00",
        "0:00",
        "0:01",
        "1:00",
        "1:00",
        "11:00",
    ]
    assert [bar(s, 100, width=4) for s in (100, 50, 60, 1, 0)] == ["████", "██", "██▌", "▌", ""]
    assert printable("a\nb\tc") == "a\\nb\\tc"


# --- which source --------------------------------------------------------------------------------

BUCKETS = {
    "aw-watcher-window_a": {"type": "currentwindow", "hostname": "a"},
    "aw-watcher-afk_a": {"type": "afkstatus", "hostname": "a"},
    "aw-watcher-window_b": {"type": "currentwindow", "hostname": "b"},
    "aw-watcher-jupyter_a": {"type": "app.editor.activity", "hostname": "a"},
    "aw-watcher-jupyter_w": {"type": "app.editor.activity", "hostname": "w"},
    "aw-watcher-vim_c": {"type": "app.editor.activity", "hostname": "c"},
    "aw-watcher-web-chrome": {"type": "web.tab.current", "hostname": "c"},
}


def choose(host: str, has_data: bool = True, by_file: bool = False, names: tuple[str, ...] = ("P",)) -> Source:
    return choose_source(BUCKETS, host, lambda bucket: has_data, by_file, list(names))


def test_jupyter_bucket_wins_when_it_has_data_for_the_period() -> None:
    assert choose("a") == Source(Kind.EDITOR, ["aw-watcher-jupyter_a"])
    assert choose("a", names=()) == Source(Kind.EDITOR, ["aw-watcher-jupyter_a"])  # no map needed


def test_window_titles_when_jupyter_has_nothing_for_the_period() -> None:
    assert choose("a", has_data=False) == Source(Kind.TITLES, ["aw-watcher-window_a"], ["aw-watcher-afk_a"])
    assert choose("b") == Source(Kind.TITLES, ["aw-watcher-window_b"], [])
    with pytest.raises(UserError, match="^no projects mapped"):
        choose("a", has_data=False, names=())


def test_jupyter_alone_reports_even_with_no_data_and_files_need_it() -> None:
    """Wayland: no window watcher at all; an empty period is an empty report, not an error."""
    assert choose("w", has_data=False) == Source(Kind.EDITOR, ["aw-watcher-jupyter_w"])
    assert choose("a", has_data=False, by_file=True) == Source(Kind.EDITOR, ["aw-watcher-jupyter_a"])
    with pytest.raises(UserError, match="^--by file needs Jupyter's own bucket aw-watcher-jupyter_b"):
        choose("b", by_file=True)


def test_unknown_host_lists_hosts_with_jupyter_or_window_data() -> None:
    with pytest.raises(
        UserError,
        match=r"host 'c' \(no aw-watcher-jupyter_c, no window watcher\); "
        "hosts with data: a, b, w ",
    ):
        choose("c")
