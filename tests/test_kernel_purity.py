"""The runtime rule, run for real: the kernel side works where only IPython and traitlets exist,
and the delivery child works without IPython (tests/test_layout.py checks the imports statically;
these prove that nothing, a swallowed ImportError included, reaches further at run time).

The kernel side is loaded by the real startup file, installed by the real CLI, into a terminal
IPython whose process cannot import the server's, the installer's or the delivery child's packages;
its message still names the notebook's project, which comes from the map the CLI wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import TOKEN, run_cli

SUPPORT = Path(__file__).parent / "support"
NOT_IN_KERNELS = [
    "jupyter_core",
    "jinja2",
    "tornado",
    "jupyter_server",
    "zmq",
    "ntfy",
    "jupyter_client",
    "ipykernel",
    "markupsafe",
    "ruamel",
    "telegram_send",
    "telegram",
    "httpx",
]
NOT_IN_DELIVERY = [
    "IPython",
    "traitlets",
    "jupyter_core",
    "jinja2",
    "tornado",
    "jupyter_server",
    "zmq",
    "jupyter_client",
    "ipykernel",
]


def blocked_python(names: list[str], report: Path, then: str) -> str:
    """Python source: block `names`, write what was attempted to `report` at exit, run `then`
    (a file, not stderr: the delivery child points its standard streams at /dev/null)."""
    return (
        textwrap.dedent(f"""\
        import atexit, json, sys
        sys.path.insert(0, {str(SUPPORT)!r})
        from blocked_imports import block
        blocker = block({names!r})
        atexit.register(lambda: open({str(report)!r}, "w").write(json.dumps(sorted(set(blocker.attempts)))))
    """)
        + then
    )


def attempts(report: Path) -> list[str]:
    return json.loads(report.read_text())


def test_kernel_side_runs_with_only_ipython_and_traitlets(
    home: Path, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli("install")
    notebook_dir = home / "work" / "alpha"
    notebook_dir.mkdir(parents=True)
    run_cli("projects", "add", str(notebook_dir), "Project Alpha")
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook_dir / "analysis.ipynb"))
    (home / ".ipython" / "profile_default" / "ipython_config.py").write_text("c.AutoNotify.after = 0\n")
    cell = "import time; time.sleep(0.1)\ntry:\n    import zmq\nexcept ImportError:\n    print('zmq is blocked')\n6 * 7"
    report = home / "attempts.json"
    source = blocked_python(
        NOT_IN_KERNELS,
        report,
        f"from IPython import start_ipython\nstart_ipython(argv=['--no-banner', '-c', {cell!r}])\n",
    )
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=120, cwd=notebook_dir)
    assert done.returncode == 0, done.stderr
    assert "zmq is blocked" in done.stdout and "Out[" in done.stdout, done.stdout
    assert "autonotify is off" not in done.stderr, done.stderr
    assert attempts(report) == ["zmq"], "only the cell's own import may try a blocked module"
    texts = telegram.wait_for(1)
    assert len(texts) == 1 and texts[0].startswith("✅ analysis.ipynb (Project Alpha): cell"), texts
    assert "Result: 42" in texts[0]


def test_delivery_child_runs_without_ipython(home: Path, telegram) -> None:
    report = home / "attempts.json"
    source = blocked_python(
        NOT_IN_DELIVERY, report, "import runpy\nrunpy.run_module('jupyter_helpers.delivery', run_name='__main__')\n"
    )
    request = {"text": "✅ delivered without IPython", "title": "t", "backend": "", "image": None, "limit": 30}
    done = subprocess.run(
        [sys.executable, "-P", "-c", source],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stdout) == {"ok": True, "via": "telegram"}, done.stdout + done.stderr
    assert attempts(report) == []
    assert telegram.wait_for(1) == ["✅ delivered without IPython"]
    assert all(message["path"] == f"/bot{TOKEN}/sendMessage" for message in telegram.messages)
