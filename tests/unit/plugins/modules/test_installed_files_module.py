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
    assert result.failed and message in result["msg"] and result["msg"].endswith("no file was changed")
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
