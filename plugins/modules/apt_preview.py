#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: apt_preview
short_description: A throw-away apt configuration that sees package sources a real run would add first
version_added: 0.3.0
description:
  - Check mode on a new host cannot ask apt about packages from a source that the real run adds earlier in the same
    play (the source file is not written in check mode), and Ansible's apt module does not refresh package lists in
    check mode, so on a host that never ran C(apt-get update) it knows no package at all.
  - With O(state=present) this module makes a private apt configuration in a new temporary directory - the host's
    own sources and preferences plus the O(sources) and O(preferences) given, package lists of their own - and
    refreshes those lists. The host's own apt configuration, package lists and caches are not touched.
  - Tasks that pass the returned RV(environment) (C(APT_CONFIG)) to M(ansible.builtin.apt) in check mode, or to
    C(apt-get)/C(apt-cache) commands, then see the packages as the real run would.
  - O(state=absent) removes the directory again.
author:
  - wandb_local.fleet maintainers (@wandb-local)
requirements:
  - apt-get on the managed host (Debian and Ubuntu)
options:
  state:
    description: V(present) makes the configuration and refreshes its lists; V(absent) removes O(path).
    type: str
    default: present
    choices: [present, absent]
  packages:
    description:
      - The packages the real run would install. When every one of them is installed already, no preview is made
        (RV(environment) is empty and RV(path) is not returned), because apt needs no lists to leave them as they
        are.
    type: list
    elements: str
    default: []
  preview:
    description:
      - V(false) only reads which of O(packages) are missing (RV(missing)) and makes no configuration, which is what a
        real run needs to decide whether apt must run at all. One C(dpkg-query) costs a fraction of a second where
        M(ansible.builtin.apt) loads every package list first (seconds on a host with a rolling suite's lists), even
        when everything is installed.
      - Roles pass the play's check mode (C(ansible_check_mode)) here and run apt only for RV(missing).
    type: bool
    default: true
  config:
    description:
      - An apt configuration file to install with instead of the host's own (C(APT_CONFIG)), the offline bundle's
        repository, which the C(wandb_local.fleet.offline) role prepared with fresh package lists (its
        C(wandb_offline_apt_config) fact, docs/role-conventions.md). Returned as RV(environment) whenever a package is
        missing, in check mode too; no preview is made then (the bundle's lists are complete already), and
        O(sources) and O(preferences) are ignored (the bundle holds every package the roles install).
    type: path
  sources:
    description:
      - Extra source files (file name under C(sources.list.d) to content, one-line or deb822 format), as the real
        run would write them. A name the host already has is replaced in the preview only.
    type: dict
    default: {}
  preferences:
    description: Extra pin files (file name under C(preferences.d) to content).
    type: dict
    default: {}
  path:
    description: The directory to remove, for O(state=absent) (RV(path) of an earlier O(state=present)).
    type: path
attributes:
  check_mode:
    support: full
    details:
      - The module does the same in check mode and outside it. It writes only in its own temporary directory, and
        always reports no change.
  diff_mode:
    support: none
    details:
      - Nothing on the host changes, so there is nothing to show.
  idempotent:
    support: full
    details:
      - Reports no change every time; each O(state=present) makes a new directory.
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
notes:
  - Refreshing the lists downloads the indexes of every source, as C(apt-get update) does.
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: See the packages of the suite this role would add (check mode)
  wandb_local.fleet.apt_preview:
    sources:
      extra-suite.sources: "{{ __extra_suite_source }}"
  register: preview
  when: ansible_check_mode

- name: Install from it (check mode simulates against the preview)
  ansible.builtin.apt:
    name: mysql-server
    default_release: sid
  environment: "{{ preview.environment | default({}) }}"

- name: Remove the preview
  wandb_local.fleet.apt_preview:
    state: absent
    path: "{{ preview.path }}"
  when: preview.path is defined

# A rerun on a converged host: one dpkg-query, and apt (with its package lists) only for what is missing.
- name: Read which packages are missing (and preview the lists in check mode)
  wandb_local.fleet.apt_preview:
    packages: [redis-server, redis-tools]
    preview: "{{ ansible_check_mode }}"
  register: packages

- name: Install what is missing
  ansible.builtin.apt:
    name: "{{ packages.missing }}"
    update_cache: true
    cache_valid_time: 3600
  environment: "{{ packages.environment }}"
  when: packages.missing | length > 0
"""

RETURN = r"""
missing:
  description: Those of O(packages) that are not installed.
  returned: state=present
  type: list
  elements: str
path:
  description: The temporary directory holding the configuration and its lists.
  returned: state=present, when a preview was made (O(preview) true and a package missing, or no O(packages))
  type: str
  sample: /tmp/wandb-apt-preview-x1y2z3
environment:
  description: What to pass as a task's C(environment) to use the configuration (empty when no preview was made).
  returned: state=present
  type: dict
  sample: {APT_CONFIG: /tmp/wandb-apt-preview-x1y2z3/apt.conf}
update_stderr_lines:
  description: What C(apt-get update) printed on standard error (warnings about sources, if any).
  returned: state=present, when a preview was made
  type: list
  elements: str
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wandb_local.fleet.plugins.module_utils._apt_config import apt_config

APT_ETC = "/etc/apt"
APT_LISTS = "/var/lib/apt/lists"


def _safe_name(kind, name):
    if not name or "/" in name or name.startswith("."):
        raise ValueError("%s: %r is not a plain file name" % (kind, name))
    return name


def _copy_parts(source_dir, target_dir, extra, kind):
    os.makedirs(target_dir)
    if os.path.isdir(source_dir):
        for name in os.listdir(source_dir):
            if os.path.isfile(os.path.join(source_dir, name)):
                shutil.copy2(os.path.join(source_dir, name), os.path.join(target_dir, name))
    for name, content in extra.items():
        with open(os.path.join(target_dir, _safe_name(kind, name)), "w") as handle:
            handle.write(content if content.endswith("\n") else content + "\n")


def _seed_lists(target):
    """The host's lists as a start, so apt fetches only what changed (hard links where possible)."""
    os.makedirs(os.path.join(target, "partial"))
    if not os.path.isdir(APT_LISTS):
        return
    for name in os.listdir(APT_LISTS):
        source = os.path.join(APT_LISTS, name)
        if name == "lock" or not os.path.isfile(source):
            continue
        try:
            os.link(source, os.path.join(target, name))
        except OSError:
            shutil.copy2(source, os.path.join(target, name))


def make_preview(module, sources, preferences):
    root = tempfile.mkdtemp(prefix="wandb-apt-preview-")
    try:
        for name in ("sources.list", "preferences"):
            if os.path.isfile(os.path.join(APT_ETC, name)):
                shutil.copy2(os.path.join(APT_ETC, name), os.path.join(root, name))
        _copy_parts(os.path.join(APT_ETC, "sources.list.d"), os.path.join(root, "sources.list.d"), sources, "sources")
        _copy_parts(
            os.path.join(APT_ETC, "preferences.d"), os.path.join(root, "preferences.d"), preferences, "preferences"
        )
        _seed_lists(os.path.join(root, "lists"))
        os.makedirs(os.path.join(root, "cache", "archives", "partial"))
        config = os.path.join(root, "apt.conf")
        with open(config, "w") as handle:
            handle.write(apt_config(root))
        environment = {"APT_CONFIG": config, "LC_ALL": "C"}
        rc, _out, err = module.run_command(["apt-get", "update", "-q"], environ_update=environment)
        if rc != 0:
            raise RuntimeError("apt-get update with the previewed sources failed (rc %s): %s" % (rc, err.strip()))
    except (OSError, ValueError, RuntimeError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        module.fail_json(msg="apt_preview: %s" % exc)
    return {
        "path": root,
        "environment": {"APT_CONFIG": config},
        "update_stderr_lines": err.splitlines(),
    }


def missing_packages(module, packages):
    """Those of `packages` dpkg does not list as installed."""
    if not packages:
        return []
    rc, out, err = module.run_command(
        ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Abbrev}\\n", *packages],
        environ_update={"LC_ALL": "C"},
    )
    # dpkg-query exits 1 when it has never heard of one of the names.
    if rc not in (0, 1):
        module.fail_json(msg="apt_preview: dpkg-query failed (rc %s): %s" % (rc, err.strip()))
    installed = {line.split()[0] for line in out.splitlines() if line.split()[1:2] == ["ii"]}
    return [package for package in packages if package.split("=")[0] not in installed]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            packages=dict(type="list", elements="str", default=[]),
            preview=dict(type="bool", default=True),
            sources=dict(type="dict", default={}),
            preferences=dict(type="dict", default={}),
            path=dict(type="path"),
            config=dict(type="path"),
        ),
        required_if=[("state", "absent", ["path"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "absent":
        path = params["path"]
        if not os.path.basename(path.rstrip("/")).startswith("wandb-apt-preview-"):
            module.fail_json(msg="path: %s is not a directory this module made (wandb-apt-preview-*)" % path)
        shutil.rmtree(path, ignore_errors=True)
        module.exit_json(changed=False)
    for option in ("sources", "preferences"):
        for name, content in params[option].items():
            if not isinstance(content, str):
                kind = type(content).__name__
                module.fail_json(msg="%s: the content of %s must be a string, not %s" % (option, name, kind))
    missing = missing_packages(module, params["packages"])
    if params["config"]:
        if not os.path.isfile(params["config"]):
            module.fail_json(msg="config: %s does not exist (the offline role writes it)" % params["config"])
        environment = {"APT_CONFIG": params["config"]} if missing or not params["packages"] else {}
        module.exit_json(changed=False, missing=missing, environment=environment)
    if (params["packages"] and not missing) or not params["preview"]:
        module.exit_json(changed=False, missing=missing, environment={})
    preview = make_preview(module, params["sources"], params["preferences"])
    module.exit_json(changed=False, missing=missing, **preview)


if __name__ == "__main__":
    main()
