"""Kernel deaths told by the server (issue 17): a real Jupyter server with the extension enabled by
`jupyter-helpers install`, real kernels started through its REST API and killed for real, the
message sent through the delivery child and the real ntfy chain to the fake Bot API."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client import BlockingKernelClient

from conftest import TOKEN as BOT_TOKEN
from support.cgroups import install_kernel_in, memory_limited_cgroup
from support.fake_telegram import FakeTelegram, write_credentials
from support.jupyter_server import BIN, JupyterServer, isolated_env
from support.notebooks import save_notebook
from support.waiting import wait_until

PEAK = r"; peak \d+(\.\d)? [GM]B of \d+(\.\d)? [GM]B"  # what the kernel recorded (kernel/memory.py)


def make_site(base: Path, fake: FakeTelegram, server_config: str = "") -> dict:
    home, work = base / "home", base / "work"
    env = {**isolated_env(home), **fake.env()}
    for name in ("alpha/train.ipynb", "alpha/other.ipynb", "beta/idle.ipynb"):
        save_notebook(work / name)
    write_credentials(home, BOT_TOKEN)
    subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "jupyter-helpers"), "projects", "add", str(work / "alpha"), "Project Alpha"],
        env=env,
        check=True,
        capture_output=True,
    )
    if server_config:
        (home / ".jupyter" / "jupyter_server_config.py").write_text(server_config)
    return {"env": env, "work": work, "base": base, "runtime": home / ".local/share/jupyter/runtime"}


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeTelegram]:
    with FakeTelegram(tmp_path_factory.mktemp("telegram")) as running:
        yield running


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, fake: FakeTelegram) -> dict:
    return make_site(tmp_path_factory.mktemp("deaths"), fake)


@pytest.fixture(scope="module")
def server(site: dict) -> Iterator[JupyterServer]:
    with JupyterServer("notebook", site["work"], site["env"], site["base"] / "server.log") as running:
        yield running


@pytest.fixture
def telegram(fake: FakeTelegram) -> FakeTelegram:
    fake.mode, fake.delay = "ok", 0.0
    with fake._lock:
        fake.messages.clear()
    return fake


class Kernel:
    """A notebook's session on the server, and a client of its kernel (as a front end has).
    `followed`: returns once the server's kernel watch says it follows the kernel (its IOPub
    subscription confirmed by a message: a cell started from then on is seen)."""

    def __init__(
        self, server: JupyterServer, runtime: Path, path: str, followed: bool = True, kernel: str = "python3"
    ) -> None:
        self.server = server
        status, body = server.api(
            "api/sessions",
            "POST",
            {"path": path, "type": "notebook", "name": path.rsplit("/", 1)[-1], "kernel": {"name": kernel}},
        )
        assert status == 201, body
        self.id = json.loads(body)["kernel"]["id"]
        self.client = BlockingKernelClient(connection_file=str(runtime / f"kernel-{self.id}.json"))
        self.client.load_connection_file()
        self.client.start_channels()
        self.ready()
        if followed:
            self.followed()

    def followed(self) -> None:
        """Returns once the server follows the kernel's current process."""
        line = f"following kernel {self.id}, process {self.pid()} "
        assert wait_until(lambda: log_lines(self.server, line), timeout=60), f"the server never said {line!r}"

    def ready(self) -> None:
        """The kernel answers on its shell channel (not the heartbeat: a busy machine misses beats)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            asked = self.client.kernel_info()
            try:
                while self.client.get_shell_msg(timeout=5)["parent_header"].get("msg_id") != asked:
                    pass
                return
            except Exception:  # queue.Empty: ask again (a restarting kernel missed it)
                continue
        raise AssertionError(f"kernel {self.id} did not answer within 60 s")

    def pid(self) -> int:
        """The kernel's process, found by its connection file (running code would count as a cell)."""
        marker = f"kernel-{self.id}.json".encode()

        def find() -> int | None:
            for proc in Path("/proc").iterdir():
                try:
                    if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes():
                        return int(proc.name)
                except OSError:
                    continue
            return None

        found = wait_until(find, timeout=30)
        assert found, f"no process for kernel {self.id}"
        return found

    def execute(self, code: str) -> None:
        """Runs a cell to its end, known from its reply on the shell channel (not IOPub, whose
        subscription rejoins some time after a restart)."""
        asked = self.client.execute(code)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.client.get_shell_msg(timeout=5)["parent_header"].get("msg_id") == asked:
                    return
            except Exception:  # queue.Empty: keep waiting
                continue
        raise AssertionError(f"cell {code!r} did not finish within 60 s")

    def run(self, code: str) -> None:
        """Starts a cell and returns once the kernel runs it: the cell's first line leaves a file
        (jupyter_server's execution_state comes from its own IOPub subscription, which can join
        after the cell's busy status went by, and then never says busy)."""
        started = Path(tempfile.mkdtemp()) / "started"
        self.client.execute(f"open({str(started)!r}, 'w').close()\n{code}")
        assert wait_until(started.exists, timeout=60), f"kernel {self.id} never started {code!r}"

    def close(self) -> None:
        self.client.stop_channels()
        self.server.api(f"api/kernels/{self.id}", "DELETE")


