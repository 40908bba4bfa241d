# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The installed_files module on this machine's real file system (a temporary directory), as root
when the tests run as root (CI and the lab do) so ownership is checked too."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest
from harness import run_module

from ansible_collections.wandb_local.fleet.plugins.modules import installed_files

KEY = "-----BEGIN PRIVATE KEY-----\nnot-a-real-key-but-secret\n-----END PRIVATE KEY-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nlab\n-----END CERTIFICATE-----\n"
AS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not AS_ROOT, reason="changing a file's owner needs root")


def other_user():
    """A user and group other than ours that exist on every Debian (nobody/nogroup)."""
    return pwd.getpwnam("nobody"), grp.getgrnam("nogroup")


def files(tmp_path, **key_options):
    return [
        {"dest": str(tmp_path / "site.crt"), "content": CERT, "mode": "0644"},
        {"dest": str(tmp_path / "site.key"), "secret_content": KEY, "mode": "0600", **key_options},
    ]


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_creates_the_files_then_reports_no_change(tmp_path):
    result = run_module(installed_files.main, {"files": files(tmp_path)})
    assert not result.failed and result["changed"]
    assert [entry["reasons"] for entry in result["changed_files"]] == [["created"], ["created"]]
    assert (tmp_path / "site.crt").read_text() == CERT and (tmp_path / "site.key").read_text() == KEY
    assert mode_of(tmp_path / "site.crt") == 0o644 and mode_of(tmp_path / "site.key") == 0o600
    again = run_module(installed_files.main, {"files": files(tmp_path)})
    assert not again["changed"] and again["changed_files"] == [] and again["diff"] == []


