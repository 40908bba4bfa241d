# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (mysql_server_candidate.yml,
# mysql_server_ids.yml, mysql_endpoint.yml, mysql_failover_plan.yml): a plugin file that defines
# several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    check_host,
    host_list,
    host_vars_subset,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_checks import server_candidate, server_ids
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_endpoint import PRIMARY_INPUTS
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_endpoint import (
    mysql_endpoint as _mysql_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_failover import failover_plan
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


def mysql_endpoint(inputs, hostvars, host, password):
    """`host`'s wandb_mysql_endpoint from its inputs; a replica's primary is read from hostvars (only
    PRIMARY_INPUTS of it)."""
    try:
        inputs = plain(inputs)
        check_host(host, hostvars)
        primary_vars = None
        if isinstance(inputs, dict) and inputs.get("wandb_mysql_replication_role") == "replica":
            primary = plain(inputs.get("wandb_mysql_replication_primary"))
            if isinstance(primary, str) and primary and primary in hostvars:
                primary_vars = host_vars_subset(hostvars, [primary], PRIMARY_INPUTS)[primary]
        return _mysql_endpoint(inputs, host, plain(password), primary_vars)
    except FleetInputError as exc:
        # The messages name the input and the host, never the password.
        raise AnsibleFilterError("wandb_local.fleet.mysql_endpoint: %s" % exc) from None


# What mysql-failover.yml reads of each MySQL host: its place in the inventory's topology and what its
# server said in this run (the role's replication-state entry point sets the fact).
_FAILOVER_VARS = ("wandb_mysql_replication_role", "wandb_mysql_replication_primary", "wandb_mysql_replication_state")


def mysql_failover_plan(hosts, hostvars, target="", planned=False):
    try:
        hosts = host_list(hosts, "the hosts of the group (wandb_mysql)")
        found = host_vars_subset(hostvars, hosts, _FAILOVER_VARS)
        inventory = dict(
            (
                host,
                {
                    # The role's default when the inventory does not set it.
                    "role": found[host].get("wandb_mysql_replication_role", "none"),
                    "primary": found[host].get("wandb_mysql_replication_primary"),
                },
            )
            for host in hosts
        )
        states = dict((host, found[host].get("wandb_mysql_replication_state")) for host in hosts)
        return failover_plan(inventory, states, plain(target), plain(planned))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.mysql_failover_plan: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {
            "mysql_server_candidate": mysql_server_candidate,
            "mysql_server_ids": mysql_server_ids,
            "mysql_endpoint": mysql_endpoint,
            "mysql_failover_plan": mysql_failover_plan,
        }