def log_lines(server: JupyterServer, needle: str = "jupyter-helpers: ") -> list[str]:
    return [line for line in server.log.read_text(errors="replace").splitlines() if needle in line]


def kill(server: JupyterServer, kernel: Kernel) -> None:
    """SIGKILL to the kernel; returns once the server restarted it (as Jupyter does after a
    death) and a new process answers."""
    deaths = len(log_lines(server, " died ("))
    os.kill(kernel.pid(), signal.SIGKILL)
    assert wait_until(lambda: len(log_lines(server, " died (")) > deaths, timeout=30), "no death logged"
    assert wait_until(lambda: _alive(kernel), timeout=60), f"kernel {kernel.id} was not restarted"


def _alive(kernel: Kernel) -> bool:
    try:
        kernel.ready()
        return kernel.pid() > 0
    except AssertionError:
        return False


def test_a_kernel_killed_mid_cell_sends_one_message_naming_notebook_project_and_sigkill(
    server: JupyterServer, site: dict, telegram: FakeTelegram
) -> None:
    kernel = Kernel(server, site["runtime"], "alpha/train.ipynb")
    try:
        kernel.execute("import time")  # as a user's first cell
        kernel.run("time.sleep(60)")
        time.sleep(1.2)  # some busy time to report
        kill(server, kernel)
        texts = telegram.wait_for(1)
        kernel.followed()  # and nothing else arrives meanwhile
        assert len(telegram.texts()) == 1, telegram.texts()
    finally:
        kernel.close()
    first, second, host = texts[0].splitlines()
    # no memory cgroup limit here: nothing known ties the kill to the kernel's memory (no machine-wide figure)
    assert first.startswith("💀 train.ipynb (Project Alpha): kernel died (SIGKILL) after "), first
    assert first.endswith(" busy in cell [2]"), first
    assert second == "Jupyter restarts it; its variables are gone." and host.startswith("Host: ")
    line = log_lines(server, " died (")[-1]
    assert f"kernel {kernel.id} (alpha/train.ipynb) died (SIGKILL) after " in line, line
    assert line.endswith(" busy in cell [2]; phone message queued"), line


def test_a_segfault_is_named(server: JupyterServer, site: dict, telegram: FakeTelegram) -> None:
    kernel = Kernel(server, site["runtime"], "alpha/other.ipynb")
    try:
        # some work first: a kernel that crashes within milliseconds of starting a cell may not have
        # published that it is busy (its IOPub thread dies with it), and the message then says idle
        kernel.client.execute("import ctypes, time; time.sleep(0.5); ctypes.string_at(0)")
        texts = telegram.wait_for(1)
    finally:
        kernel.close()
    assert len(texts) == 1, texts
    assert texts[0].startswith("💀 other.ipynb (Project Alpha): kernel died (SIGSEGV) after "), texts[0]
    assert " busy in cell [1]\n" in texts[0], texts[0]


def test_an_idle_kernel_killed_sends_one_message(server: JupyterServer, site: dict, telegram: FakeTelegram) -> None:
    kernel = Kernel(server, site["runtime"], "beta/idle.ipynb")
    try:
        os.kill(kernel.pid(), signal.SIGKILL)
        texts = telegram.wait_for(1)
    finally:
        kernel.close()
    assert len(texts) == 1, texts
    assert texts[0].splitlines()[0] == "💀 idle.ipynb: kernel died (SIGKILL) while idle", texts[0]