def test_a_changed_content_is_replaced_whole_and_keeps_the_file_owner(tmp_path):
    run_module(installed_files.main, {"files": files(tmp_path)})
    before = os.stat(tmp_path / "site.crt")
    changed = [dict(files(tmp_path)[0], content=CERT.replace("lab", "renewed"))]
    result = run_module(installed_files.main, {"files": changed})
    assert result["changed_files"] == [{"dest": str(tmp_path / "site.crt"), "reasons": ["content"]}]
    after = os.stat(tmp_path / "site.crt")
    assert (tmp_path / "site.crt").read_text().count("renewed") == 1
    # Written beside and renamed over: a new inode, the same owner, no temporary file left.
    assert after.st_ino != before.st_ino and (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert sorted(os.listdir(tmp_path)) == ["site.crt", "site.key"]


def test_a_mode_alone_is_corrected_in_place(tmp_path):
    run_module(installed_files.main, {"files": files(tmp_path)})
    os.chmod(tmp_path / "site.key", 0o644)
    inode = os.stat(tmp_path / "site.key").st_ino
    result = run_module(installed_files.main, {"files": files(tmp_path)}, diff=True)
    assert result["changed_files"] == [{"dest": str(tmp_path / "site.key"), "reasons": ["mode"]}]
    assert mode_of(tmp_path / "site.key") == 0o600 and os.stat(tmp_path / "site.key").st_ino == inode
    assert result["diff"][0]["before_header"].endswith("site.key (mode)")


@root_only
def test_owner_and_group_are_set_and_corrected(tmp_path):
    user, group = other_user()
    result = run_module(installed_files.main, {"files": files(tmp_path, owner="nobody", group="nogroup")})
    assert not result.failed
    key = os.stat(tmp_path / "site.key")
    assert (key.st_uid, key.st_gid) == (user.pw_uid, group.gr_gid)
    os.chown(tmp_path / "site.key", 0, 0)
    result = run_module(installed_files.main, {"files": files(tmp_path, owner="nobody", group="nogroup")})
    assert result["changed_files"] == [{"dest": str(tmp_path / "site.key"), "reasons": ["owner", "group"]}]
    key = os.stat(tmp_path / "site.key")
    assert (key.st_uid, key.st_gid) == (user.pw_uid, group.gr_gid)


def test_check_mode_reports_and_changes_nothing(tmp_path):
    run_module(installed_files.main, {"files": files(tmp_path)})
    os.chmod(tmp_path / "site.crt", 0o600)
    changed = files(tmp_path)
    changed[1]["secret_content"] = KEY.replace("secret", "rotated")
    result = run_module(installed_files.main, {"files": changed}, check_mode=True, diff=True)
    assert result["changed"]
    assert [entry["reasons"] for entry in result["changed_files"]] == [["mode"], ["content"]]
    assert mode_of(tmp_path / "site.crt") == 0o600 and (tmp_path / "site.key").read_text() == KEY


def test_check_mode_on_a_directory_a_real_run_makes_first_says_created(tmp_path):
    entries = [{"dest": str(tmp_path / "new-dir" / "site.crt"), "content": CERT, "mode": "0644"}]
    result = run_module(installed_files.main, {"files": entries}, check_mode=True)
    assert not result.failed and result["changed_files"][0]["reasons"] == ["created"]
    assert not (tmp_path / "new-dir").exists()
    real = run_module(installed_files.main, {"files": entries})
    assert real.failed and real["msg"].startswith("installed_files: files[0].dest: the directory ")


def test_check_mode_with_an_account_a_real_run_creates_first_says_changed(tmp_path):
    # A fresh host in check mode: the package that makes the mysql account is not installed yet.
    entries = files(tmp_path, owner="no-such-user-wandb", group="no-such-group-wandb")
    result = run_module(installed_files.main, {"files": entries}, check_mode=True)
    assert not result.failed and result["changed"]
    assert result["changed_files"][1]["reasons"] == ["created"]
    run_module(installed_files.main, {"files": files(tmp_path)})
    result = run_module(installed_files.main, {"files": entries}, check_mode=True)
    assert result["changed_files"] == [{"dest": str(tmp_path / "site.key"), "reasons": ["owner", "group"]}]
    real = run_module(installed_files.main, {"files": entries})
    assert real.failed and "files[1].owner: no user named no-such-user-wandb" in real["msg"]


def test_a_secret_never_shows_in_the_diff_or_the_output(tmp_path):
    run_module(installed_files.main, {"files": files(tmp_path)})
    changed = files(tmp_path)
    changed[1]["secret_content"] = KEY.replace("secret", "rotated")
    result = run_module(installed_files.main, {"files": changed}, diff=True)
    assert result["changed"]
    assert "not-a-real-key" not in result.raw and "rotated" not in result.raw
    key_diff = result["diff"][0]
    assert key_diff["before"].startswith("(secret, ") and key_diff["after"].startswith("(secret, ")
    assert key_diff["before"] != key_diff["after"]


def test_a_public_file_shows_its_content_in_the_diff(tmp_path):
    result = run_module(installed_files.main, {"files": files(tmp_path)[:1]}, diff=True)
    assert result["diff"][0]["after"] == CERT and result["diff"][0]["before"] == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mode", "644x", "files[1].mode: '644x' is not an octal mode"),
        ("mode", "17777", "files[1].mode: '17777' is not an octal mode"),
        ("owner", "no-such-user-wandb", "files[1].owner: no user named no-such-user-wandb"),
        ("group", "no-such-group-wandb", "files[1].group: no group named no-such-group-wandb"),
        ("dest", "relative/site.key", "files[1].dest: relative/site.key is not an absolute path"),
    ],
)
def test_a_bad_entry_names_its_field_and_changes_no_file(tmp_path, field, value, message):
    run_module(installed_files.main, {"files": files(tmp_path)})
    os.chmod(tmp_path / "site.crt", 0o600)
    entries = files(tmp_path)
    entries[0]["content"] = "changed\n"
    entries[1][field] = value
    result = run_module(installed_files.main, {"files": entries})
    assert result.failed and message in result["msg"] and result["msg"].endswith("nothing was changed")
    # The first, good entry was not written either: every entry is checked before any is.
    assert (tmp_path / "site.crt").read_text() == CERT and mode_of(tmp_path / "site.crt") == 0o600


@pytest.mark.parametrize("contents", [{}, {"content": CERT, "secret_content": KEY}])
def test_an_entry_needs_exactly_one_content(tmp_path, contents):
    entries = [{"dest": str(tmp_path / "site.crt"), "mode": "0644", **contents}]
    result = run_module(installed_files.main, {"files": entries})
    assert result.failed and "files[0]: give exactly one of content and secret_content" in result["msg"]
    assert not (tmp_path / "site.crt").exists()


