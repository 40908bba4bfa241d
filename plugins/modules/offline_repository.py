#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: offline_repository
short_description: Install an offline bundle's apt repository on a host, with an apt configuration that sees only it
version_added: 0.3.0
description:
  - Unpacks the bundle's apt repository (the index and package archives copied to the host beforehand) under
    O(root), after checking both archives against their sha256, and writes a private apt configuration
    (C(<root>/apt.conf)) whose only source is that repository, signed by O(signing_key) (never C(trusted=yes)),
    with the bundle's pins. Then refreshes that configuration's package lists. The host's own apt sources and
    lists are not touched; the roles pass C(APT_CONFIG=<root>/apt.conf) to their apt tasks.
  - A stamp (C(<root>/bundle.sha256)) names the archives installed; the same archives again change nothing.
  - In check mode nothing under O(root) changes; the index alone is unpacked into a new temporary directory
    (C(/tmp/wandb-offline-check-*), a few hundred KB) with its own configuration and lists, returned as RV(config),
    so the roles' simulated installs see what the real run will.
author:
  - wandb_local.fleet maintainers (@wandb-local)
options:
  root:
    description: Where the repository, its configuration and package lists live.
    type: path
    default: /var/lib/wandb-offline
  index:
    description:
      - The bundle's C(apt/index.tar), on the host. Without it (and O(pool)) the module only answers whether the
        host has this bundle already (RV(installed)), so a play copies the archives only when it does not.
    type: path
  index_sha256:
    description: Its sha256, from the bundle's manifest.
    type: str
    required: true
  pool:
    description: The bundle's C(apt/pool.tar), on the host (not read in check mode).
    type: path
  pool_sha256:
    description: Its sha256, from the bundle's manifest.
    type: str
    required: true
  signing_key:
    description: The bundle signing key's public part (ASCII armored), from the controller's secrets.
    type: str
    required: true
  suites:
    description: The bundle's suites and the priority hosts give each (the manifest's C(apt.suites)).
    type: list
    elements: dict
    required: true
    suboptions:
      suite:
        description: The suite's name.
        type: str
        required: true
      priority:
        description: Its pin priority.
        type: int
        default: 500
  remove_archives:
    description: Remove O(index) and O(pool) once unpacked (they are copies).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details:
      - Unpacks the index in a temporary directory only, and reports the change the real run makes.
  diff_mode:
    support: none
    details:
      - The stamp names what was installed.
  idempotent:
    support: full
    details:
      - The same archives (by their stamp) change nothing.
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
"""

EXAMPLES = r"""
- name: Install the bundle's repository
  wandb_local.fleet.offline_repository:
    index: /var/tmp/wandb-offline-index.tar
    index_sha256: "{{ manifest.files['apt/index.tar'].sha256 }}"
    pool: /var/tmp/wandb-offline-pool.tar
    pool_sha256: "{{ manifest.files['apt/pool.tar'].sha256 }}"
    signing_key: "{{ lookup('file', secrets_dir ~ '/offline-bundle/signing-key.asc') }}"
    suites: "{{ manifest.apt.suites }}"
"""

RETURN = r"""
installed:
  description: Whether the host has this bundle's repository (after the run; false in check mode when it would be
    installed).
  returned: success
  type: bool
config:
  description: The apt configuration to install with (C(APT_CONFIG)); a temporary one in check mode on a host
    without this repository.
  returned: when the host has the repository, or check mode previewed it
  type: str
stamp:
  description: What the stamp holds (the sha256 of both archives and the key).
  returned: success
  type: str
