# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""offline_repository with the real gpg, dpkg-deb and apt-get of this machine as the judges: a one-package
repository built the way offline_bundle builds one (signed InRelease, reproducible archives), installed under a
temporary root. apt must accept it by the key given and refuse it by any other."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest
from harness import run_module

from ansible_collections.wandb_local.fleet.plugins.module_utils import _offline_bundle as bundle
from ansible_collections.wandb_local.fleet.plugins.modules import offline_repository

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("gpg", "dpkg-deb", "apt-get")), reason="needs gpg, dpkg-deb and apt-get"
)


def gpg_key(home):
    home.mkdir(mode=0o700)
    subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--batch",
            "--passphrase",
            "",
            "--quick-generate-key",
            "test bundle",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--armor", "--export"], check=True, capture_output=True, text=True
    ).stdout


def signed_repository(tmp_path, home):
    """index.tar and pool.tar of a repository with one package, wandb-offline-test 1.0, in suite sid."""
    source = tmp_path / "pkg"
    (source / "DEBIAN").mkdir(parents=True)
    (source / "DEBIAN" / "control").write_text(
        "Package: wandb-offline-test\nVersion: 1.0\nArchitecture: all\nMaintainer: lab <lab@example.invalid>\n"
        "Description: offline_repository test package\n"
    )
    repo = tmp_path / "repo"
    (repo / "pool" / "sid").mkdir(parents=True)
    deb = repo / "pool" / "sid" / "wandb-offline-test_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--build", str(source), str(deb)], check=True, capture_output=True)
    control = subprocess.run(["dpkg-deb", "--field", str(deb)], check=True, capture_output=True, text=True).stdout
    packages = bundle.packages_stanza(control, "pool/sid/" + deb.name, str(deb)).encode()
    dist = repo / "dists" / "sid"
    (dist / "main" / "binary-amd64").mkdir(parents=True)
    (dist / "main" / "binary-amd64" / "Packages").write_bytes(packages)
    release = bundle.release_text(
        "sid", "amd64", {"main/binary-amd64/Packages": packages}, "Thu, 01 Jan 2026 00:00:00 UTC"
    )
    (dist / "Release").write_text(release)
    subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--batch",
            "--yes",
            "--clearsign",
            "--output",
            str(dist / "InRelease"),
            str(dist / "Release"),
        ],
        check=True,
        capture_output=True,
    )
    index_names = ["dists/sid/Release", "dists/sid/InRelease", "dists/sid/main/binary-amd64/Packages"]
    index = tmp_path / "index.tar"
    index.write_bytes(bundle.deterministic_tar(str(repo), index_names))
    pool = tmp_path / "pool.tar"
    pool.write_bytes(bundle.deterministic_tar(str(repo), ["pool/sid/" + deb.name]))
    return index, pool


@pytest.fixture
def site(tmp_path, monkeypatch):
    key = gpg_key(tmp_path / "gnupg")
    index, pool = signed_repository(tmp_path, tmp_path / "gnupg")
    previews = tmp_path / "previews"
    previews.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(previews))
    args = {
        "root": str(tmp_path / "root"),
        "index": str(index),
        "index_sha256": bundle.sha256_file(str(index)),
        "pool": str(pool),
        "pool_sha256": bundle.sha256_file(str(pool)),
        "signing_key": key,
        "suites": [{"suite": "sid", "priority": 100}],
        "remove_archives": False,
    }
    return type("Site", (), {"args": args, "root": tmp_path / "root", "previews": previews, "tmp": tmp_path})


def policy(config, package="wandb-offline-test"):
    return subprocess.run(
        ["apt-cache", "policy", package],
        env={**os.environ, "APT_CONFIG": config, "LC_ALL": "C"},
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def test_installs_a_repository_apt_sees_alone_then_changes_nothing(site):
    result = run_module(offline_repository.main, site.args)
    assert not result.failed, result
    assert result["changed"] and result["config"] == str(site.root / "apt.conf")
    seen = policy(result["config"])
    assert "Candidate: 1.0" in seen and "100 file:" in seen, seen
    # Only the bundle: a package Debian has (and dpkg lacks) is unknown there.
    assert "Candidate" not in policy(result["config"], "cowsay")
    assert (site.root / "repo" / "pool" / "sid" / "wandb-offline-test_1.0_all.deb").is_file()
    assert (site.root / "bundle.sha256").read_text() == result["stamp"]
    again = run_module(offline_repository.main, site.args)
    assert not again.failed and not again["changed"], again


def test_check_mode_touches_nothing_under_root_and_previews_the_index(site):
    result = run_module(offline_repository.main, dict(site.args, pool="/nonexistent/pool.tar"), check_mode=True)
    assert not result.failed, result
    assert result["changed"] and not site.root.exists()
    assert result["config"].startswith(str(site.previews))
    assert "Candidate: 1.0" in policy(result["config"])


def test_another_key_is_refused_by_apt(site):
    other = gpg_key(site.tmp / "other")
    result = run_module(offline_repository.main, dict(site.args, signing_key=other))
    assert result.failed and "apt-get update of the bundle's repository failed" in result["msg"], result
    assert not (site.root / "bundle.sha256").exists()


def test_an_archive_that_differs_from_the_manifest_is_refused_before_anything_is_written(site):
    result = run_module(offline_repository.main, dict(site.args, pool_sha256="0" * 64))
    assert result.failed and "pool.tar: sha256" in result["msg"] and "manifest says 0000" in result["msg"], result
    assert not (site.root / "repo").exists() and not (site.root / "apt.conf").exists()


def test_a_key_that_is_not_armored_is_refused_naming_the_option(site):
    result = run_module(offline_repository.main, dict(site.args, signing_key="not a key"))
    assert result.failed and result["msg"].startswith("signing_key:"), result


def test_without_the_archives_it_only_says_whether_the_host_has_the_bundle(site):
    query = {name: value for name, value in site.args.items() if name not in ("index", "pool")}
    before = run_module(offline_repository.main, query)
    assert not before.failed and not before["changed"] and before["installed"] is False, before
    assert not site.root.exists()
    run_module(offline_repository.main, site.args)
    after = run_module(offline_repository.main, query)
    assert after["installed"] is True and after["config"] == str(site.root / "apt.conf") and not after["changed"]
    other = run_module(offline_repository.main, dict(query, pool_sha256="1" * 64))
    assert other["installed"] is False, "another bundle counted as installed"
