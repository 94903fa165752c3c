"""The `jupyter-helpers` command: parses, calls one module, prints, maps errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .common.errors import UserError
from .common.version import __version__

if TYPE_CHECKING:
    from .installer.changes import FileOutcome


def _print_outcomes(outcomes: list[FileOutcome], dry_run: bool = False) -> None:
    from .installer.changes import WRITES, Action

    words = {
        Action.CREATE: "wrote",
        Action.REPLACE: "replaced (backup kept)",
        Action.UPDATE: "updated",
        Action.SHARED: "kept",
        Action.REMOVE: "removed",
        Action.RESTORE: "restored",
        Action.LOST: "not restored",
        Action.FAILED: "could not restore",
    }
    for outcome in outcomes:
        if dry_run and outcome.action in WRITES:
            word = f"would {outcome.action}"
        else:
            word = words.get(outcome.action, str(outcome.action))
        print(f"{word}: {outcome.path}" + (f" ({outcome.note})" if outcome.note else ""))


def _where(args: argparse.Namespace) -> str:
    """`--sys-prefix` or `--profile`, never both: one install covers every profile of every user."""
    if args.sys_prefix and args.profile is not None:
        raise UserError("--sys-prefix is for every user and profile of this environment; drop --profile")
    if args.profile is None:
        args.profile = "default"
    return sys.prefix if args.sys_prefix else f"profile {args.profile!r}"


def cmd_install(args: argparse.Namespace) -> int:
    from .installer import environment, install

    where = _where(args)
    if args.sys_prefix:
        outcomes = environment.install(dry_run=args.dry_run)
    else:
        outcomes = install.install(args.profile, dry_run=args.dry_run)
    _print_outcomes(outcomes, dry_run=args.dry_run)
    if args.dry_run:
        return 0
    if args.sys_prefix:
        print(
            f"Done. New kernels of every user of {where} notify when a run of cells takes 60 s or more; "
            "each user maps their folders (`jupyter-helpers projects add`), sets up Telegram, "
            "and checks with `jupyter-helpers status`."
        )
    else:
        print(
            "Done. New kernels notify when a run of cells takes 60 s or more; "
            "check the setup with `jupyter-helpers status`."
        )
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    from .installer import environment, install
    from .installer.changes import Action

    where = _where(args)
    outcomes = environment.uninstall() if args.sys_prefix else install.uninstall(args.profile)
    _print_outcomes(outcomes)
    if not outcomes:
        print(f"jupyter-helpers is not installed in {where}; nothing to do.")
    failed = any(outcome.action == Action.FAILED for outcome in outcomes)
    if outcomes and not failed:
        print("\n".join(install.what_stays(per_user=not args.sys_prefix)))
    return 1 if failed else 0


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
        folder = projects.normalise_folder(args.folder)
        print(f"{folder} -> {name} (saved in {store.path})")
        if not Path(folder).is_dir():
            print(f"note: {folder} does not exist yet; its notebooks get the project once it does")
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


def activitywatch_settings() -> tuple[str, str | None]:
    """Where the report reads: where the Jupyter server's heartbeats go."""
    from .installer.effective_config import ConfigUnreadable, activitywatch_server

    try:
        return activitywatch_server()
    except ConfigUnreadable as exc:
        raise UserError(str(exc)) from None