"""

import hashlib
import os
import shutil
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wandb_local.fleet.plugins.module_utils._apt_config import (
    UPDATE_ARGV,
    deb822_source,
    pin,
    write_root,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._offline_bundle import COMPONENT, sha256_file


def stamp_of(params):
    key = hashlib.sha256(params["signing_key"].strip().encode()).hexdigest()
    return "index=%s pool=%s key=%s" % (params["index_sha256"], params["pool_sha256"], key)


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write(path, content, mode=0o644):
    with open(path + ".tmp", "w") as handle:
        handle.write(content)
    os.chmod(path + ".tmp", mode)
    os.replace(path + ".tmp", path)


def checked_extract(archive, expected, target):
    actual = sha256_file(archive)
    if actual != expected:
        raise ValueError(
            "%s: sha256 %s, the bundle's manifest says %s (a copy went wrong)" % (archive, actual, expected)
        )
    with tarfile.open(archive) as handle:
        for member in handle.getmembers():
            if member.name.startswith("/") or ".." in member.name.split("/") or not (member.isfile() or member.isdir()):
                raise ValueError("%s: member %r is not a plain relative file" % (archive, member.name))
        # Every member was checked above (plain, relative, no ..): the filter="data" of newer Pythons, by hand.
        handle.extractall(target)  # noqa: S202


def configure(root, repo, params):
    """Sources, pins and apt.conf under root: the repository is the only source."""
    os.makedirs(root, exist_ok=True)
    key = os.path.join(root, "signing-key.asc")
    write(key, params["signing_key"].strip() + "\n")
    suites = [entry["suite"] for entry in params["suites"]]
    pins = "\n".join(pin(entry["suite"], entry["priority"]) for entry in params["suites"] if entry["priority"] != 500)
    return write_root(
        root,
        {"wandb-offline.sources": deb822_source(["file:" + repo], suites, [COMPONENT], key)},
        {"wandb-offline.pref": pins},
    )


def refresh(module, config):
    rc, _out, err = module.run_command(UPDATE_ARGV, environ_update={"APT_CONFIG": config, "LC_ALL": "C"})
    if rc != 0:
        raise ValueError("apt-get update of the bundle's repository failed (rc %s): %s" % (rc, err.strip()[-2000:]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/var/lib/wandb-offline"),
            index=dict(type="path"),
            index_sha256=dict(type="str", required=True),
            pool=dict(type="path"),
            pool_sha256=dict(type="str", required=True),
            signing_key=dict(type="str", required=True, no_log=False),
            suites=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(suite=dict(type="str", required=True), priority=dict(type="int", default=500)),
            ),
            remove_archives=dict(type="bool", default=True),
        ),
        required_together=[("index", "pool")],
        supports_check_mode=True,
    )
    params = module.params
    if "BEGIN PGP PUBLIC KEY BLOCK" not in params["signing_key"]:
        module.fail_json(msg="signing_key: not an ASCII-armored OpenPGP public key")
    root = params["root"]
    stamp = stamp_of(params)
    config = os.path.join(root, "apt.conf")
    if read(os.path.join(root, "bundle.sha256")) == stamp and os.path.isfile(config):
        module.exit_json(changed=False, installed=True, config=config, stamp=stamp)
    # Without the archives, only the question whether the host has this bundle (before they are copied to it).
    if not params["index"]:
        module.exit_json(changed=False, installed=False, stamp=stamp)
    try:
        if module.check_mode:
            preview = tempfile.mkdtemp(prefix="wandb-offline-check-")
            checked_extract(params["index"], params["index_sha256"], os.path.join(preview, "repo"))
            config = configure(preview, os.path.join(preview, "repo"), params)
            refresh(module, config)
            if params["remove_archives"]:
                os.remove(params["index"])
            module.exit_json(changed=True, installed=False, config=config, stamp=stamp)
        os.makedirs(root, mode=0o755, exist_ok=True)
        incoming = os.path.join(root, "repo.new")
        shutil.rmtree(incoming, ignore_errors=True)
        checked_extract(params["index"], params["index_sha256"], incoming)
        checked_extract(params["pool"], params["pool_sha256"], incoming)
        repo = os.path.join(root, "repo")
        shutil.rmtree(repo, ignore_errors=True)
        os.rename(incoming, repo)
        config = configure(root, repo, params)
        refresh(module, config)
        write(os.path.join(root, "bundle.sha256"), stamp)
    except (OSError, ValueError, tarfile.TarError) as exc:
        module.fail_json(msg="offline_repository: %s" % exc)
    if params["remove_archives"]:
        for archive in (params["index"], params["pool"]):
            if os.path.exists(archive):
                os.remove(archive)
    module.exit_json(changed=True, installed=True, config=config, stamp=stamp)


if __name__ == "__main__":
    main()
