# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The offline bundle's layout, manifest checks and reproducible archives (plugins/module_utils/_offline_bundle.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils import _offline_bundle as bundle


def make_bundle(path, version="0.3.0"):
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "mc").write_bytes(b"mc binary")
    (path / "apt").mkdir()
    (path / "apt" / "pool.tar").write_bytes(b"pool")
    files = {name: bundle.file_entry(str(path / name)) for name in bundle.bundle_files(str(path))}
    manifest = {"format": bundle.FORMAT, "collection": {"version": version}, "files": files}
    (path / bundle.MANIFEST).write_bytes(bundle.manifest_bytes(manifest))
    return manifest


def test_a_whole_bundle_has_no_problem(tmp_path):
    manifest = make_bundle(tmp_path)
    assert sorted(manifest["files"]) == ["apt/pool.tar", "bin/mc"]
    read, problem = bundle.read_manifest(str(tmp_path))
    assert problem is None and read == manifest
    assert bundle.manifest_problems(str(tmp_path), read, "0.3.0") == []


def test_a_changed_byte_is_named_with_both_checksums(tmp_path):
    manifest = make_bundle(tmp_path)
    (tmp_path / "bin" / "mc").write_bytes(b"mc binarY")
    (problem,) = bundle.manifest_problems(str(tmp_path), manifest, "0.3.0")
    assert problem.startswith("bin/mc: sha256 ")
    assert manifest["files"]["bin/mc"]["sha256"] in problem


def test_missing_truncated_and_unlisted_files_are_each_named(tmp_path):
    manifest = make_bundle(tmp_path)
    (tmp_path / "apt" / "pool.tar").unlink()
    (tmp_path / "bin" / "mc").write_bytes(b"mc")
    (tmp_path / "bin" / "extra").write_bytes(b"x")
    problems = bundle.manifest_problems(str(tmp_path), manifest, "0.3.0")
    assert problems == [
        "apt/pool.tar: listed in the manifest, missing from the bundle",
        "bin/mc: 2 bytes, the manifest says 9",
        "bin/extra: in the bundle, not in its manifest",
    ]


def test_a_bundle_of_another_version_or_format_is_refused(tmp_path):
    manifest = make_bundle(tmp_path, version="0.2.0")
    (problem,) = bundle.manifest_problems(str(tmp_path), manifest, "0.3.0")
    assert problem.startswith("collection.version: the bundle was made for wandb_local.fleet 0.2.0, this is 0.3.0")
    manifest["format"] = 99
    (problem,) = bundle.manifest_problems(str(tmp_path), manifest, "0.2.0")
    assert problem.startswith("format: ")


@pytest.mark.parametrize(
    "setup, expected",
    [
        (lambda p: None, "is not a directory"),
        (lambda p: p.mkdir(), "has no manifest.json"),
        (lambda p: (p.mkdir(), (p / "manifest.json").write_text("{")), "is not valid JSON"),
        (lambda p: (p.mkdir(), (p / "manifest.json").write_text("[]")), "does not hold a JSON object"),
    ],
)
def test_no_manifest_says_why(tmp_path, setup, expected):
    path = tmp_path / "bundle"
    setup(path)
    manifest, problem = bundle.read_manifest(str(path))
    assert manifest is None and expected in problem


def test_archives_depend_on_content_only(tmp_path):
    (tmp_path / "dists" / "sid").mkdir(parents=True)
    (tmp_path / "dists" / "sid" / "Release").write_text("Suite: sid\n")
    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "a.deb").write_bytes(b"deb")
    names = ["pool/a.deb", "dists/sid/Release"]
    first = bundle.deterministic_tar(str(tmp_path), names)
    os.utime(tmp_path / "pool" / "a.deb", (time.time() - 3600, time.time() - 3600))
    os.chmod(tmp_path / "pool" / "a.deb", 0o600)
    assert bundle.deterministic_tar(str(tmp_path), list(reversed(names))) == first
    with tarfile.open(fileobj=io.BytesIO(first)) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == ["dists", "dists/sid", "dists/sid/Release", "pool", "pool/a.deb"]
        assert {m.mtime for m in members} == {0} and {m.uid for m in members} == {0}
    (tmp_path / "pool" / "a.deb").write_bytes(b"deb2")
    assert bundle.deterministic_tar(str(tmp_path), names) != first
    assert bundle.deterministic_gzip(b"x") == bundle.deterministic_gzip(b"x")


