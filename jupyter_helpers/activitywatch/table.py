"""The report as a table a person reads at a glance (pure: Report in, text out).

Times are h:mm rounded to the nearest minute (a day without time shows "-"). Shares are of all
active time, so with window titles the matched row says how much of it the projects account for
(Jupyter's own time always names its project, so there it has only the active row). Bars are scaled to
the largest project in half-character steps (any time at all shows at least a half block).
"""

from __future__ import annotations

from .report import Kind, Report

BAR_WIDTH = 20


def hours_minutes(seconds: float) -> str:
    minutes = int((seconds + 30) // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def bar(seconds: float, largest: float, width: int = BAR_WIDTH) -> str:
    if seconds <= 0 or largest <= 0:
        return ""
    halves = max(1, round(seconds / largest * width * 2))
    return "█" * (halves // 2) + "▌" * (halves % 2)


def share(seconds: float, whole: float) -> str:
    return f"{seconds / whole:.0%}" if whole > 0 else "-"


def printable(name: str) -> str:
    """Names come from the user's file: control characters would break the table's lines."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in name)


def render(report: Report) -> str:
    tally, period = report.tally, report.period
    ranked = report.ranked()
    per_day, per_day_active = tally.days or {}, tally.days_active or {}
    days = list(per_day)
    heading = (
        f"Active time per {report.rows} on {printable(report.host)}, "
        f"{period.since:%Y-%m-%d %H:%M} to {period.until:%Y-%m-%d %H:%M} ({period.since:%Z})"
    )
    rows = [
        (
            printable(name),
            [per_day[day].get(name, 0.0) for day in days],
            seconds,
            share(seconds, tally.active),
            bar(seconds, ranked[0][1]),
        )
        for name, seconds in ranked
    ]
    active = ("active", [per_day_active[day] for day in days], tally.active, share(tally.active, tally.active), "")
    matched = (
        "matched",
        [sum(per_day[day].values()) for day in days],
        report.matched,
        share(report.matched, tally.active),
        "",
    )
    totals = [matched, active] if report.source.kind is Kind.TITLES else [active]  # Jupyter's time is all matched
    name_width = max(len(row[0]) for row in rows + totals + [(report.rows,)])
    day_width = max([len(day) for day in days], default=0)

    def line(name: str, cells: list[str], time: str, part: str, drawn: str) -> str:
        columns = [name.ljust(name_width), *(cell.rjust(day_width) for cell in cells), time.rjust(6), part.rjust(5)]
        return "  ".join(columns + ([drawn] if drawn else [])).rstrip()

    header = line(report.rows, days, "total" if days else "time", "share", "")
    lines = [heading, report.source.describe(), "", header, "─" * len(header)]
    if tally.active <= 0:
        lines.append(f"(no active time recorded for host {printable(report.host)} in this period)")
        return "\n".join(lines)
    for index, (name, cells, seconds, part, drawn) in enumerate(rows + totals):
        if index == len(rows):
            lines.append("─" * len(header))
        lines.append(
            line(
                name, [hours_minutes(cell) if cell > 0 else "-" for cell in cells], hours_minutes(seconds), part, drawn
            )
        )
    return "\n".join(lines)