def test_restarts_and_shutdowns_asked_for_send_nothing(
    server: JupyterServer, site: dict, telegram: FakeTelegram
) -> None:
    kernel = Kernel(server, site["runtime"], "alpha/train.ipynb")
    kernel.run("import time; time.sleep(60)")
    assert server.api(f"api/kernels/{kernel.id}/restart", "POST")[0] == 200
    assert wait_until(lambda: _alive(kernel), timeout=60)
    kernel.run("time.sleep(60)")
    kernel.close()  # DELETE: a shutdown
    assert wait_until(lambda: log_lines(server, f"Kernel shutdown: {kernel.id}"), timeout=30)
    time.sleep(2)  # a death would be logged and sent within this
    assert telegram.texts() == []
    assert not [line for line in log_lines(server, " died ") if kernel.id in line]


def test_a_death_while_the_notebook_is_looked_at_is_held(
    server: JupyterServer, site: dict, telegram: FakeTelegram
) -> None:
    """The page reports focus and fresh input through the real presence endpoint: Jupyter shows
    its own dialog on that page, so the phone stays quiet; the log says why."""
    kernel = Kernel(server, site["runtime"], "alpha/train.ipynb")
    try:
        report = {
            "page": uuid.uuid4().hex[:16],
            "seq": 1,
            "path": "alpha/train.ipynb",
            "focused": True,
            "visible": True,
            "idle": 0.5,
            "closing": False,
        }
        assert server.api("jupyter-helpers/presence", "POST", report)[0] == 204
        before = len(log_lines(server, " died ("))
        os.kill(kernel.pid(), signal.SIGKILL)
        assert wait_until(lambda: len(log_lines(server, " died (")) > before)
    finally:
        kernel.close()
    time.sleep(1)
    assert telegram.texts() == []
    assert "phone message held (notebook page focused" in log_lines(server, " died (")[-1]


def test_a_failing_channel_is_logged_once_without_the_token(
    server: JupyterServer, site: dict, telegram: FakeTelegram
) -> None:
    telegram.mode = "unauthorized"
    kernels = [Kernel(server, site["runtime"], path) for path in ("beta/idle.ipynb", "alpha/other.ipynb")]
    try:
        for kernel in kernels:
            kill(server, kernel)
        assert wait_until(lambda: len(log_lines(server, "message queued")) >= 2 and log_lines(server, "not sent"))
        time.sleep(2)  # the second send has failed too by now
    finally:
        for kernel in kernels:
            kernel.close()
    failures = log_lines(server, "notification not sent")
    assert len(failures) == 1 and "Telegram rejected the bot token" in failures[0], failures
    text = server.log.read_text(errors="replace")
    assert BOT_TOKEN not in text and BOT_TOKEN.split(":")[1] not in text


def test_the_server_stopped_with_ctrl_c_sends_nothing_and_leaves_nothing(
    tmp_path: Path, fake: FakeTelegram, telegram: FakeTelegram
) -> None:
    """Ctrl-C twice in the server's terminal while a cell runs: the extension's stop hook ends the
    kernel watch before the server shuts its kernels down (no death), and the presence files go."""
    site = make_site(tmp_path, fake)
    server = JupyterServer("notebook", site["work"], site["env"], tmp_path / "server.log", terminal=True)
    folder = site["runtime"] / "jupyter-helpers-presence"
    try:
        kernel = Kernel(server, site["runtime"], "alpha/train.ipynb")
        report = {"page": "pCtrlC0001", "seq": 1, "path": "alpha/train.ipynb", "focused": False, "visible": True}
        assert server.api("jupyter-helpers/presence", "POST", report)[0] == 204
        assert [path.name for path in folder.iterdir()] == [f"{kernel.id}.json"]
        kernel.run("import time; time.sleep(60)")
        kernel.client.stop_channels()
        server.interrupt()
    finally:
        server.stop()
    assert log_lines(server, "jupyter-helpers: stopped (presence files removed, kernel watch ended)")
    assert list(folder.iterdir()) == []
    assert log_lines(server, f"Kernel shutdown: {kernel.id}")  # after the stop hook: no death
    time.sleep(2)  # a death would be logged and sent within this
    assert telegram.texts() == []
    assert log_lines(server, " died (") == []


