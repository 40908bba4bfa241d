# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (redis_primary.yml, redis_config_state.yml,
# redis_endpoint.yml): a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    check_host,
    host_list,
    host_vars_subset,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._redis_endpoint import SENTINEL_INPUTS
from ansible_collections.wandb_local.fleet.plugins.module_utils._redis_endpoint import (
    redis_endpoint as _redis_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._redis_topology import config_state, elect_primary

# What redis_primary reads of each data node and sentinel, and nothing else.
_PRIMARY_FACTS = (
    "__wandb_redis_said_primary",
    "__wandb_redis_live_role",
    "__wandb_redis_file_replicaof",
    "__wandb_redis_node_address",
    "ansible_facts",
)
_ADDRESS_FACTS = {"ansible_facts": ("all_ipv4_addresses", "all_ipv6_addresses")}


def redis_config_state(server_text, sentinel_text, marker, master_name, cli, ca_file):
    try:
        return config_state(
            plain(server_text), plain(sentinel_text), plain(marker), plain(master_name), plain(cli), plain(ca_file)
        )
    except FleetInputError as exc:
        # The messages name the input, never the files' content (they hold passwords).
        raise AnsibleFilterError("wandb_local.fleet.redis_config_state: %s" % exc) from None


def redis_primary(servers, hostvars, sentinels, quorum, port, inventory_primary=""):
    try:
        servers = host_list(servers, "the data nodes (wandb_redis_servers)")
        sentinels = host_list(sentinels, "the sentinels (wandb_redis_sentinels)")
        inventory_primary = plain(inventory_primary) or ""
        if not isinstance(inventory_primary, str):
            raise FleetInputError("inventory_primary (wandb_redis_sentinel_primary) must be a host name or empty")
        hosts = list(dict.fromkeys(servers + sentinels + ([inventory_primary] if inventory_primary else [])))
        facts = host_vars_subset(hostvars, hosts, _PRIMARY_FACTS, _ADDRESS_FACTS)
        return elect_primary(servers, sentinels, facts, plain(quorum), plain(port), inventory_primary)
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.redis_primary: %s" % exc) from None


def redis_endpoint(inputs, hostvars, host, password):
    """`host`'s wandb_redis_endpoint from its inputs; with Sentinel the first sentinel is read from
    hostvars (only SENTINEL_INPUTS of it)."""
    try:
        inputs = plain(inputs)
        check_host(host, hostvars)
        sentinel_vars = None
        sentinels = inputs.get("wandb_redis_sentinels") if isinstance(inputs, dict) else None
        if isinstance(sentinels, list) and sentinels and isinstance(sentinels[0], str) and sentinels[0] in hostvars:
            sentinel_vars = host_vars_subset(hostvars, sentinels[:1], SENTINEL_INPUTS)[sentinels[0]]
        return _redis_endpoint(inputs, host, plain(password), sentinel_vars)
    except FleetInputError as exc:
        # The messages name the input and the host, never the password.
        raise AnsibleFilterError("wandb_local.fleet.redis_endpoint: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {
            "redis_config_state": redis_config_state,
            "redis_primary": redis_primary,
            "redis_endpoint": redis_endpoint,
        }
