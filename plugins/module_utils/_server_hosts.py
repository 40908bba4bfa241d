# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The W&B server hosts as the server and proxy roles see them: which are active, where to send requests.

Exactly one host of the server group is active; the others are standby (wandb_server_standby:
true in the inventory), image present and container stopped, and the proxy lists them as backups.

Private to the collection: used by the active_servers and server_upstreams filter plugins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import ansible_bool

DEFAULT_PORT = 8080


def _standby(host, host_vars):
    return ansible_bool(host_vars.get(host, {}).get("wandb_server_standby", False), "wandb_server_standby of %s" % host)


def active_servers(hosts, host_vars):
    """The hosts that are not standby, in the order given."""
    return [host for host in hosts if not _standby(host, host_vars)]


def server_upstreams(hosts, host_vars):
    """[{address, backup}] for the proxy: active hosts first, then the standby hosts as backups.

    The address is the host and port of what the host published (wandb_server_endpoint, when the
    server role ran before the proxy), else its ansible_host (or name) with its wandb_server_port
    (or 8080).
    """
    upstreams = []
    for host in hosts:
        variables = host_vars.get(host, {})
        endpoint = variables.get("wandb_server_endpoint")
        if isinstance(endpoint, dict) and "host" in endpoint and "port" in endpoint:
            address = "%s:%s" % (endpoint["host"], endpoint["port"])
        else:
            address = "%s:%s" % (variables.get("ansible_host", host), variables.get("wandb_server_port", DEFAULT_PORT))
        upstreams.append({"address": address, "backup": _standby(host, host_vars)})
    return sorted(upstreams, key=lambda upstream: upstream["backup"])
