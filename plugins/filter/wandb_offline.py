# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filter is documented in offline_apt_plan.yml next to this file.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._offline_bundle import apt_plan
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain

DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def offline_apt_plan(
    release,
    packages,
    sources,
    extra_suite="",
    extra_suite_uris=None,
    extra_packages=None,
    extra_priority=100,
    keyring=DEBIAN_KEYRING,
):
    packages, sources = plain(packages), plain(sources)
    if not isinstance(packages, list) or not isinstance(sources, list):
        raise AnsibleFilterError("wandb_local.fleet.offline_apt_plan: packages and sources must be lists")
    apt_sources, apt_groups = apt_plan(
        plain(release),
        packages,
        sources,
        plain(extra_suite) or "",
        plain(extra_suite_uris) or [],
        plain(extra_packages) or [],
        int(extra_priority),
        plain(keyring),
    )
    return {"apt_sources": apt_sources, "apt_groups": apt_groups}


class FilterModule(object):
    def filters(self):
        return {"offline_apt_plan": offline_apt_plan}