def cmd_activitywatch_report(args: argparse.Namespace) -> int:
    import json
    import socket
    from datetime import datetime

    from .activitywatch import periods
    from .activitywatch import report as activitywatch_report
    from .activitywatch import table as activitywatch_table
    from .activitywatch.client import ActivityWatchServer, origin
    from .common import projects

    period = periods.resolve_period(args.since, args.until, datetime.now().astimezone().replace(microsecond=0))
    if not 0 < args.timeout <= 86400:
        raise UserError(
            f"--timeout {args.timeout:g}: give the seconds to wait for ActivityWatch, "
            "above 0 and at most 86400 (e.g. 600)"
        )
    names = projects.ProjectStore.default().load().project_names()
    configured, key = activitywatch_settings()
    url = args.server or configured
    server = ActivityWatchServer(url, args.timeout, key if origin(url) == origin(configured) else None)
    by = set(args.by or [])
    report, notes = activitywatch_report.build_report(
        server.buckets(),
        server,
        args.host or socket.gethostname(),
        period,
        names,
        periods.day_edges(period, None),
        per_day="day" in by,
        by_file="file" in by,
    )
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
    from .common.sender import send_once
    from .common.text import TELEGRAM_LIMIT, clean

    text = args.text
    if not clean(text, TELEGRAM_LIMIT):  # the delivery child cleans it again, as every message
        raise UserError("nothing to send: give the text, e.g. `jupyter-helpers notify 'training done'`")
    outcome = send_once(
        child_command(paths.profile_dir(args.profile)), text, "jupyter-helpers", args.backend or "", args.timeout
    )
    if outcome.ok:
        print(f"sent via {outcome.via} in {outcome.seconds:.1f} s")
        return 0
    print(f"jupyter-helpers: not sent: {outcome.reason}", file=sys.stderr)
    return 1


def ask_token(patience: float = 5.0) -> str:
    """Hidden on a terminal; else a line piped to standard input (a script, ssh without -t), which
    must be there within `patience` seconds: `!jupyter-helpers telegram` in a notebook has a pipe
    nobody writes. Either way the token never shows in `ps`, as `--token TOKEN` does."""
    import getpass
    import select

    if sys.stdin is not None and sys.stdin.isatty():
        try:
            return getpass.getpass("Bot token from @BotFather (input hidden): ")
        except EOFError:
            pass
    elif sys.stdin is not None and select.select([sys.stdin], [], [], patience)[0]:
        line = sys.stdin.readline()
        if line.strip():
            return line
    raise UserError(
        "no bot token: pipe it in (e.g. `pass show my-bot | jupyter-helpers telegram --token -`), "
        "or run this in a terminal to type it hidden"
    )


