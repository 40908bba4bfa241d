# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (tier_endpoint.yml, external_endpoint.yml):
# a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

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


class FilterModule(object):
    def filters(self):
        return {"tier_endpoint": tier_endpoint, "external_endpoint": external_endpoint}