def test_a_directory_in_the_way_is_refused(tmp_path):
    (tmp_path / "site.crt").mkdir()
    result = run_module(installed_files.main, {"files": files(tmp_path)})
    assert result.failed and "files[0].dest: " in result["msg"] and "is not a regular file" in result["msg"]
    assert not (tmp_path / "site.key").exists()


def directory_entries(tmp_path, **options):
    return [
        {"path": str(tmp_path / "certs"), "mode": "0750", **options},
        {"path": str(tmp_path / "certs" / "CAs"), "mode": "0700"},
    ]


def test_directories_are_made_before_the_files_that_go_into_them_then_no_change(tmp_path):
    entries = [{"dest": str(tmp_path / "certs" / "CAs" / "ca.crt"), "content": CERT, "mode": "0644"}]
    arguments = {"directories": directory_entries(tmp_path), "files": entries}
    result = run_module(installed_files.main, arguments)
    assert not result.failed and result["changed"], result
    assert result["changed_directories"] == [
        {"path": str(tmp_path / "certs"), "reasons": ["created"]},
        {"path": str(tmp_path / "certs" / "CAs"), "reasons": ["created"]},
    ]
    assert mode_of(tmp_path / "certs") == 0o750 and mode_of(tmp_path / "certs" / "CAs") == 0o700
    assert (tmp_path / "certs" / "CAs" / "ca.crt").read_text() == CERT
    assert "directory %s, mode 0750" % (tmp_path / "certs") in result["diff"][0]["after"]
    again = run_module(installed_files.main, arguments)
    assert not again["changed"] and again["changed_directories"] == [] and again["diff"] == []


def test_a_directory_alone_is_corrected_in_place(tmp_path):
    run_module(installed_files.main, {"directories": directory_entries(tmp_path)})
    inode = os.stat(tmp_path / "certs").st_ino
    os.chmod(tmp_path / "certs", 0o777)  # noqa: S103 (the drift the module corrects)
    result = run_module(installed_files.main, {"directories": directory_entries(tmp_path)})
    assert result["changed_directories"] == [{"path": str(tmp_path / "certs"), "reasons": ["mode"]}]
    assert "mode 0777" in result["diff"][0]["before"] and "mode 0750" in result["diff"][0]["after"]
    assert mode_of(tmp_path / "certs") == 0o750 and os.stat(tmp_path / "certs").st_ino == inode


@root_only
def test_a_directory_gets_its_owner_and_group(tmp_path):
    user, group = other_user()
    entries = directory_entries(tmp_path, owner=user.pw_name, group=group.gr_name)
    run_module(installed_files.main, {"directories": entries})
    made = os.stat(tmp_path / "certs")
    assert (made.st_uid, made.st_gid) == (user.pw_uid, group.gr_gid)
    os.chown(tmp_path / "certs", 0, 0)
    result = run_module(installed_files.main, {"directories": entries})
    assert result["changed_directories"][0]["reasons"] == ["owner", "group"]


def test_check_mode_reports_directories_and_their_files_and_makes_nothing(tmp_path):
    entries = [{"dest": str(tmp_path / "certs" / "CAs" / "ca.crt"), "content": CERT, "mode": "0644"}]
    arguments = {"directories": directory_entries(tmp_path), "files": entries}
    result = run_module(installed_files.main, arguments, check_mode=True)
    assert not result.failed and result["changed"]
    assert [entry["reasons"] for entry in result["changed_directories"]] == [["created"], ["created"]]
    assert result["changed_files"] == [{"dest": entries[0]["dest"], "reasons": ["created"]}]
    assert not (tmp_path / "certs").exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "relative", "mode": "0750"}, "directories[1].path: relative is not an absolute path"),
        ({"path": "/etc/hostname/x", "mode": "0750"}, "directories[1].path: /etc/hostname is in the way of"),
        ({"path": "/", "mode": "75x"}, "directories[1].mode: '75x' is not an octal mode"),
        ({"path": "/", "mode": "0755", "owner": "no-such-user-wandb"}, "directories[1].owner: no user named"),
    ],
)
def test_a_bad_directory_names_its_field_and_changes_nothing(tmp_path, entry, message):
    (tmp_path / "kept").mkdir(mode=0o755)
    os.chmod(tmp_path / "kept", 0o755)  # noqa: S103 (what must stay as it was)
    entries = [{"path": str(tmp_path / "kept"), "mode": "0700"}, entry]
    result = run_module(installed_files.main, {"directories": entries, "files": files(tmp_path)})
    assert result.failed and message in result["msg"] and result["msg"].endswith("nothing was changed"), result
    assert mode_of(tmp_path / "kept") == 0o755 and not (tmp_path / "site.crt").exists()