@pytest.mark.parametrize(
    "name, text", [("ipython_config.py", "import sys; sys.exit(0)\n"), ("ipython_config.json", '{"AutoNotify": 5}')]
)
def test_a_profile_config_the_server_cannot_use_sends_with_defaults_and_the_server_lives_on(
    server: JupyterServer, site: dict, telegram: FakeTelegram, name: str, text: str
) -> None:
    """A config that calls exit() ended the server's event loop at the first death; a section
    with a plain value lost the message in a traceback (review). Written after the kernel started,
    as a user edits it."""
    notebook = f"beta/{name}.ipynb"  # a session of its own: one left restarting must not be reused
    save_notebook(site["work"] / notebook)
    kernel = Kernel(server, site["runtime"], notebook)
    config = site["env"]["IPYTHONDIR"] / Path("profile_default") / name
    deaths = len(log_lines(server, " died ("))
    try:
        config.write_text(text)
        os.kill(kernel.pid(), signal.SIGKILL)
        assert wait_until(lambda: len(log_lines(server, " died (")) > deaths, timeout=30)
    finally:  # IPython cannot start with either file: gone before Jupyter restarts the kernel
        config.unlink(missing_ok=True)
    try:
        texts = telegram.wait_for(1)
    finally:
        kernel.close()
    assert texts and texts[0].startswith(f"💀 {name}.ipynb: kernel died (SIGKILL"), texts
    assert [line for line in log_lines(server, f"cannot load {config}") if line.endswith("are not used")]
    assert server.api("api/status")[0] == 200


def test_kernel_watch_can_be_switched_off(tmp_path: Path, fake: FakeTelegram, telegram: FakeTelegram) -> None:
    site = make_site(tmp_path, fake, "c.KernelWatch.enabled = False\n")
    with JupyterServer("notebook", site["work"], site["env"], tmp_path / "server.log") as server:
        kernel = Kernel(server, site["runtime"], "alpha/train.ipynb", followed=False)
        try:
            os.kill(kernel.pid(), signal.SIGKILL)
            assert wait_until(lambda: log_lines(server, "KernelRestarter: restarting kernel"), timeout=30)
        finally:
            kernel.close()
    time.sleep(1)
    assert telegram.texts() == []
    assert "kernel deaths are not sent (c.KernelWatch.enabled = False)" in server.log.read_text()


BURST = 25


def test_a_burst_of_deaths_while_telegram_is_slow_sends_every_message(
    tmp_path: Path, fake: FakeTelegram, telegram: FakeTelegram
) -> None:
    """Issue 24: 25 kernels killed at once while Telegram took 1 s per request: 19-22 of 25
    messages arrived (one queue of 20 for every kernel), and the dropped ones were logged as queued."""
    site = make_site(tmp_path, fake)
    for number in range(BURST):
        save_notebook(site["work"] / f"burst/nb{number:02d}.ipynb")
    with JupyterServer("notebook", site["work"], site["env"], tmp_path / "server.log") as server:
        kernels = [Kernel(server, site["runtime"], f"burst/nb{n:02d}.ipynb", followed=False) for n in range(BURST)]
        try:
            pids = [kernel.pid() for kernel in kernels]
            telegram.delay = 1.0
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            texts = telegram.wait_for(BURST, timeout=BURST * 10)
        finally:
            for kernel in kernels:
                kernel.close()
    names = sorted(text.split(":", 1)[0] for text in texts)
    assert names == [f"💀 nb{n:02d}.ipynb" for n in range(BURST)], texts
    outcomes = [line.rsplit("; phone message ", 1)[1] for line in log_lines(server, " died (")]
    assert outcomes == ["queued"] * BURST, outcomes


