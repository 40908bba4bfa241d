# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The apt_preview module with the real apt-get, apt-cache and dpkg-query of this machine as the judge.

The "host" apt configuration is a temporary directory (the module's APT_ETC and APT_LISTS point at it),
and the package sources are local flat repositories (file: URIs), so nothing here touches this
machine's own apt state or needs a network."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest
from harness import run_module

from ansible_collections.wandb_local.fleet.plugins.modules import apt_preview


def flat_repository(path, package, version):
    """A local apt repository holding one package's index entry (apt-get update needs no .deb)."""
    path.mkdir(parents=True)
    (path / "Packages").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: lab <lab@example.invalid>\n"
        f"Filename: ./{package}_{version}_all.deb\nSize: 100\nDescription: apt_preview test package\n"
    )
    return f"deb [trusted=yes] file:{path} ./\n"


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host apt configuration with one source of its own, and a private temp dir for previews."""
    etc = tmp_path / "etc-apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "preferences.d").mkdir()
    (etc / "sources.list.d" / "host.list").write_text(
        flat_repository(tmp_path / "host-repo", "wandb-preview-host-package", "1.0")
    )
    lists = tmp_path / "lists"
    lists.mkdir()
    previews = tmp_path / "previews"
    previews.mkdir()
    monkeypatch.setattr(apt_preview, "APT_ETC", str(etc))
    monkeypatch.setattr(apt_preview, "APT_LISTS", str(lists))
    monkeypatch.setattr(tempfile, "tempdir", str(previews))
    host = type("Host", (), {})()
    host.root, host.etc, host.lists, host.previews = tmp_path, etc, lists, previews
    host.snapshot = lambda: sorted(
        (str(p.relative_to(tmp_path)), p.read_bytes() if p.is_file() else b"")
        for p in [*etc.rglob("*"), *lists.rglob("*")]
    )
    return host


def policy(environment, package):
    """apt-cache's view of a package through the preview's configuration: {candidate, priority}."""
    out = subprocess.run(
        ["apt-cache", "policy", package],
        env={**os.environ, **environment, "LC_ALL": "C"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line.strip() for line in out.splitlines()]
    candidate = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Candidate:")), None)
    priorities = [int(line.split()[0]) for line in lines if line[:1].isdigit() and "file:" in line]
    return {"candidate": candidate, "priority": max(priorities) if priorities else None}


def test_sees_the_given_source_and_the_hosts_own_without_writing_to_the_host(host):
    before = host.snapshot()
    given = flat_repository(host.root / "suite-repo", "wandb-preview-suite-package", "9.1.0")
    result = run_module(
        apt_preview.main,
        {"packages": ["wandb-preview-suite-package"], "sources": {"suite.list": given}},
        check_mode=True,
    )
    assert not result.failed and not result["changed"]
    assert result["missing"] == ["wandb-preview-suite-package"]
    assert result["path"].startswith(str(host.previews))
    assert result["environment"] == {"APT_CONFIG": os.path.join(result["path"], "apt.conf")}
    # apt itself sees both the source the real run would add and the host's own.
    assert policy(result["environment"], "wandb-preview-suite-package")["candidate"] == "9.1.0"
    assert policy(result["environment"], "wandb-preview-host-package")["candidate"] == "1.0"
    assert host.snapshot() == before, "the host's apt configuration or lists changed"


def test_given_preferences_pin_as_apt_applies_them(host):
    given = flat_repository(host.root / "suite-repo", "wandb-preview-suite-package", "9.1.0")
    pin = 'Package: *\nPin: origin ""\nPin-Priority: 100\n'
    result = run_module(
        apt_preview.main,
        {"packages": ["wandb-preview-suite-package"], "sources": {"suite.list": given}, "preferences": {"low": pin}},
    )
    assert policy(result["environment"], "wandb-preview-suite-package")["priority"] == 100


def test_state_absent_removes_the_preview(host):
    result = run_module(apt_preview.main, {"packages": ["wandb-preview-host-package"]})
    assert os.path.isdir(result["path"])
    removed = run_module(apt_preview.main, {"state": "absent", "path": result["path"]}, check_mode=True)
    assert not removed.failed and not removed["changed"]
    assert not os.path.exists(result["path"])


def test_no_preview_when_every_package_is_installed(host):
    # dpkg-query of this machine: coreutils is installed on every Debian.
    result = run_module(apt_preview.main, {"packages": ["coreutils"]})
    assert result["missing"] == [] and result["environment"] == {} and "path" not in result
    assert os.listdir(host.previews) == []


def test_preview_false_only_reads_what_is_missing(host):
    before = host.snapshot()
    result = run_module(
        apt_preview.main,
        {"packages": ["coreutils", "wandb-preview-host-package"], "preview": False, "sources": {"x.list": "junk"}},
    )
    # The source would make apt-get update fail if a preview were made: none is.
    assert not result.failed and not result["changed"]
    assert result["missing"] == ["wandb-preview-host-package"]
    assert result["environment"] == {} and "path" not in result
    assert os.listdir(host.previews) == [] and host.snapshot() == before


def test_a_package_dpkg_has_never_heard_of_is_missing(host):
    result = run_module(apt_preview.main, {"packages": ["coreutils", "wandb-preview-host-package"]})
    assert result["missing"] == ["wandb-preview-host-package"]
    assert policy(result["environment"], "wandb-preview-host-package")["candidate"] == "1.0"


def test_a_source_apt_cannot_read_fails_and_leaves_nothing(host):
    before = host.snapshot()
    broken = "deb [trusted=yes] file:%s ./\n" % (host.root / "no-such-repo")
    result = run_module(apt_preview.main, {"packages": ["x"], "sources": {"broken.list": broken}})
    assert result.failed
    assert "apt-get update with the previewed sources failed" in result["msg"]
    assert os.listdir(host.previews) == [] and host.snapshot() == before


@pytest.mark.parametrize("name", ["../escape.list", ".hidden.list", "dir/x.list"])
def test_a_source_name_that_is_not_a_plain_file_name_is_refused(host, name):
    result = run_module(apt_preview.main, {"packages": ["x"], "sources": {name: "deb file:/x ./\n"}})
    assert result.failed and "sources" in result["msg"] and "not a plain file name" in result["msg"]
    assert os.listdir(host.previews) == []
    assert not (host.root / "escape.list").exists()


def test_content_that_is_not_a_string_names_the_option_and_file(host):
    result = run_module(apt_preview.main, {"preferences": {"pin": {"Pin-Priority": 1}}})
    assert result.failed and result["msg"] == "preferences: the content of pin must be a string, not dict"
    assert os.listdir(host.previews) == []


def test_absent_refuses_a_directory_it_did_not_make(host, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    result = run_module(apt_preview.main, {"state": "absent", "path": str(precious)})
    assert result.failed and result["msg"].startswith("path: ") and precious.is_dir()


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_given_config_is_the_environment_whenever_a_package_is_missing(host, tmp_path, check_mode):
    config = tmp_path / "offline-apt.conf"
    config.write_text("// the offline bundle's configuration\n")
    missing = run_module(
        apt_preview.main,
        {"packages": ["coreutils", "wandb-preview-host-package"], "config": str(config), "preview": check_mode},
        check_mode=check_mode,
    )
    assert not missing.failed and not missing["changed"]
    assert missing["missing"] == ["wandb-preview-host-package"]
    assert missing["environment"] == {"APT_CONFIG": str(config)}
    assert "path" not in missing, "a preview was made beside the given configuration"
    assert os.listdir(host.previews) == []
    installed = run_module(apt_preview.main, {"packages": ["coreutils"], "config": str(config)}, check_mode=check_mode)
    assert installed["missing"] == [] and installed["environment"] == {}


def test_a_config_that_does_not_exist_is_refused_naming_the_option(host, tmp_path):
    result = run_module(apt_preview.main, {"packages": ["x"], "config": str(tmp_path / "none.conf")})
    assert result.failed and result["msg"].startswith("config: ")
