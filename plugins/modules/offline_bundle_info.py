#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: offline_bundle_info
short_description: Check an offline bundle before anything of it is used
version_added: 0.3.0
description:
  - Reads the manifest of a bundle made by M(wandb_local.fleet.offline_bundle) and checks every file it lists
    (present, size, sha256), that it lists every file the bundle holds, and that it was made for this collection's
    version. Fails naming each problem, so a corrupted or foreign bundle is refused before any host is touched.
  - Run it where the bundle is, on the controller (C(delegate_to) localhost).
author:
  - wandb_local.fleet maintainers (@wandb-local)
options:
  path:
    description: The bundle's directory (its tarball unpacked).
    type: path
    required: true
  collection_version:
    description: This collection's version; a bundle made for another is refused.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    details:
      - Reads only.
  diff_mode:
    support: none
    details:
      - Reads only.
  idempotent:
    support: full
    details:
      - Reads only.
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
"""

EXAMPLES = r"""
- name: Check the bundle
  wandb_local.fleet.offline_bundle_info:
    path: /srv/wandb-bundle
    collection_version: 0.3.0
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
manifest:
  description: The bundle's manifest, its files checked.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wandb_local.fleet.plugins.module_utils import _offline_bundle as bundle


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            collection_version=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    manifest, problem = bundle.read_manifest(module.params["path"])
    if problem:
        module.fail_json(msg="wandb_offline_bundle: %s" % problem)
    problems = bundle.manifest_problems(module.params["path"], manifest, module.params["collection_version"])
    if problems:
        module.fail_json(
            msg="wandb_offline_bundle: %s is refused, nothing was installed: %s"
            % (module.params["path"], "; ".join(problems)),
            problems=problems,
        )
    module.exit_json(changed=False, manifest=manifest)


if __name__ == "__main__":
    main()
