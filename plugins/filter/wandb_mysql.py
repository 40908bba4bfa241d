# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (mysql_server_candidate.yml,
# mysql_server_ids.yml): a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    host_list,
    host_vars_subset,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_checks import server_candidate, server_ids
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain


def mysql_server_candidate(apt_result, mysql_installed, mariadb_installed):
    try:
        return server_candidate(plain(apt_result), plain(mysql_installed), plain(mariadb_installed))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.mysql_server_candidate: %s" % exc) from None


def mysql_server_ids(hosts, hostvars):
    try:
        hosts = host_list(hosts, "the hosts of the group (wandb_mysql_group)")
        return server_ids(hosts, host_vars_subset(hostvars, hosts, ("wandb_mysql_server_id",)))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.mysql_server_ids: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {"mysql_server_candidate": mysql_server_candidate, "mysql_server_ids": mysql_server_ids}