def test_write_if_changed_reports_only_real_changes(tmp_path):
    path = str(tmp_path / "d" / "f")
    assert bundle.write_if_changed(path, b"a") is True
    assert bundle.write_if_changed(path, b"a") is False
    assert bundle.write_if_changed(path, b"b") is True
    with open(path, "rb") as handle:
        assert handle.read() == b"b"


def test_simulated_installs_and_their_file_names():
    output = (
        "Inst libc6 (2.43-7 Debian:unstable [amd64])\n"
        "Inst mysql-common (5.8+1.1.1 Debian:unstable [all])\n"
        "Inst libc-bin [2.41-12] (2.43-7 Debian:unstable [amd64])\n"
        "Conf libc6 (2.43-7 Debian:unstable [amd64])\n"
    )
    installs = bundle.parse_simulated_installs(output)
    assert installs == [
        ("libc6", "2.43-7", "amd64"),
        ("mysql-common", "5.8+1.1.1", "all"),
        ("libc-bin", "2.43-7", "amd64"),
    ]
    assert bundle.deb_file_name("redis-server", "5:8.0.2-3", "amd64") == "redis-server_5%3a8.0.2-3_amd64.deb"


def test_apt_refusals_name_the_packages():
    stderr = "E: Unable to locate package no-such\nE: Package 'virtual-only' has no installation candidate\nW: other\n"
    assert bundle.unlocatable_packages(stderr) == ["no-such", "virtual-only"]


def test_required_packages_are_read_off_apt_records():
    records = (
        "Package: libc-bin\nPriority: required\n\nPackage: nginx\nPriority: optional\n\n"
        "Package: dpkg\nPriority: required\n"
    )
    # As the module hands them over: the lines of a file, each with its newline.
    assert bundle.required_package_names(io.StringIO(records)) == ["dpkg", "libc-bin"]


def test_release_lists_each_index_file_with_its_checksums():
    files = {"main/binary-amd64/Packages": b"Package: a\n"}
    release = bundle.release_text("sid", "amd64", files, "Thu, 01 Jan 2026 00:00:00 UTC")
    sha = hashlib.sha256(b"Package: a\n").hexdigest()
    assert "Suite: sid\nCodename: sid\n" in release
    assert f" {sha} 11 main/binary-amd64/Packages" in release
    assert bundle.release_without_date(release) == bundle.release_without_date(release.replace("2026", "2027"))


def test_packages_stanza_adds_where_the_file_is_and_its_checksums(tmp_path):
    deb = tmp_path / "a.deb"
    deb.write_bytes(b"payload")
    stanza = bundle.packages_stanza("Package: a\nVersion: 1\n", "pool/sid/a.deb", str(deb))
    assert stanza.splitlines() == [
        "Package: a",
        "Version: 1",
        "Filename: pool/sid/a.deb",
        "Size: 7",
        "MD5sum: " + hashlib.md5(b"payload").hexdigest(),  # noqa: S324 - apt's index format
        "SHA256: " + hashlib.sha256(b"payload").hexdigest(),
    ]


def test_manifest_bytes_are_stable():
    assert bundle.manifest_bytes({"b": 1, "a": [1]}) == bundle.manifest_bytes({"a": [1], "b": 1})
    assert json.loads(bundle.manifest_bytes({"a": 1})) == {"a": 1}


SOURCES = [{"uris": ["http://deb.debian.org/debian"], "suites": ["trixie"], "signed_by": "/k.gpg"}]


def test_an_extra_suite_is_a_pinned_suite_and_source_of_its_own():
    sources, groups = bundle.apt_plan(
        "trixie", ["nginx"], SOURCES, "sid", ["http://m/debian"], ["mysql-server"], "100", "/k.gpg"
    )
    assert sources == [
        *SOURCES,
        {"uris": ["http://m/debian"], "suites": ["sid"], "signed_by": "/k.gpg", "check_valid_until": False},
    ]
    assert groups == [
        {"suite": "trixie", "packages": ["nginx"]},
        {"suite": "sid", "packages": ["mysql-server"], "default_release": "sid", "priority": 100},
    ]


@pytest.mark.parametrize("extra_suite", ["noble", ""])
def test_an_extra_suite_that_is_the_release_joins_it(extra_suite):
    sources, groups = bundle.apt_plan(
        "noble",
        ["nginx", "python3-pymysql"],
        SOURCES,
        extra_suite,
        ["http://m"],
        ["mysql-server", "python3-pymysql"],
        100,
        "/k",
    )
    assert sources == SOURCES
    assert groups == [{"suite": "noble", "packages": ["nginx", "python3-pymysql", "mysql-server"]}]
