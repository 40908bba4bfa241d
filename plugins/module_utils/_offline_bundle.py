# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The offline bundle's layout, manifest and checks, shared by the module that builds a bundle on a
connected machine (offline_bundle) and the one that checks it on the air-gapped site's controller
(offline_bundle_info). Everything here is plain file work: no Ansible, so it is unit tested directly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import io
import json
import os
import tarfile

MANIFEST = "manifest.json"
FORMAT = 1
# The apt repository travels as two archives: the index (dists/, a few hundred KB: check mode on a new host
# simulates the installs against it) and the packages (pool/).
APT_INDEX = "apt/index.tar"
APT_POOL = "apt/pool.tar"
SIGNING_KEY = "apt/signing-key.asc"
COMPONENT = "main"
_CHUNK = 1 << 20


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path):
    return {"sha256": sha256_file(path), "size": os.path.getsize(path)}


def write_if_changed(path, data):
    """Write bytes to path (temp file + rename) unless it holds them already. True when written."""
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
    return True


def deterministic_tar(root, names):
    """A tar of root's files `names` (relative paths) whose bytes depend on their content only: sorted
    members, no times, owners or modes of the build machine. The same inputs give the same archive, so a
    second build changes nothing and the manifest's checksum stays."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        directories = set()
        for name in sorted(names):
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in directories:
                    directories.add(directory)
                    info = tarfile.TarInfo(directory)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    archive.addfile(info)
            path = os.path.join(root, name)
            info = tarfile.TarInfo(name)
            info.size = os.path.getsize(path)
            info.mode = 0o644
            with open(path, "rb") as handle:
                archive.addfile(info, handle)
    return buffer.getvalue()


def deterministic_gzip(data):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as handle:
        handle.write(data)
    return buffer.getvalue()


def deb_file_name(package, version, architecture):
    """The name apt gives a downloaded package: an epoch's colon is written %3a."""
    return "%s_%s_%s.deb" % (package, version.replace(":", "%3a"), architecture)


def parse_simulated_installs(output):
    """(package, version, architecture) of every `Inst` line of `apt-get install -s`."""
    installs = []
    for line in output.splitlines():
        if not line.startswith("Inst "):
            continue
        # Inst name [old] (version suite [arch])
        words = line.split()
        package = words[1]
        opening = line.index("(")
        inside = line[opening + 1 : line.index(")", opening)].split()
        version = inside[0]
        architecture = inside[-1].strip("[]") if inside[-1].startswith("[") else "all"
        installs.append((package, version, architecture))
    return installs


def unlocatable_packages(stderr):
    """The names apt says it cannot find ("E: Unable to locate package X", "Package X has no installation
    candidate")."""
    names = []
    for line in stderr.splitlines():
        line = line.strip()
        for prefix, suffix in (
            ("E: Unable to locate package ", ""),
            ("E: Package '", "' has no installation candidate"),
        ):
            if line.startswith(prefix) and line.endswith(suffix):
                names.append(line[len(prefix) : len(line) - len(suffix)].strip("'"))
    return names


def required_package_names(lines):
    """Names of the packages of priority required in apt-cache dumpavail's records (an iterable of lines: the
    records of a rolling suite run to tens of megabytes, read from a file)."""
    names = set()
    package = None
    for line in lines:
        if line.startswith("Package: "):
            package = line[len("Package: ") :].strip()
        elif line.startswith("Priority: ") and line[len("Priority: ") :].strip() == "required" and package:
            names.add(package)
        elif not line.strip():
            package = None
    return sorted(names)


def packages_stanza(control, filename, path):
    """One Packages entry: the package's control fields plus where it is and its checksums."""
    fields = control.rstrip("\n")
    md5 = hashlib.md5()  # noqa: S324 - apt's index format carries it beside SHA256
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            md5.update(chunk)
            sha.update(chunk)
    return "%s\nFilename: %s\nSize: %d\nMD5sum: %s\nSHA256: %s\n" % (
        fields,
        filename,
        os.path.getsize(path),
        md5.hexdigest(),
        sha.hexdigest(),
    )


