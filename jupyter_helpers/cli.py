"""The `jupyter-helpers` command: parses, calls one module, prints, maps errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .common.errors import UserError
from .common.version import __version__

ACTION_WORDS = {
    "create": "wrote",
    "replace": "replaced (backup kept)",
    "update": "updated",
    "unchanged": "unchanged",
    "kept": "kept",
    "shared": "kept",
    "remove": "removed",
    "restore": "restored",
    "lost": "not restored",
    "failed": "could not restore",
    "note": "note",
}


def _print_actions(actions: list[tuple[str, Path, str]], dry_run: bool = False) -> None:
    for action, path, note in actions:
        changes = action in {"create", "replace", "update"}
        word = f"would {action}" if dry_run and changes else ACTION_WORDS[action]
        print(f"{word}: {path}" + (f" ({note})" if note else ""))


def cmd_install(args: argparse.Namespace) -> int:
    from .installer import install

    _print_actions(install.install(args.profile, dry_run=args.dry_run), dry_run=args.dry_run)
    if not args.dry_run:
        print("Done. New kernels notify when a run of cells takes 60 s or more; "
              "check the setup with `jupyter-helpers status`.")
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    from .installer import install

    actions = install.uninstall(args.profile)
    _print_actions(actions)
    if not actions:
        print(f"jupyter-helpers is not installed in profile {args.profile!r}; nothing to do.")
    return 1 if any(action == "failed" for action, _, _ in actions) else 0


def cmd_status(args: argparse.Namespace) -> int:
    from .installer import status

    ok, lines = status.run(args.profile)
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_projects(args: argparse.Namespace) -> int:
    from .common import projects

    store = projects.ProjectStore.default()
    if args.projects_command == "add":
        name = store.add(args.folder, args.name)
        print(f"{projects.normalise_folder(args.folder)} -> {name} (saved in {store.path})")
    elif args.projects_command == "remove":
        store.remove(args.folder)
        print(f"removed {projects.normalise_folder(args.folder)} from {store.path}")
    elif args.projects_command == "list":
        mapping = store.load()
        if not mapping.folders:
            print(f"no projects yet (add one: jupyter-helpers projects add FOLDER NAME); file: {store.path}")
        for folder, name in mapping.folders.items():
            print(f"{folder} -> {name}")
    else:
        mapping = store.load()
        project = mapping.resolve(projects.normalise_folder(args.path))
        print(project if project else "(no project)")
    return 0


def cmd_activitywatch(args: argparse.Namespace) -> int:
    from .activitywatch import rules as activitywatch
    from .common import projects

    mapping = projects.ProjectStore.default().load()
    names = mapping.project_names()
    if not names:
        raise UserError("no projects to export: add one with `jupyter-helpers projects add FOLDER NAME`")
    parent = activitywatch.parse_parent(args.parent)
    if args.query:
        print(activitywatch.query_snippet(names, parent))
        return 0
    text = activitywatch.export_text(names, parent)
    if args.output:
        from .common.files import atomic_write

        if os.path.lexists(args.output) and not args.force:
            raise UserError(f"{args.output} exists; pass --force to replace it (or choose another file)")
        try:
            atomic_write(Path(args.output), text.encode())
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror}") from exc
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)
    print(activitywatch.IMPORT_WARNING, file=sys.stderr)
    return 0


def cmd_activitywatch_report(args: argparse.Namespace) -> int:
    import json
    import socket
    from datetime import datetime

    from .activitywatch import periods
    from .activitywatch import report as activitywatch_report
    from .activitywatch import table as activitywatch_table
    from .activitywatch.client import DEFAULT_SERVER, ActivityWatchServer
    from .common import projects

    period = periods.resolve_period(args.since, args.until, datetime.now().astimezone().replace(microsecond=0))
    names = projects.ProjectStore.default().load().project_names()
    if not names:
        raise UserError("no projects mapped, so nothing to report: "
                        "add one with `jupyter-helpers projects add FOLDER NAME`")
    server = ActivityWatchServer(args.server or DEFAULT_SERVER)
    report, notes = activitywatch_report.build_report(
        server.buckets(), lambda bucket: server.events(bucket, period), args.host or socket.gethostname(), period,
        names, periods.day_edges(period, None) if args.by == "day" else None)
    for note in notes:
        print(note, file=sys.stderr)
    if args.json:
        print(json.dumps(activitywatch_report.to_json(report), indent=2, ensure_ascii=False))
    else:
        print(activitywatch_table.render(report))
    return 0


def cmd_wsl(args: argparse.Namespace) -> int:
    from .installer import wsl

    for line in wsl.run(browser=args.browser, dry_run=args.dry_run, undo=args.undo, force=args.force):
        print(line)
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from .common import paths
    from .common.child import child_command
    from .common.sender import Sender, usable_timeout
    from .common.text import TELEGRAM_LIMIT, clean

    text = args.text
    if not clean(text, TELEGRAM_LIMIT):  # the delivery child cleans it again, as every message
        raise UserError("nothing to send: give the text, e.g. `jupyter-helpers notify 'training done'`")
    sender = Sender(child_command(paths.profile_dir(args.profile)), args.timeout)
    try:
        sender.submit(text, "jupyter-helpers", args.backend or "")
        sender.wait_idle(usable_timeout(args.timeout) + 30)
    finally:
        sender.close()
    outcome = sender.last_outcome
    if outcome is not None and outcome.ok:
        print(f"sent via {outcome.via} in {outcome.seconds:.1f} s")
        return 0
    reason = outcome.reason if outcome is not None else "the sender gave no answer"
    print(f"jupyter-helpers: not sent: {reason}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter-helpers",
        description="Notifications for long cells, per-project window titles, and a WSL browser fix.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_profile(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--profile", default="default", metavar="NAME", help="IPython profile (default: default)")
        return sub

    install = with_profile(commands.add_parser("install", help="install into an IPython profile and Jupyter"))
    install.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")
    install.set_defaults(func=cmd_install)
    with_profile(commands.add_parser("uninstall", help="remove what install added, restore what it changed"))\
        .set_defaults(func=cmd_uninstall)
    with_profile(commands.add_parser("status", help="show what is installed and what is missing"))\
        .set_defaults(func=cmd_status)

    notify = with_profile(commands.add_parser("notify", help="send TEXT now, the way kernels do, and say how it went"))
    notify.add_argument("text", metavar="TEXT", help="what to send, e.g. 'training done'")
    notify.add_argument("--backend", metavar="NAME", help="ntfy backend (default: ntfy.yml, else telegram)")
    notify.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="give up after (default 30)")
    notify.set_defaults(func=cmd_notify)

    projects = commands.add_parser("projects", help="map folders to project names (for window titles)")
    projects.set_defaults(func=cmd_projects)
    project_commands = projects.add_subparsers(dest="projects_command", required=True, metavar="ACTION")
    add = project_commands.add_parser("add", help="map FOLDER (and everything below it) to project NAME")
    add.add_argument("folder")
    add.add_argument("name")
    project_commands.add_parser("remove", help="forget a folder").add_argument("folder")
    project_commands.add_parser("list", help="show the map")
    project_commands.add_parser("which", help="print the project PATH belongs to").add_argument("path")

    aw = commands.add_parser("activitywatch", help="ActivityWatch rules from the project map")
    aw_commands = aw.add_subparsers(dest="aw_command", required=True, metavar="ACTION")
    export = aw_commands.add_parser("export", help="write categories for ActivityWatch's import")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.add_argument("--parent", default="Work > Jupyter", help="parent category (default: 'Work > Jupyter')")
    export.add_argument("--query", action="store_true", help="print a query2 categorize(...) snippet instead")
    export.set_defaults(func=cmd_activitywatch)
    report = aw_commands.add_parser("report", help="active time per project, read from your running ActivityWatch")
    report.add_argument("--since", metavar="WHEN",
                        help="start: ISO date or date-time, today, yesterday, Nd (default: today)")
    report.add_argument("--until", metavar="WHEN", help="end (a day means its end; default: now)")
    report.add_argument("--by", choices=["day"], help="one column per local day")
    report.add_argument("--server", metavar="URL",
                        help="ActivityWatch server (default: http://127.0.0.1:5600)")
    report.add_argument("--host", metavar="NAME", help="the watched machine's hostname (default: this machine's)")
    report.add_argument("--json", action="store_true", help="print JSON (seconds) instead of a table")
    report.set_defaults(func=cmd_activitywatch_report)

    wsl = commands.add_parser("wsl", help="make Jupyter in WSL open the Windows browser on the http URL")
    wsl.add_argument("--browser", metavar="PATH_OR_NAME", help="Windows browser: a path or firefox/chrome/edge")
    wsl.add_argument("--dry-run", action="store_true", help="print the change, write nothing")
    wsl.add_argument("--undo", action="store_true", help="restore the Jupyter config as it was before")
    wsl.add_argument("--force", action="store_true", help="configure even when WSL is not detected")
    wsl.set_defaults(func=cmd_wsl)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"jupyter-helpers: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