def test_a_file_in_the_way_of_a_directory_is_refused(tmp_path):
    (tmp_path / "certs").write_text("not a directory\n")
    result = run_module(installed_files.main, {"directories": directory_entries(tmp_path)[:1]})
    assert result.failed and "directories[0].path: " in result["msg"] and "is not a directory" in result["msg"]


def test_missing_parents_are_made_with_the_same_attributes(tmp_path):
    """As ansible.builtin.file makes them (a backup directory the operator put under a new /srv/backups)."""
    entries = [{"path": str(tmp_path / "srv" / "backups" / "wandb"), "mode": "0700"}]
    result = run_module(installed_files.main, {"directories": entries}, check_mode=True)
    assert result["changed_directories"] == [{"path": entries[0]["path"], "reasons": ["created"]}]
    assert not (tmp_path / "srv").exists()
    result = run_module(installed_files.main, {"directories": entries})
    assert result["changed_directories"] == [{"path": entries[0]["path"], "reasons": ["created"]}]
    assert [mode_of(tmp_path / "srv"), mode_of(tmp_path / "srv" / "backups"), mode_of(entries[0]["path"])] == [
        0o700
    ] * 3
    assert not run_module(installed_files.main, {"directories": entries})["changed"]


def validated(tmp_path, command, content=CERT):
    return [{"dest": str(tmp_path / "site.crt"), "content": content, "mode": "0644", "validate": command}]


def test_a_new_content_that_passes_its_check_is_installed(tmp_path):
    result = run_module(installed_files.main, {"files": validated(tmp_path, "grep -q lab %s")})
    assert not result.failed and result["changed_files"] == [
        {"dest": str(tmp_path / "site.crt"), "reasons": ["created"]}
    ]
    assert (tmp_path / "site.crt").read_text() == CERT


def test_a_new_content_that_fails_its_check_changes_no_file(tmp_path):
    run_module(installed_files.main, {"files": files(tmp_path)})
    entries = files(tmp_path)
    entries[1]["secret_content"] = KEY.replace("secret", "renewed")
    entries[0].update(content=CERT.replace("lab", "renewed"), validate="grep -q no-such-line %s")
    result = run_module(installed_files.main, {"files": entries})
    assert (
        result.failed
        and "files[0].validate: the new content of %s failed its check (exit 1)" % (tmp_path / "site.crt")
        in result["msg"]
        and result["msg"].endswith("nothing was changed")
    )
    # Neither the checked file nor the good one beside it was written.
    assert (tmp_path / "site.crt").read_text() == CERT and (tmp_path / "site.key").read_text() == KEY


def test_the_check_runs_only_for_a_content_that_changes_and_not_in_check_mode(tmp_path):
    run_module(installed_files.main, {"files": files(tmp_path)})
    os.chmod(tmp_path / "site.crt", 0o600)
    # `false` fails whatever it is given: it fails the task only where it runs.
    unchanged = run_module(installed_files.main, {"files": validated(tmp_path, "false %s")})
    assert not unchanged.failed and unchanged["changed_files"][0]["reasons"] == ["mode"]
    predicted = run_module(
        installed_files.main, {"files": validated(tmp_path, "false %s", content="new\n")}, check_mode=True
    )
    assert not predicted.failed and predicted["changed_files"][0]["reasons"] == ["content"]
    assert (tmp_path / "site.crt").read_text() == CERT
    refused = run_module(installed_files.main, {"files": validated(tmp_path, "false %s", content="new\n")})
    assert refused.failed and (tmp_path / "site.crt").read_text() == CERT


def test_a_check_without_the_content_placeholder_is_refused(tmp_path):
    result = run_module(installed_files.main, {"files": validated(tmp_path, "nginx -t")})
    assert result.failed and "files[0].validate: 'nginx -t' does not contain %s" in result["msg"]
    assert not (tmp_path / "site.crt").exists()
