"""The delivery child's protocol: one typed record each way, the same encoding on both sides."""

from __future__ import annotations

import pytest

from jupyter_helpers.common.delivery_protocol import Reply, Request, decode_reply, decode_request


def test_requests_and_replies_survive_the_pipe() -> None:
    request = Request("edit", "⏳ text", "t", "telegram", None, 10.0, False, 42)
    assert decode_request(request.encode()) == request
    reply = Reply(False, reason="Telegram asked to wait 7 s (429)", retry_after=7.0, message_id=42)
    assert decode_reply(reply.encode()) == reply


def test_a_reply_carries_only_what_it_says() -> None:
    assert Reply(True, via="telegram").encode() == b'{"ok": true, "via": "telegram"}'
    assert Reply(False, reason="gone", gone=True).encode() == b'{"ok": false, "reason": "gone", "gone": true}'


def test_an_old_request_line_is_a_send() -> None:
    """What kernels of the previous release hand to a child at exit (no verb)."""
    line = b'{"text": "hi", "title": "t", "backend": "", "image": null, "limit": 30}'
    assert decode_request(line) == Request("send", "hi", "t", "", None, 30.0)


@pytest.mark.parametrize(
    "line",
    [b"[]", b'{"verb": "launch"}', b"not json", b'"text"'],
)
def test_lines_of_another_shape_are_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        decode_request(line)


def test_odd_field_types_are_not_trusted() -> None:
    request = decode_request(b'{"verb": "delete", "message_id": true, "silent": 1, "image": 5, "limit": "9"}')
    assert (request.message_id, request.silent, request.image, request.limit) == (None, False, None, 0.0)
    reply = decode_reply(b'{"ok": 1, "message_id": "5", "retry_after": true}')
    assert (reply.ok, reply.message_id, reply.retry_after) == (False, None, None)


def test_a_silent_send_whose_reply_cannot_reach_its_kernel_is_ended_by_the_child() -> None:
    """delivery/send.py: the reply's pipe is broken (the kernel is gone): the child alone knows
    the new message's id, so a silent send that made one becomes the edit to its `orphaned` text;
    nothing else does (a regular message, an edit, a send that failed, one without that text)."""
    from jupyter_helpers.delivery.send import orphaned_ending

    orphaned = "⏹ train.ipynb: the kernel ended during this run"
    silent = Request("send", "⏳ train.ipynb: cell [1] running", "", "telegram", None, 20.0, True, orphaned=orphaned)
    assert decode_request(silent.encode()) == silent
    made = Reply(True, via="telegram", message_id=7)
    ending = orphaned_ending(silent.encode(), made)
    assert ending is not None
    assert decode_request(ending) == Request("edit", orphaned, "", "telegram", None, 10.0, False, 7)
    assert orphaned_ending(silent.encode(), Reply(False, reason="Telegram did not take it")) is None
    assert orphaned_ending(silent._replace(orphaned="").encode(), made) is None
    assert orphaned_ending(silent._replace(silent=False).encode(), made) is None
    assert orphaned_ending(silent._replace(verb="edit", message_id=7).encode(), made) is None
    assert orphaned_ending(b"not json", made) is None