def cmd_telegram(args: argparse.Namespace) -> int:
    from .common import paths
    from .common.child import child_command
    from .common.sender import send_once
    from .installer import telegram
    from .installer.status import probe_delivery

    if not 1 <= args.wait <= 3600:
        raise UserError(f"--wait {args.wait:g}: give seconds from 1 to 3600, e.g. --wait 300")
    telegram.check_credentials_file()
    if args.token is None:
        token = ask_token()
    elif args.token == "-":  # asked for in so many words: a slow `pass` or gpg may feed the pipe
        token = ask_token(patience=60.0)
    else:
        token = args.token
    api = telegram.BotApi(telegram.check_token_shape(token))
    bot = api.bot()
    code = telegram.new_code()
    print(f"Bot: @{bot.username}")
    print(f"On your phone open {telegram.start_link(bot.username, code)} and tap Start,")
    print(f"or send @{bot.username} this code: {code}")
    print(f"Waiting up to {args.wait:g} s ...", flush=True)
    pairing = api.wait_for_code(bot, code, args.wait)
    ignored = f"{pairing.ignored} other message{'s' if pairing.ignored != 1 else ''}"
    if pairing.chat is None:
        raise telegram.TelegramError(
            f"no message with the code reached @{bot.username} within {args.wait:g} s"
            + (f" ({ignored} ignored)" if pairing.ignored else "")
            + "; run this again and open its new link on your phone (or give more time: --wait 300)"
        )
    print(f"Chat: {pairing.chat.name} (id {pairing.chat.id})")
    if pairing.ignored:
        print(f"ignored {ignored} to @{bot.username} meanwhile (without the code, or not from a private chat)")
    path = telegram.write_credentials(token.strip(), pairing.chat.id)
    print(f"wrote: {path} (token, chat_id; readable by you only)")
    outcome = send_once(
        child_command(paths.profile_dir(args.profile)),
        "✅ jupyter-helpers can reach you here: long runs will report to this chat.",
        "jupyter-helpers",
        "telegram",
        30.0,
    )
    if not outcome.ok:
        print(f"jupyter-helpers: the test message was not sent: {outcome.reason}", file=sys.stderr)
        return 1
    print(f"sent a test message via telegram in {outcome.seconds:.1f} s: check Telegram")
    reply = probe_delivery(child_command(paths.profile_dir(args.profile))[0])
    elsewhere = reply.get("backends") if reply else None
    if isinstance(elsewhere, list) and elsewhere and "telegram" not in elsewhere:
        print(
            f"note: {paths.ntfy_yml()} sends long runs through {', '.join(map(str, elsewhere))}, not Telegram: "
            "add telegram to its `backends:` list to get them here"
        )
    return 0


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

    def with_place(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--profile", metavar="NAME", help="IPython profile (default: default)")
        sub.add_argument(
            "--sys-prefix", action="store_true", help=f"this environment, every user ({sys.prefix}/etc): for JupyterHub"
        )
        return sub

    install = with_place(commands.add_parser("install", help="install into an IPython profile and Jupyter"))
    install.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")
    install.set_defaults(func=cmd_install)
    with_place(
        commands.add_parser("uninstall", help="remove what install added, restore what it changed")
    ).set_defaults(func=cmd_uninstall)
    with_profile(commands.add_parser("status", help="show what is installed and what is missing")).set_defaults(
        func=cmd_status
    )

    notify = with_profile(commands.add_parser("notify", help="send TEXT now, the way kernels do, and say how it went"))
    notify.add_argument("text", metavar="TEXT", help="what to send, e.g. 'training done'")
    notify.add_argument("--backend", metavar="NAME", help="ntfy backend (default: ntfy.yml, else telegram)")
    notify.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="give up after (default 30)")
    notify.set_defaults(func=cmd_notify)

    telegram = with_profile(
        commands.add_parser(
            "telegram",
            help="set up Telegram: check the bot token, pair your chat by a one-time link, write telegram.ini, test it",
        )
    )
    telegram.add_argument(
        "--token",
        metavar="TOKEN",
        help="the bot token from @BotFather; - reads it from standard input (default: asked, hidden). "
        "A token given here shows in `ps` while setup waits: prefer the prompt or a pipe",
    )
    telegram.add_argument(
        "--wait",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait for the code to reach the bot (default 120)",
    )
    telegram.set_defaults(func=cmd_telegram)

    projects = commands.add_parser("projects", help="map folders to project names (for window titles)")
    projects.set_defaults(func=cmd_projects)
    project_commands = projects.add_subparsers(dest="projects_command", required=True, metavar="ACTION")
    add = project_commands.add_parser("add", help="map FOLDER (and everything below it) to project NAME")
    add.add_argument("folder")
    add.add_argument("name")
    project_commands.add_parser("remove", help="forget a folder").add_argument("folder")
    project_commands.add_parser("list", help="show the map")
    project_commands.add_parser("which", help="print the project PATH belongs to").add_argument("path")

    aw = commands.add_parser("activitywatch", help="ActivityWatch: time per project (report), category rules (export)")
    aw_commands = aw.add_subparsers(dest="aw_command", required=True, metavar="ACTION")
    export = aw_commands.add_parser("export", help="write categories for ActivityWatch's import")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.add_argument("--parent", default="Work > Jupyter", help="parent category (default: 'Work > Jupyter')")
    export.add_argument("--query", action="store_true", help="print a query2 categorize(...) snippet instead")
    export.set_defaults(func=cmd_activitywatch)
    report = aw_commands.add_parser(
        "report",
        help="active time per project or file, read from your running ActivityWatch "
        "(Jupyter's own bucket, else window titles)",
    )
    report.add_argument(
        "--since", metavar="WHEN", help="start: ISO date or date-time, today, yesterday, Nd (default: today)"
    )
    report.add_argument("--until", metavar="WHEN", help="end (a day means its end; default: now)")
    report.add_argument(
        "--by",
        choices=["day", "file"],
        action="append",
        help="day: a column per local day; file: a row per file instead of per project "
        "(Jupyter's bucket only); repeat for both: --by day --by file",
    )
    report.add_argument(
        "--server",
        metavar="URL",
        help="ActivityWatch server (default: c.ActivityWatch.url in the Jupyter server config, "
        "else http://127.0.0.1:5600)",
    )
    report.add_argument("--host", metavar="NAME", help="the watched machine's hostname (default: this machine's)")
    report.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give up when ActivityWatch has not sent everything by then (default 300)",
    )
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
