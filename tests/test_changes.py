"""The ChangeSet state machine, in process: plan, apply, revert and rollback over a temp folder.

The CLI tests (test_install.py, test_wsl.py, test_reliability.py) drive the same code through the
real command with kills and races; these pin each transition down in milliseconds.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from jupyter_helpers.common.files import ChangeError
from jupyter_helpers.installer.changes import Action, ChangeSet, FileChange, KeyChange
from jupyter_helpers.installer.json_keys import Members

OURS = b"# ours\n"
KEYS = {"ServerApp": {"browser": "firefox %s", "use_redirect_file": False}}


def never(path: Path, data: bytes) -> bool:
    return False


def ours(path: Path, data: bytes) -> bool:
    return data == OURS


@pytest.fixture
def place(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    return tmp_path


def change_set(place: Path) -> ChangeSet:
    return ChangeSet(place / "state" / "set", owned=place / "state")


def actions(outcomes: list) -> list[str]:
    return [outcome.action for outcome in outcomes]


def test_owned_file_create_unchanged_then_revert_leaves_nothing(place: Path) -> None:
    target = place / "config" / "startup.py"
    changes = change_set(place)
    assert actions(changes.plan([FileChange(target, OURS)], ours)) == [Action.CREATE]
    assert actions(changes.apply([FileChange(target, OURS)], ours)) == [Action.CREATE]
    assert actions(changes.apply([FileChange(target, OURS)], ours)) == [Action.UNCHANGED]
    assert actions(changes.revert(ours, [target])) == [Action.REMOVE]
    assert not target.exists() and not (place / "state").exists()


def test_a_users_file_at_our_path_is_backed_up_with_its_mode_and_restored(place: Path) -> None:
    target = place / "config" / "startup.py"
    target.write_bytes(b"mine\n")
    target.chmod(0o600)
    changes = change_set(place)
    assert actions(changes.apply([FileChange(target, OURS)], ours)) == [Action.REPLACE]
    assert target.read_bytes() == OURS
    assert actions(changes.revert(ours, [target])) == [Action.RESTORE]
    assert target.read_bytes() == b"mine\n" and stat.S_IMODE(target.stat().st_mode) == 0o600


def test_our_file_edited_by_the_user_is_theirs_and_the_original_goes_beside_it(place: Path) -> None:
    target = place / "config" / "startup.py"
    target.write_bytes(b"mine\n")
    changes = change_set(place)
    changes.apply([FileChange(target, OURS)], ours)
    target.write_bytes(b"edited\n")
    assert actions(changes.apply([FileChange(target, OURS)], ours)) == [Action.KEPT]
    (kept,) = changes.revert(ours, [target])
    assert kept.action == Action.KEPT and "before-jupyter-helpers" in kept.note
    assert target.read_bytes() == b"edited\n"
    assert (place / "config" / "startup.py.before-jupyter-helpers").read_bytes() == b"mine\n"


def test_a_failure_after_writing_takes_back_every_write_of_that_call(place: Path) -> None:
    first, second = place / "config" / "a.py", place / "config" / "b.json"
    second.write_text('{"Other": 1}')
    before = second.read_bytes()
    changes = change_set(place)

    def fail() -> list:
        raise ChangeError("could not write elsewhere: Operation not permitted")

    with pytest.raises(ChangeError, match="^could not write elsewhere: Operation not permitted$"):
        changes.apply([FileChange(first, OURS), KeyChange(second, KEYS)], ours, then=fail)
    assert not first.exists() and second.read_bytes() == before
    assert not (place / "state").exists()


def test_keys_set_in_a_users_file_come_out_exactly_while_nobody_edits_it(place: Path) -> None:
    config = place / "config" / "server.json"
    config.write_text('{"ServerApp": {"port": 1},   "Other": {}}')
    original = config.read_bytes()
    changes = change_set(place)
    assert actions(changes.apply([KeyChange(config, KEYS)], never)) == [Action.UPDATE]
    assert json.loads(config.read_text())["ServerApp"] == {
        "port": 1,
        "browser": "firefox %s",
        "use_redirect_file": False,
    }
    assert actions(changes.apply([KeyChange(config, KEYS)], never)) == [Action.UNCHANGED]
    assert actions(changes.revert(never, [])) == [Action.RESTORE]
    assert config.read_bytes() == original


def test_keys_undo_after_an_edit_keeps_the_edit_and_a_key_the_user_changed(place: Path) -> None:
    config = place / "config" / "server.json"
    config.write_text('{"ServerApp": {"browser": "old %s"}}')
    changes = change_set(place)
    changes.apply([KeyChange(config, KEYS)], never)
    edited = json.loads(config.read_text())
    edited["ServerApp"]["use_redirect_file"] = True  # the user's own choice now
    edited["IdentityProvider"] = {"hashed_password": "x"}
    config.write_text(json.dumps(edited))
    (outcome,) = changes.revert(never, [])
    assert outcome.action == Action.UNDO_KEYS
    assert outcome.keys_back == ("ServerApp.browser",) and outcome.keys_kept == ("ServerApp.use_redirect_file",)
    assert json.loads(config.read_text()) == {
        "ServerApp": {"browser": "old %s", "use_redirect_file": True},
        "IdentityProvider": {"hashed_password": "x"},
    }


def test_keys_in_a_file_that_did_not_exist_go_with_the_file_or_with_their_section(place: Path) -> None:
    config = place / "config" / "server.json"
    changes = change_set(place)
    assert actions(changes.apply([KeyChange(config, KEYS)], never)) == [Action.CREATE]
    assert actions(changes.revert(never, [])) == [Action.REMOVE]
    assert not config.exists()
    changes.apply([KeyChange(config, KEYS)], never)
    config.write_text(json.dumps({**json.loads(config.read_text()), "Other": {"x": 1}}))
    changes.revert(never, [])
    assert json.loads(config.read_text()) == {"Other": {"x": 1}}  # the ServerApp section we made is gone


def test_a_users_file_removed_since_is_a_note_and_the_record_goes(place: Path) -> None:
    config = place / "config" / "server.json"
    config.write_text("{}")
    changes = change_set(place)
    changes.apply([KeyChange(config, KEYS)], never)
    config.unlink()
    (outcome,) = changes.revert(never, [])
    assert outcome.action == Action.NOTE and not (place / "state").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"[1]", "must hold a JSON object"),
        (b'{"ServerApp": 5}', '"ServerApp" in'),
        (b'{"x": "\xff"}', r"not UTF-8 text \(byte 7\)"),
        (b"[" * 100000, "nested too deeply"),
    ],
)
def test_a_users_file_we_cannot_edit_key_by_key_is_one_line_and_untouched(
    place: Path, content: bytes, message: str
) -> None:
    config = place / "config" / "server.json"
    config.write_bytes(content)
    with pytest.raises(ChangeError, match=message):
        change_set(place).apply([KeyChange(config, KEYS)], never)
    assert config.read_bytes() == content and not (place / "state").exists()


def test_a_damaged_manifest_is_seen_as_damaged(place: Path) -> None:
    changes = change_set(place)
    changes.apply([FileChange(place / "config" / "a.py", OURS)], ours)
    changes.manifest_path.write_text('{"files": [{"path": 5}]}')
    assert changes.damaged()
    with pytest.raises(ChangeError, match="is damaged"):
        changes.apply([FileChange(place / "config" / "a.py", OURS)], ours)


# -- a list-valued key shared with the file's owner (install --sys-prefix: the kernels' extensions) --

EXTENSIONS = {"InteractiveShellApp": {"extra_extensions": Members(("jupyter_helpers",))}}


def extensions_of(config: Path) -> object:
    return json.loads(config.read_text()).get("InteractiveShellApp", {}).get("extra_extensions")


def test_our_item_joins_the_owners_list_and_leaves_it_exactly_as_it_was(place: Path) -> None:
    config = place / "config" / "ipython_kernel_config.json"
    config.write_text('{"InteractiveShellApp": {"extra_extensions": ["autoreload"], "pylab": "inline"}}')
    original = config.read_bytes()
    changes = change_set(place)
    assert actions(changes.apply([KeyChange(config, EXTENSIONS)], never)) == [Action.UPDATE]
    assert extensions_of(config) == ["autoreload", "jupyter_helpers"]
    assert actions(changes.apply([KeyChange(config, EXTENSIONS)], never)) == [Action.UNCHANGED]
    assert extensions_of(config) == ["autoreload", "jupyter_helpers"]
    assert actions(changes.revert(never, [])) == [Action.RESTORE]
    assert config.read_bytes() == original and not (place / "state").exists()


def test_after_the_owner_edits_the_list_undo_takes_out_only_our_item(place: Path) -> None:
    config = place / "config" / "ipython_kernel_config.json"
    config.write_text('{"InteractiveShellApp": {"extra_extensions": ["autoreload"]}}')
    changes = change_set(place)
    changes.apply([KeyChange(config, EXTENSIONS)], never)
    config.write_text(
        json.dumps({"InteractiveShellApp": {"extra_extensions": ["autoreload", "jupyter_helpers", "rich"]}})
    )
    (outcome,) = changes.revert(never, [])
    assert outcome.action == Action.UNDO_KEYS and outcome.keys_back == ("InteractiveShellApp.extra_extensions",)
    assert extensions_of(config) == ["autoreload", "rich"]


def test_an_item_the_owner_listed_before_us_stays_and_the_file_is_not_rewritten(place: Path) -> None:
    config = place / "config" / "ipython_kernel_config.json"
    config.write_text('{"InteractiveShellApp":{"extra_extensions":["jupyter_helpers"]}}')
    original = config.read_bytes()
    changes = change_set(place)
    assert actions(changes.apply([KeyChange(config, EXTENSIONS)], never)) == [Action.UNCHANGED]
    assert config.read_bytes() == original
    assert changes.revert(never, []) == [] and config.read_bytes() == original


def test_a_list_we_created_goes_with_our_item_and_the_owners_other_keys_stay(place: Path) -> None:
    config = place / "config" / "ipython_kernel_config.json"
    config.write_text('{"IPKernelApp": {"matplotlib": "inline"}}')
    changes = change_set(place)
    changes.apply([KeyChange(config, EXTENSIONS)], never)
    edited = json.loads(config.read_text())
    edited["IPKernelApp"]["pylab"] = "inline"
    config.write_text(json.dumps(edited))
    (outcome,) = changes.revert(never, [])
    assert outcome.action == Action.UNDO_KEYS
    assert json.loads(config.read_text()) == {"IPKernelApp": {"matplotlib": "inline", "pylab": "inline"}}


def test_our_item_taken_out_by_the_owner_is_reported_as_theirs(place: Path) -> None:
    config = place / "config" / "ipython_kernel_config.json"
    config.write_text('{"InteractiveShellApp": {"extra_extensions": ["autoreload"]}}')
    changes = change_set(place)
    changes.apply([KeyChange(config, EXTENSIONS)], never)
    config.write_text('{"InteractiveShellApp": {"extra_extensions": []}}')
    (outcome,) = changes.revert(never, [])
    assert outcome.keys_kept == ("InteractiveShellApp.extra_extensions",) and outcome.keys_back == ()
    assert extensions_of(config) == []


def test_a_shared_key_that_is_not_a_list_is_one_line_and_untouched(place: Path) -> None:
    config = place / "config" / "ipython_kernel_config.json"
    config.write_text('{"InteractiveShellApp": {"extra_extensions": "autoreload"}}')
    with pytest.raises(ChangeError, match=r'"InteractiveShellApp.extra_extensions" in .* must be a list'):
        change_set(place).apply([KeyChange(config, EXTENSIONS)], never)
    assert extensions_of(config) == "autoreload" and not (place / "state").exists()
