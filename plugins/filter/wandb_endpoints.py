# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (tier_endpoint.yml, external_endpoint.yml,
# host_inputs.yml):
# a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError, host_vars_subset
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    EndpointError,
    check_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    external_endpoint as _external_endpoint,
)


def tier_endpoint(value, tier):
    """A role's published endpoint, checked against the contract (the role calls it as it publishes)."""
    try:
        return check_endpoint(tier, plain(value))
    except EndpointError as exc:
        raise AnsibleFilterError("wandb_local.fleet.tier_endpoint: %s" % exc) from None


def external_endpoint(value, tier, name):
    """An external service given in the contract's shape, completed from its URL."""
    try:
        return _external_endpoint(tier, plain(value), name)
    except EndpointError as exc:
        raise AnsibleFilterError("wandb_local.fleet.external_endpoint: %s" % exc) from None


def host_inputs(current, hostvars, host):
    """A role's inputs as `host` has them, for a publish entry point computing `host`'s endpoint from
    another host: each name takes `host`'s own inventory value, else the value given (the role's
    default as this host sees it). Only the given names are read from `host`."""
    try:
        current = plain(current)
        if not isinstance(current, dict):
            raise FleetInputError("the inputs must be a mapping of variable names to this host's values")
        if not isinstance(host, str) or not host:
            raise FleetInputError("host must be an inventory host name")
        if host not in hostvars:
            raise FleetInputError("host %r is not in the inventory" % host)
        inputs = dict(current)
        inputs.update(host_vars_subset(hostvars, [host], list(current))[host])
        return inputs
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.host_inputs: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {"tier_endpoint": tier_endpoint, "external_endpoint": external_endpoint, "host_inputs": host_inputs}