def release_text(suite, architecture, index_files, date):
    """The Release file of one suite of the bundle's repository (index_files: relative path -> bytes)."""
    lines = [
        "Origin: wandb_local.fleet offline bundle",
        "Label: wandb_local.fleet offline bundle",
        "Suite: %s" % suite,
        "Codename: %s" % suite,
        "Date: %s" % date,
        "Architectures: %s" % architecture,
        "Components: %s" % COMPONENT,
        "Description: Packages the wandb_local.fleet roles install, with their dependencies",
    ]
    for field, algorithm in (("MD5Sum", hashlib.md5), ("SHA256", hashlib.sha256)):
        lines.append("%s:" % field)
        for name in sorted(index_files):
            data = index_files[name]
            lines.append(" %s %d %s" % (algorithm(data).hexdigest(), len(data), name))
    return "\n".join(lines) + "\n"


def release_without_date(text):
    return "\n".join(line for line in text.splitlines() if not line.startswith("Date: "))


def bundle_files(path):
    """Every file of the bundle the manifest covers (relative paths), the manifest itself excepted."""
    names = []
    for directory, subdirectories, files in os.walk(path):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        for name in files:
            relative = os.path.relpath(os.path.join(directory, name), path)
            if relative != MANIFEST and not name.startswith(".") and not name.endswith(".tmp"):
                names.append(relative)
    return sorted(names)


def manifest_bytes(manifest):
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def read_manifest(path):
    """The manifest of the bundle at path, or a problem saying why there is none."""
    manifest_path = os.path.join(path, MANIFEST)
    if not os.path.isdir(path):
        return None, "%s is not a directory (unpack the bundle's tarball first)" % path
    if not os.path.isfile(manifest_path):
        return None, "%s has no %s: it is not an offline bundle, or its build did not finish" % (path, MANIFEST)
    try:
        with open(manifest_path) as handle:
            manifest = json.load(handle)
    except ValueError as exc:
        return None, "%s is not valid JSON (%s)" % (manifest_path, exc)
    if not isinstance(manifest, dict):
        return None, "%s does not hold a JSON object" % manifest_path
    return manifest, None


def manifest_problems(path, manifest, collection_version):
    """Everything that makes the bundle unusable, each naming the file or field: a format or collection
    version other than ours, a file the manifest lists that is missing or differs, a file it does not list."""
    problems = []
    if manifest.get("format") != FORMAT:
        problems.append(
            "format: the bundle's manifest has format %r, this collection reads %r" % (manifest.get("format"), FORMAT)
        )
        return problems
    made_for = (manifest.get("collection") or {}).get("version")
    if made_for != collection_version:
        problems.append(
            "collection.version: the bundle was made for wandb_local.fleet %s, this is %s; build a bundle with this "
            "collection's playbooks/bundle.yml" % (made_for, collection_version)
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        problems.append("files: the manifest lists no files")
        return problems
    for name in sorted(files):
        expected = files[name] or {}
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            problems.append("%s: listed in the manifest, missing from the bundle" % name)
            continue
        size = os.path.getsize(full)
        if size != expected.get("size"):
            problems.append("%s: %d bytes, the manifest says %s" % (name, size, expected.get("size")))
            continue
        actual = sha256_file(full)
        if actual != expected.get("sha256"):
            problems.append("%s: sha256 %s, the manifest says %s" % (name, actual, expected.get("sha256")))
    for name in bundle_files(path):
        if name not in files:
            problems.append("%s: in the bundle, not in its manifest" % name)
    return problems


def apt_plan(release, packages, sources, extra_suite, extra_suite_uris, extra_packages, extra_priority, keyring):
    """What offline_bundle resolves: (apt_sources, apt_groups). The release's packages form one suite; the
    packages of an extra suite (Oracle MySQL from Debian's sid) another, with that suite added as a source and
    pinned at extra_priority. When the extra suite is the release itself (Ubuntu ships MySQL), it is one suite."""
    if not extra_suite or extra_suite == release:
        merged = list(packages) + [name for name in extra_packages if name not in packages]
        return list(sources), [{"suite": release, "packages": merged}]
    extra_source = {
        "uris": list(extra_suite_uris),
        "suites": [extra_suite],
        "signed_by": keyring,
        "check_valid_until": False,
    }
    groups = [
        {"suite": release, "packages": list(packages)},
        {
            "suite": extra_suite,
            "packages": list(extra_packages),
            "default_release": extra_suite,
            "priority": int(extra_priority),
        },
    ]
    return [*sources, extra_source], groups
