"""A cell waiting for input() or getpass() (issue 17): a real kernel started with the startup file
installed by the real CLI, a client that answers input requests as a front end does, messages
through the real ntfy chain to the fake Bot API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jupyter_client.manager import start_new_kernel

from conftest import run_cli
from support.kernels import kernel_config
from support.notebooks import run_notebook, stream_text


@contextmanager
def kernel_with_stdin(workdir: Path) -> Iterator:
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=120, cwd=str(workdir))
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def ask(client, code: str) -> tuple[str, dict]:
    """Runs `code` (which calls input()); returns the request's id and the input_request's content."""
    msg_id = client.execute(code, allow_stdin=True)
    return msg_id, client.get_stdin_msg(timeout=60)["content"]


def finish(client, msg_id: str, answer: str) -> None:
    client.input(answer)
    while client.get_shell_msg(timeout=60)["parent_header"].get("msg_id") != msg_id:
        pass


def test_a_cell_waiting_for_input_sends_one_message_quoting_the_prompt(kernel_home: Path, telegram, home: Path) -> None:
    run_cli("projects", "add", str(kernel_home.parent), "Project Alpha")
    kernel_config(home, "c.AutoNotify.input_after = 1\n")
    with kernel_with_stdin(kernel_home) as client:
        quick, request = ask(client, "first = input('Quick one? ')")
        time.sleep(0.3)
        finish(client, quick, "fast-answer")  # answered in time: nothing is sent
        waiting, request = ask(client, "answer = input('Continue training? [y/n] ')")
        assert request == {"prompt": "Continue training? [y/n] ", "password": False}
        texts = telegram.wait_for(1, timeout=20)
        finish(client, waiting, "secret-answer")
        hidden, request = ask(client, "import getpass; key = getpass.getpass('API key:')")
        assert request["password"] is True
        texts = telegram.wait_for(2, timeout=20)
        finish(client, hidden, "hunter2")
        time.sleep(2)  # answering sends nothing more
    texts = telegram.texts()
    assert len(texts) == 2, texts
    first, host = texts[0].splitlines()
    assert first == '⌨ analysis.ipynb (Project Alpha): cell [2] waits for input: "Continue training? [y/n]"', first
    assert host.startswith("Host: ")
    assert texts[1].splitlines()[0] == '⌨ analysis.ipynb (Project Alpha): cell [3] waits for input: "API key:"'
    assert not any(word in text for text in texts for word in ("fast-answer", "secret-answer", "hunter2"))


def test_input_after_zero_and_the_magic(kernel_home: Path, telegram) -> None:
    """`%autonotify --input-after S` sets it (0 = off); the magic's help, from its one source,
    lists every option."""
    nb = run_notebook(
        [
            "%autonotify --input-after 0",
            "%autonotify --input-after 45",
            "print(get_ipython().find_line_magic('autonotify').__doc__)",
        ],
        kernel_home,
    )
    assert "input: no message for cells waiting for input() (--input-after 0)" in stream_text(nb.cells[0])
    assert "input: one message when a cell waits 45.0 s for input()" in stream_text(nb.cells[1])
    usage = stream_text(nb.cells[2])
    for option in ("--when", "--input-after", "--per", "--backend", "--status"):
        assert option in usage, usage


def test_prompts_of_a_cell_answered_one_after_another_send_one_message(kernel_home: Path, telegram, home: Path) -> None:
    """`input()` in a loop, each prompt answered a little after `input_after`: someone is there,
    yet every prompt sent its own ⌨ (five for five). Once a cell's wait was reported, a prompt it
    asks right after an answer starts no timer; one asked after the cell ran on its own for
    `input_after` is a new wait and is reported."""
    kernel_config(home, "c.AutoNotify.input_after = 1\n")
    with kernel_with_stdin(kernel_home) as client:
        loop = client.execute(
            "for i in range(4):\n    input(f'label {i}? ')\nimport time; time.sleep(1.5)\ninput('save? ')",
            allow_stdin=True,
        )
        client.get_stdin_msg(timeout=60)
        assert len(telegram.wait_for(1, timeout=20)) == 1  # the first wait is reported
        client.input("a")
        for _ in range(3):
            client.get_stdin_msg(timeout=60)
            time.sleep(1.6)  # longer than input_after, each time
            client.input("b")
        client.get_stdin_msg(timeout=60)  # asked 1.5 s after the last answer: a new wait
        telegram.wait_for(2, timeout=20)
        finish(client, loop, "y")
        time.sleep(2)  # nothing more follows
    assert [text.splitlines()[0] for text in telegram.texts()] == [
        '⌨ analysis.ipynb: cell [1] waits for input: "label 0?"',
        '⌨ analysis.ipynb: cell [1] waits for input: "save?"',
    ]