def test_after_uninstall_a_server_sends_nothing_and_status_and_uninstall_say_what_stays(
    tmp_path: Path, fake: FakeTelegram, telegram: FakeTelegram
) -> None:
    """Issue 24: after `uninstall` a server started from the same environment still sent 💀 and
    status said `kernel deaths: on`. Uninstalled (pip's package left), a server keeps window titles
    and sends nothing: no death message, no presence endpoint (which feeds ActivityWatch)."""
    site = make_site(tmp_path, fake)
    cli = [str(BIN / "jupyter-helpers")]
    with JupyterServer("notebook", site["work"], site["env"], tmp_path / "before.log") as running:
        done = subprocess.run([*cli, "uninstall"], env=site["env"], capture_output=True, text=True, check=True)
    assert (
        f"stays active until you restart it: the Jupyter server at {running.url} (pid {running.process.pid}), "
        "which still sends kernel-death messages and ActivityWatch heartbeats" in done.stdout
    ), done.stdout
    assert "servers started from now on send nothing" in done.stdout

    with JupyterServer("notebook", site["work"], site["env"], tmp_path / "server.log") as server:
        assert log_lines(server, "not installed for you or for this environment: window titles only")
        assert server.api("jupyter-helpers/presence", "POST", {})[0] == 404
        assert "Project Alpha" in server.get("notebooks/alpha/train.ipynb").decode()  # titles stay
        kernel = Kernel(server, site["runtime"], "alpha/train.ipynb", followed=False)
        try:
            os.kill(kernel.pid(), signal.SIGKILL)
            assert wait_until(lambda: log_lines(server, "KernelRestarter: restarting kernel"), timeout=30)
            kernel.ready()  # restarted: a death message would have been queued before the restart
        finally:
            kernel.close()
        assert not log_lines(server, " died (") and not log_lines(server, "kernel watch"), log_lines(server)
    assert telegram.wait_for(1, timeout=3) == []

    status = subprocess.run([*cli, "status"], env=site["env"], capture_output=True, text=True)
    assert (
        "ok   kernel deaths, presence and ActivityWatch heartbeats: off, jupyter-helpers is installed neither "
        "for you nor for this environment" in status.stdout
    ), status.stdout
    assert "ActivityWatch heartbeats:" not in status.stdout.replace("presence and ActivityWatch heartbeats:", "")


def test_a_kernel_the_oom_killer_ended_says_out_of_memory(
    tmp_path: Path, fake: FakeTelegram, telegram: FakeTelegram
) -> None:
    """A real OOM kill: the server (and so its kernels) in a cgroup limited to 600 MB, a cell that
    allocates 2 GB. The cgroup's own count says so: "out of memory", no question mark."""
    site = make_site(tmp_path, fake)
    with memory_limited_cgroup(600 * 1024**2) as cgroup:
        server = JupyterServer("notebook", site["work"], site["env"], tmp_path / "server.log", wrapper=cgroup.joining())
        try:
            kernel = Kernel(server, site["runtime"], "alpha/train.ipynb")
            # a pause first, as in the segfault test: a kernel killed within milliseconds of starting
            # a cell may not have published that it is busy (seen once: the message said idle)
            kernel.client.execute("import time; time.sleep(0.5); hoard = bytearray(2 * 1024**3)")
            texts = telegram.wait_for(1, timeout=60)
            kernel.close()
        finally:
            server.stop()
    assert len(texts) == 1, texts
    # one allocation of 2 GB: the kernel's last look (in the pause) saw far less than the limit
    assert re.match(
        rf"💀 train\.ipynb \(Project Alpha\): kernel died \(SIGKILL: out of memory{PEAK}\) after ", texts[0]
    )
    assert "MB of 600 MB) after" in texts[0], texts[0]


