# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (active_servers.yml, server_upstreams.yml):
# a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    host_list,
    host_vars_subset,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._server_hosts import (
    active_servers as _active_servers,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._server_hosts import (
    server_upstreams as _server_upstreams,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_restore_state import container_in_restore_mode

_UPSTREAM_VARS = ("wandb_server_endpoint", "ansible_host", "wandb_server_port", "wandb_server_standby")


def active_servers(hosts, hostvars):
    try:
        hosts = host_list(hosts, "the server hosts (wandb_server_group)")
        return _active_servers(hosts, host_vars_subset(hostvars, hosts, ("wandb_server_standby",)))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.active_servers: %s" % exc) from None


def server_upstreams(hosts, hostvars):
    try:
        hosts = host_list(hosts, "the server hosts (wandb_proxy_server_group)")
        return _server_upstreams(hosts, host_vars_subset(hostvars, hosts, _UPSTREAM_VARS))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.server_upstreams: %s" % exc) from None


def restore_mode_running(container_info):
    """Whether a community.docker.docker_container_info result (or its `container`) shows a
    container started with LOCAL_RESTORE on. A skipped task, a missing container: false."""
    if not isinstance(container_info, dict):
        return False
    container = container_info.get("container", container_info)
    if not isinstance(container, dict):
        return False
    config = container.get("Config") or {}
    if not isinstance(config, dict):
        raise AnsibleFilterError("wandb_local.fleet.restore_mode_running: Config is not a mapping")
    return container_in_restore_mode(config.get("Env"))


class FilterModule(object):
    def filters(self):
        return {
            "active_servers": active_servers,
            "restore_mode_running": restore_mode_running,
            "server_upstreams": server_upstreams,
        }
