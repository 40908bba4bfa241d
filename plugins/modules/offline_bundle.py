#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: offline_bundle
short_description: Build the offline bundle an air-gapped site installs W&B from
version_added: 0.3.0
description:
  - Run on a connected machine with apt (Debian or Ubuntu, any release; apt resolves for the target release from
    its own private configuration). Makes one directory holding everything the roles install on hosts that reach
    no package source, with a manifest of sha256 sums (C(manifest.json)).
  - The Debian/Ubuntu packages of O(apt_groups), with every dependency (resolved against an empty package
    database, so nothing the build machine has installed is left out), as an apt repository (C(apt/index.tar),
    C(apt/pool.tar)) whose C(InRelease) is signed by an OpenPGP key made for bundles in O(signing_dir). Hosts trust
    the public key the controller gives them, never C(trusted=yes).
  - The W&B server image archive (O(server_image)), the MinIO server and client binaries, and Python wheels
    (O(python_requirements) downloaded with pip for the target's Python, or O(python_wheel_dir)).
  - A second build with nothing new changes nothing (the archives are byte-for-byte reproducible, the index is
    signed again only when it changes). A package no source has stops the build naming it.
author:
  - wandb_local.fleet maintainers (@wandb-local)
requirements:
  - apt-get, dpkg-deb and gpg on the machine the module runs on; pip when O(python_requirements) is given; the
    docker CLI when O(server_image.name) is given without an archive; Go when O(minio_server_module) or
    O(minio_client_module) is given.
options:
  path:
    description: The bundle's directory (made if missing). Downloads are kept beside it in C(<path>.work).
    type: path
    required: true
  collection_version:
    description: The wandb_local.fleet version the bundle is for; the site refuses a bundle of another version.
    type: str
    required: true
  made_for:
    description: What the bundle is for, recorded in the manifest (distribution, release, architecture, roles).
    type: dict
    default: {}
  architecture:
    description: The hosts' dpkg architecture.
    type: str
    default: amd64
  apt_sources:
    description: The package sources to download from, as the target release's hosts would have them.
    type: list
    elements: dict
    required: true
    suboptions:
      uris:
        description: Mirror URLs.
        type: list
        elements: str
        required: true
      suites:
        description: Suites (codenames).
        type: list
        elements: str
        required: true
      components:
        description: Components.
        type: list
        elements: str
        default: [main]
      signed_by:
        description: The archive keyring on this machine that signs the source.
        type: path
        required: true
      check_valid_until:
        description: V(false) for a rolling suite whose Release file is past its date.
        type: bool
        default: true
  apt_groups:
    description:
      - Package sets, each resolved on its own and published as one suite of the bundle's repository, named as the
        hosts' apt commands name it (C(apt-get -t <suite>)).
    type: list
    elements: dict
    required: true
    suboptions:
      suite:
        description: The suite name in the bundle's repository (its C(Suite) and C(Codename)).
        type: str
        required: true
      packages:
        description: Package names.
        type: list
        elements: str
        required: true
      default_release:
        description: Resolve with C(-t) this source suite (a pinned suite, for example sid for Oracle MySQL).
        type: str
      priority:
        description: The pin the hosts give this suite of the bundle (V(100) keeps it below the host's release).
        type: int
        default: 500
  server_image:
    description: The W&B server image. O(server_image.archive) (a C(docker save) archive) is copied; else
      O(server_image.name) is saved from this machine's engine (pulled first when absent).
    type: dict
    suboptions:
      name:
        description: Repository and tag, C(wandb/local:0.x.y).
        type: str
        required: true
      archive:
        description: A C(docker save) archive of O(server_image.name).
        type: path
  minio_server:
    description: The MinIO server binary.
    type: path
  minio_client:
    description: The MinIO client (mc) binary.
    type: path
  minio_server_module:
    description:
      - Build the MinIO server with Go instead (C(go install <module>@<version>), C(CGO_ENABLED=0), C(-trimpath)),
        the vendor's documented install of the community edition, for example
        C(github.com/minio/minio@RELEASE.2025-09-07T16-13-09Z). Built once per version in C(<path>.work/go).
    type: str
  minio_client_module:
    description: The same for the client, for example C(github.com/minio/mc@RELEASE.2025-08-13T08-35-41Z).
    type: str
  python_requirements:
    description: pip requirements downloaded as wheels for the hosts' Python (training hosts' C(wandb) SDK).
    type: list
    elements: str
    default: []
  python_version:
    description: The hosts' Python, C(3.13) on Debian 13.
    type: str
    default: "3.13"
  python_platforms:
    description: pip platform tags the hosts accept.
    type: list
    elements: str
    default: [manylinux_2_28_x86_64, manylinux_2_17_x86_64, manylinux2014_x86_64, linux_x86_64, any]
  python_wheel_dir:
    description: A directory of wheels to take as they are, instead of O(python_requirements).
    type: path
  signing_dir:
    description:
      - Where the bundle signing key lives (a GnuPG home, C(gnupg/), made with a new key on first use, mode 0700)
        and its public part C(signing-key.asc), which the site's controller gives its hosts. Keep it with the
        controller's secrets.
    type: path
    required: true
  tarball:
    description: Also write C(<path>.tar), the whole bundle in one reproducible file to carry across the air gap.
    type: bool
    default: true
attributes:
  check_mode:
    support: partial
    details:
      - Reports whether a bundle exists at O(path) with a manifest; downloads and compares nothing.
  diff_mode:
    support: none
    details:
      - The manifest lists what the bundle holds.
  idempotent:
    support: full
    details:
      - A second build with the same inputs and the same packages on the mirrors changes nothing.
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
"""

EXAMPLES = r"""
- name: Build the bundle
  wandb_local.fleet.offline_bundle:
    path: /srv/wandb-bundle
    collection_version: 0.3.0
    apt_sources:
      - uris: [http://deb.debian.org/debian]
        suites: [trixie, trixie-updates]
        signed_by: /usr/share/keyrings/debian-archive-keyring.gpg
    apt_groups:
      - suite: trixie
        packages: [docker.io, redis-server, nginx]
    server_image:
      name: wandb/local:0.70.0
    signing_dir: /srv/inventory.secrets/offline-bundle
"""

RETURN = r"""
manifest:
  description: The bundle's manifest (every file with its sha256 and size, the packages with their versions).
  returned: success, not in check mode
  type: dict
size:
  description: The bundle's size in bytes (the directory; the tarball is as large).
  returned: success, not in check mode
  type: int
packages:
  description: How many packages the repository holds.
  returned: success, not in check mode
  type: int
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wandb_local.fleet.plugins.module_utils import _offline_bundle as bundle
from ansible_collections.wandb_local.fleet.plugins.module_utils._apt_config import (
    UPDATE_ARGV,
    deb822_source,
    pin,
    write_root,
)

KEY_NAME = "wandb_local.fleet offline bundle"


class BuildError(Exception):
    pass


def failure(what, rc, output):
    """The BuildError of a command that failed: what it was, its exit code and the end of what it said."""
    return BuildError("%s failed (rc %s): %s" % (what, rc, output.strip()[-2000:]))


class Builder:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = os.path.abspath(self.params["path"])
        self.work = self.path + ".work"
        self.changed = []

    def run(self, argv, environ=None, what=None):
        rc, out, err = self.module.run_command(argv, environ_update=environ or {})
        if rc != 0:
            raise failure(what or argv[0], rc, err or out)
        return out, err

    def run_into(self, path, argv, environ=None, what=None):
        """As run, with the command's output written to path instead of returned: run_command gathers output by
        appending 32 KiB chunks to one bytes object, which for tens of megabytes is a minute of copying."""
        with open(path, "wb") as handle:
            done = subprocess.run(  # noqa: S603 - an argv of the module's, no shell
                [self.module.get_bin_path(argv[0], required=True), *argv[1:]],
                stdout=handle,
                stderr=subprocess.PIPE,
                env={**os.environ, **(environ or {})},
                check=False,
            )
        if done.returncode != 0:
            raise failure(what or argv[0], done.returncode, done.stderr.decode(errors="replace"))

    def note(self, name, written):
        if written:
            self.changed.append(name)

    # The signing key: made once, kept with the controller's secrets.
    def gnupg(self):
        home = os.path.join(self.params["signing_dir"], "gnupg")
        os.makedirs(home, mode=0o700, exist_ok=True)
        os.chmod(self.params["signing_dir"], 0o700)
        os.chmod(home, 0o700)
        rc, out, _err = self.module.run_command(
            ["gpg", "--homedir", home, "--batch", "--list-secret-keys", "--with-colons"]
        )
        if rc != 0 or "\nsec:" not in "\n" + out:
            self.run(
                [
                    "gpg",
                    "--homedir",
                    home,
                    "--batch",
                    "--passphrase",
                    "",
                    "--quick-generate-key",
                    KEY_NAME,
                    "ed25519",
                    "sign",
                    "never",
                ],
                what="making the bundle signing key",
            )
            self.changed.append("signing key")
        public, _err = self.run(
            ["gpg", "--homedir", home, "--batch", "--armor", "--export", KEY_NAME], what="exporting the signing key"
        )
        self.note(
            "signing-key.asc",
            bundle.write_if_changed(os.path.join(self.params["signing_dir"], "signing-key.asc"), public.encode()),
        )
        return home, public.encode()

    # Resolve and download, in a private apt configuration with an empty package database.
    def apt_root(self):
        root = os.path.join(self.work, "apt")
        os.makedirs(root, exist_ok=True)
        status = os.path.join(root, "status")
        bundle.write_if_changed(status, b"")
        sources = "\n".join(
            deb822_source(s["uris"], s["suites"], s["components"], s["signed_by"], s["check_valid_until"])
            for s in self.params["apt_sources"]
        )
        pins = "\n".join(
            pin(group["default_release"], group["priority"])
            for group in self.params["apt_groups"]
            if group.get("default_release") and group["priority"] != 500
        )
        config = write_root(
            root, {"bundle.sources": sources}, {"bundle.pref": pins}, status, self.params["architecture"]
        )
        environment = {"APT_CONFIG": config, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
        self.run(UPDATE_ARGV, environment, "apt-get update of the bundle's sources")
        return root, environment

    def required_packages(self, environment):
        """The packages of priority required: every host has them, and a newer library from a pinned suite
        can need their newer versions too (sid's libc6 needs sid's libc-bin), which an empty package database
        would not pull in."""
        # 68 MB for trixie and sid: into a file (Builder.run_into), read line by line.
        records = os.path.join(self.work, "dumpavail")
        try:
            self.run_into(records, ["apt-cache", "dumpavail"], environment, "apt-cache dumpavail")
            with open(records, encoding="utf-8", errors="replace") as handle:
                return bundle.required_package_names(handle)
        finally:
            if os.path.exists(records):
                os.remove(records)

    def download(self, group, environment, required):
        archives = os.path.join(self.work, "debs", group["suite"])
        os.makedirs(os.path.join(archives, "partial"), exist_ok=True)
        argv = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "Dir::Cache::archives=%s" % archives]
        if group.get("default_release"):
            argv += ["-t", group["default_release"]]
        packages = group["packages"] + [name for name in required if name not in group["packages"]]
        rc, out, err = self.module.run_command([*argv, "-s", *packages], environ_update=environment)
        if rc != 0:
            missing = bundle.unlocatable_packages(err)
            if missing:
                raise BuildError(
                    "apt_groups (suite %s): %s: not in the bundle's sources (apt_sources)"
                    % (group["suite"], ", ".join(missing))
                )
            raise BuildError("resolving suite %s failed: %s" % (group["suite"], err.strip()[-2000:]))
        installs = bundle.parse_simulated_installs(out)
        self.run([*argv, "--download-only", *packages], environment, "downloading suite %s" % group["suite"])
        files = {}
        for package, version, architecture in installs:
            name = bundle.deb_file_name(package, version, architecture)
            if not os.path.isfile(os.path.join(archives, name)):
                raise BuildError("apt downloaded no %s for %s %s" % (name, package, version))
            files[name] = (package, version)
        return archives, files

    def repository(self, home, environment):
        """The repository in <work>/repo, then its two archives in the bundle. Returns the package versions."""
        repo = os.path.join(self.work, "repo")
        shutil.rmtree(os.path.join(repo, "pool"), ignore_errors=True)
        versions = {}
        index_names, pool_names = [], []
        # Control fields by package file: a rebuild reads each .deb's once (dpkg-deb costs 30 ms a package).
        cache_path = os.path.join(self.work, "control-fields.json")
        controls = {}
        if os.path.isfile(cache_path):
            with open(cache_path) as handle:
                controls = json.load(handle)
        required = self.required_packages(environment)
        for group in self.params["apt_groups"]:
            archives, files = self.download(group, environment, required)
            pool = os.path.join(repo, "pool", group["suite"])
            os.makedirs(pool, exist_ok=True)
            stanzas = []
            for name in sorted(files):
                target = os.path.join(pool, name)
                os.link(os.path.join(archives, name), target)
                key = "%s/%s %d" % (group["suite"], name, os.path.getsize(target))
                if key not in controls:
                    controls[key], _err = self.run(["dpkg-deb", "--field", target], what="reading %s" % name)
                control = controls[key]
                stanzas.append(bundle.packages_stanza(control, "pool/%s/%s" % (group["suite"], name), target))
                pool_names.append("pool/%s/%s" % (group["suite"], name))
                package, version = files[name]
                versions["%s/%s" % (group["suite"], package)] = version
            index_names += self.suite_index(repo, group["suite"], "\n".join(stanzas).encode(), home)
        bundle.write_if_changed(cache_path, json.dumps(controls, sort_keys=True).encode())
        self.note(
            bundle.APT_INDEX,
            bundle.write_if_changed(
                os.path.join(self.path, bundle.APT_INDEX), bundle.deterministic_tar(repo, index_names)
            ),
        )
        self.note(
            bundle.APT_POOL,
            bundle.write_if_changed(
                os.path.join(self.path, bundle.APT_POOL), bundle.deterministic_tar(repo, pool_names)
            ),
        )
        return versions

    def suite_index(self, repo, suite, packages, home):
        dist = os.path.join(repo, "dists", suite)
        binary = "%s/binary-%s" % (bundle.COMPONENT, self.params["architecture"])
        index_files = {binary + "/Packages": packages, binary + "/Packages.gz": bundle.deterministic_gzip(packages)}
        for name, data in index_files.items():
            bundle.write_if_changed(os.path.join(dist, name), data)
        release_path = os.path.join(dist, "Release")
        date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
        release = bundle.release_text(suite, self.params["architecture"], index_files, date)
        previous = ""
        if os.path.isfile(release_path):
            with open(release_path) as handle:
                previous = handle.read()
        inrelease = os.path.join(dist, "InRelease")
        signed_by_us = (
            os.path.isfile(inrelease)
            and self.module.run_command(["gpg", "--homedir", home, "--batch", "--verify", inrelease])[0] == 0
        )
        # The same index keeps its Release (and date) and signature: a rebuild changes nothing.
        if bundle.release_without_date(previous) != bundle.release_without_date(release) or not signed_by_us:
            bundle.write_if_changed(release_path, release.encode())
            self.run(
                [
                    "gpg",
                    "--homedir",
                    home,
                    "--batch",
                    "--yes",
                    "--local-user",
                    KEY_NAME,
                    "--clearsign",
                    "--output",
                    inrelease,
                    release_path,
                ],
                what="signing suite %s" % suite,
            )
        return ["dists/%s/%s" % (suite, name) for name in sorted(index_files)] + [
            "dists/%s/Release" % suite,
            "dists/%s/InRelease" % suite,
        ]

    def copy_file(self, source, relative, mode=0o644):
        target = os.path.join(self.path, relative)
        if not os.path.isfile(source):
            raise BuildError("%s: no such file" % source)
        if os.path.isfile(target) and bundle.sha256_file(target) == bundle.sha256_file(source):
            os.chmod(target, mode)
            return
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target + ".tmp")
        os.chmod(target + ".tmp", mode)
        os.replace(target + ".tmp", target)
        self.changed.append(relative)

    def go_binary(self, spec):
        """The binary `go install spec` builds (spec: module@version), built once per spec in <work>/go."""
        module_path, _at, version = spec.partition("@")
        if not module_path or not version:
            raise BuildError("%r: give the Go module as <module>@<version>" % spec)
        name = module_path.rstrip("/").split("/")[-1]
        directory = os.path.join(self.work, "go", "%s@%s" % (module_path.replace("/", "_"), version))
        binary = os.path.join(directory, name)
        if not os.path.isfile(binary):
            shutil.rmtree(directory + ".tmp", ignore_errors=True)
            os.makedirs(directory + ".tmp")
            environment = {"GOBIN": directory + ".tmp", "CGO_ENABLED": "0", "GOFLAGS": "-trimpath"}
            go = self.module.get_bin_path("go", required=True)
            self.run([go, "install", spec], environment, "go install %s" % spec)
            shutil.rmtree(directory, ignore_errors=True)
            os.rename(directory + ".tmp", directory)
        if not os.path.isfile(binary):
            raise BuildError("go install %s made no %s" % (spec, name))
        return binary

    def server_image(self, previous):
        image = self.params["server_image"]
        if not image:
            return None
        relative = "images/%s.tar" % image["name"].replace("/", "_").replace(":", "_")
        if image.get("archive"):
            self.copy_file(image["archive"], relative)
            return {"name": image["name"], "file": relative}
        # Saved from the engine: the image's ID decides whether the archive is the same (docker save is not
        # byte-for-byte reproducible).
        rc, out, _err = self.module.run_command(["docker", "image", "inspect", "--format", "{{.Id}}", image["name"]])
        if rc != 0:
            self.run(["docker", "pull", image["name"]], what="pulling %s" % image["name"])
            out, _err = self.run(["docker", "image", "inspect", "--format", "{{.Id}}", image["name"]])
        image_id = out.strip()
        target = os.path.join(self.path, relative)
        if previous.get("id") != image_id or not os.path.isfile(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            self.run(["docker", "save", "--output", target + ".tmp", image["name"]], what="saving %s" % image["name"])
            os.replace(target + ".tmp", target)
            self.changed.append(relative)
        return {"name": image["name"], "file": relative, "id": image_id}

    def wheels(self):
        target = os.path.join(self.path, "wheels")
        if self.params["python_wheel_dir"]:
            source = self.params["python_wheel_dir"]
        elif self.params["python_requirements"]:
            source = tempfile.mkdtemp(prefix="wheels-", dir=self.work)
            argv = [
                self.module.get_bin_path("python3", required=True),
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--dest",
                source,
                "--python-version",
                self.params["python_version"],
                "--implementation",
                "cp",
            ]
            for platform in self.params["python_platforms"]:
                argv += ["--platform", platform]
            self.run(argv + self.params["python_requirements"], what="pip download of python_requirements")
        else:
            return None
        try:
            wanted = sorted(os.path.basename(p) for p in glob.glob(os.path.join(source, "*.whl")))
            if not wanted:
                raise BuildError("%s holds no wheels" % source)
            for name in wanted:
                self.copy_file(os.path.join(source, name), "wheels/%s" % name)
            for stale in glob.glob(os.path.join(target, "*.whl")):
                if os.path.basename(stale) not in wanted:
                    os.remove(stale)
                    self.changed.append("wheels/%s (removed)" % os.path.basename(stale))
        finally:
            if not self.params["python_wheel_dir"]:
                shutil.rmtree(source, ignore_errors=True)
        return {"dir": "wheels", "requirements": self.params["python_requirements"], "files": wanted}

    def build(self):
        previous, _problem = bundle.read_manifest(self.path)
        previous = previous or {}
        os.makedirs(self.path, exist_ok=True)
        os.makedirs(self.work, exist_ok=True)
        home, public = self.gnupg()
        self.note(bundle.SIGNING_KEY, bundle.write_if_changed(os.path.join(self.path, bundle.SIGNING_KEY), public))
        _root, environment = self.apt_root()
        versions = self.repository(home, environment)
        manifest = {
            "format": bundle.FORMAT,
            "collection": {"name": "wandb_local.fleet", "version": self.params["collection_version"]},
            "made_for": dict(self.params["made_for"], architecture=self.params["architecture"]),
            "apt": {
                "index": bundle.APT_INDEX,
                "pool": bundle.APT_POOL,
                "suites": [{"suite": g["suite"], "priority": g["priority"]} for g in self.params["apt_groups"]],
                "packages": versions,
            },
        }
        image = self.server_image(previous.get("server_image") or {})
        if image:
            manifest["server_image"] = image
        for key, relative in (("minio_server", "bin/minio"), ("minio_client", "bin/mc")):
            source = self.params[key]
            if self.params[key + "_module"]:
                source = self.go_binary(self.params[key + "_module"])
            if source:
                self.copy_file(source, relative, 0o755)
                manifest.setdefault("minio", {})["server" if key == "minio_server" else "client"] = relative
        wheels = self.wheels()
        if wheels:
            manifest["wheels"] = wheels
        manifest["files"] = {
            name: bundle.file_entry(os.path.join(self.path, name)) for name in bundle.bundle_files(self.path)
        }
        self.note(
            bundle.MANIFEST,
            bundle.write_if_changed(os.path.join(self.path, bundle.MANIFEST), bundle.manifest_bytes(manifest)),
        )
        if self.params["tarball"]:
            names = [bundle.MANIFEST, *sorted(manifest["files"])]
            tar_path = self.path + ".tar"
            # Rewritten only when the bundle changed or the tarball is missing: reading it costs as much as writing.
            if self.changed or not os.path.isfile(tar_path):
                self.note(
                    os.path.basename(tar_path),
                    bundle.write_if_changed(tar_path, bundle.deterministic_tar(self.path, names)),
                )
        size = sum(entry["size"] for entry in manifest["files"].values())
        return manifest, size, len(versions)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            collection_version=dict(type="str", required=True),
            made_for=dict(type="dict", default={}),
            architecture=dict(type="str", default="amd64"),
            apt_sources=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    uris=dict(type="list", elements="str", required=True),
                    suites=dict(type="list", elements="str", required=True),
                    components=dict(type="list", elements="str", default=["main"]),
                    signed_by=dict(type="path", required=True),
                    check_valid_until=dict(type="bool", default=True),
                ),
            ),
            apt_groups=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    suite=dict(type="str", required=True),
                    packages=dict(type="list", elements="str", required=True),
                    default_release=dict(type="str"),
                    priority=dict(type="int", default=500),
                ),
            ),
            server_image=dict(
                type="dict", options=dict(name=dict(type="str", required=True), archive=dict(type="path"))
            ),
            minio_server=dict(type="path"),
            minio_client=dict(type="path"),
            minio_server_module=dict(type="str"),
            minio_client_module=dict(type="str"),
            python_requirements=dict(type="list", elements="str", default=[]),
            python_version=dict(type="str", default="3.13"),
            python_platforms=dict(
                type="list",
                elements="str",
                default=[
                    "manylinux_2_28_x86_64",
                    "manylinux_2_17_x86_64",
                    "manylinux2014_x86_64",
                    "linux_x86_64",
                    "any",
                ],
            ),
            python_wheel_dir=dict(type="path"),
            signing_dir=dict(type="path", required=True),
            tarball=dict(type="bool", default=True),
        ),
        mutually_exclusive=[
            ("python_requirements", "python_wheel_dir"),
            ("minio_server", "minio_server_module"),
            ("minio_client", "minio_client_module"),
        ],
        supports_check_mode=True,
    )
    suites = [group["suite"] for group in module.params["apt_groups"]]
    for index, group in enumerate(module.params["apt_groups"]):
        if not group["packages"]:
            module.fail_json(msg="apt_groups[%d].packages: empty" % index)
        if "/" in group["suite"] or suites.count(group["suite"]) > 1:
            module.fail_json(msg="apt_groups[%d].suite: %r must be a plain name, once" % (index, group["suite"]))
    if module.check_mode:
        manifest, problem = bundle.read_manifest(module.params["path"])
        module.exit_json(changed=manifest is None, msg=problem or "a bundle exists; check mode compares nothing")
    builder = Builder(module)
    try:
        manifest, size, packages = builder.build()
    except (BuildError, OSError) as exc:
        module.fail_json(msg="offline_bundle: %s" % exc, changed=bool(builder.changed))
    finally:
        # gpg leaves its agent running for the key's home: nothing of the build should outlive it.
        home = os.path.join(module.params["signing_dir"], "gnupg")
        module.run_command(["gpgconf", "--homedir", home, "--kill", "gpg-agent"])
    module.exit_json(
        changed=bool(builder.changed), changes=builder.changed, manifest=manifest, size=size, packages=packages
    )


if __name__ == "__main__":
    main()