def test_a_kernel_growing_into_the_oom_killer_is_warned_and_its_death_gives_the_peak(
    tmp_path: Path, fake: FakeTelegram, telegram: FakeTelegram
) -> None:
    """The kernels in a 600 MB cgroup (a kernelspec that joins it, as a hub's or a container's
    kernels may); a cell growing 200 MB/s with the default memory_warn (0.9) and no
    memory_interrupt: the kernel's 🧠 message, then the OOM killer, then the server's 💀 message with
    the peak the kernel recorded (issue 26). The server stays outside: inside, a loaded machine's OOM
    killer once took it 9 ms after the kernel (the cgroup still over its limit while the kernel's
    memory was being freed), and only root with CAP_SYS_RESOURCE could spare it. The server inside
    the cgroup: test_a_kernel_the_oom_killer_ended_says_out_of_memory."""
    site = make_site(tmp_path, fake)
    with memory_limited_cgroup(600 * 1024**2) as cgroup:
        limited = install_kernel_in(cgroup, Path(site["env"]["JUPYTER_DATA_DIR"]))
        server = JupyterServer("notebook", site["work"], site["env"], tmp_path / "server.log")
        try:
            kernel = Kernel(server, site["runtime"], "alpha/train.ipynb", kernel=limited)
            kernel.client.execute(
                "import time\nchunks = []\ntime.sleep(0.5)\n"
                "while True:\n    chunks.append(bytearray(20 * 1024**2))\n    time.sleep(0.1)\n"
            )
            texts = telegram.wait_for(2, timeout=90)
            assert cgroup.oom_kills() >= 1
            kernel.close()
        finally:
            server.stop()
    assert len(texts) == 2, texts
    warned = next(text for text in texts if text.startswith("🧠"))
    died = next(text for text in texts if text.startswith("💀"))
    assert warned.startswith("🧠 train.ipynb (Project Alpha): cell [1] at 9"), warned
    match = re.match(
        r"💀 train\.ipynb \(Project Alpha\): kernel died \(SIGKILL: out of memory; peak (\d+) MB of 600 MB\) after ",
        died,
    )
    assert match and 500 <= int(match.group(1)) <= 600, died
    assert not list((site["runtime"] / "jupyter-helpers-memory").glob("*.json"))  # taken by the server


def test_a_crash_loop_sends_one_message_but_a_death_after_new_work_sends_another(
    server: JupyterServer, site: dict, telegram: FakeTelegram
) -> None:
    """Killed again right after Jupyter restarted it, before any cell ran (a kernel dying at
    start-up looks like this): logged, not sent again. Killed after running a cell: sent."""
    kernel = Kernel(server, site["runtime"], "beta/idle.ipynb")
    try:
        for code in (None, None, "x = 1"):
            if code:  # run once the server follows the new process: a cell it did not see looks like none
                kernel.followed()
                kernel.execute(code)
            kill(server, kernel)
        texts = telegram.wait_for(2)
    finally:
        kernel.close()
    assert len(texts) == 2, texts
    lines = [line for line in log_lines(server, " died (") if kernel.id in line]
    assert [line.rsplit("; ", 1)[1] for line in lines] == [
        "phone message queued",
        "phone message not sent again (it died again while restarting)",
        "phone message queued",
    ]


def test_a_crash_loop_past_the_restart_limit_says_jupyter_gave_up(
    tmp_path: Path, fake: FakeTelegram, telegram: FakeTelegram
) -> None:
    """Issue 24: at jupyter_client's restart limit the one message said "Jupyter restarts it" while
    the kernel was gone (404), and the final death sent nothing. Limit 2: killed three times, each
    new process as soon as it exists."""
    site = make_site(tmp_path, fake, "c.KernelRestarter.restart_limit = 2\n")
    with JupyterServer("notebook", site["work"], site["env"], tmp_path / "server.log") as server:
        kernel = Kernel(server, site["runtime"], "beta/idle.ipynb")
        try:
            for _ in range(3):  # each new process killed as soon as it exists (kernel.pid waits for it)
                deaths = len(log_lines(server, " died ("))
                os.kill(kernel.pid(), signal.SIGKILL)
                assert wait_until(lambda n=deaths: len(log_lines(server, " died (")) > n, timeout=30), "no death"
            texts = telegram.wait_for(2)
            # jupyter_server removes the kernel (its own `dead` callback, which ours must not skip)
            assert wait_until(lambda: server.api(f"api/kernels/{kernel.id}")[0] == 404, timeout=30)
        finally:
            kernel.close()
    assert len(texts) == 2, texts
    assert texts[0].splitlines()[1] == "Jupyter restarts it; its variables are gone.", texts[0]
    assert texts[1].startswith("💀 idle.ipynb: kernel died (SIGKILL) while idle\n"), texts[1]
    assert texts[1].splitlines()[1].startswith("It kept dying as Jupyter restarted it, and Jupyter gave up"), texts[1]
    lines = [line.split(") died (", 1)[1] for line in log_lines(server, " died (")]
    assert [line.split("; ", 1)[1] for line in lines] == [
        "phone message queued",
        "phone message not sent again (it died again while restarting)",
        "phone message queued",
    ], lines
    assert lines[-1].startswith("SIGKILL) while idle and Jupyter gave up restarting it;"), lines
