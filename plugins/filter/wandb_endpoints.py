# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (tier_endpoint.yml,
# external_endpoint.yml, host_inputs.yml, ...):
# a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter.wandb_deprecations import warn_deprecated
from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    check_host,
    host_list,
    host_vars_subset,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    SITE_GROUPS,
    TIERS,
    EndpointError,
    check_endpoint,
    fact_name,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    external_endpoint as _external_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    server_endpoints as _server_endpoints,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    server_environment as _server_environment,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    site_endpoints as _site_endpoints,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    unpublished_hosts as _unpublished_hosts,
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
        check_host(host, hostvars)
        if host not in hostvars:
            raise FleetInputError("host %r is not in the inventory" % host)
        inputs = dict(current)
        inputs.update(host_vars_subset(hostvars, [host], list(current))[host])
        return inputs
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.host_inputs: %s" % exc) from None


def _fail(filter_name, exc):
    raise AnsibleFilterError("wandb_local.fleet.%s: %s" % (filter_name, exc)) from None


def unpublished_hosts(hosts, hostvars, role):
    """The hosts of a tier's group whose wandb_<role>_endpoint is not set in this play run."""
    try:
        hosts = host_list(hosts, "the %s hosts" % role)
        tier = dict((r, t) for t, r in ((t, TIERS[t][0]) for t in TIERS)).get(role)
        if tier is None:
            raise FleetInputError("role must be one of %s, got %r" % (", ".join(TIERS[t][0] for t in TIERS), role))
        fact = fact_name(tier)
        return _unpublished_hosts(hosts, host_vars_subset(hostvars, hosts, (fact,)), fact)
    except (FleetInputError, EndpointError) as exc:
        _fail("unpublished_hosts", exc)


def site_endpoints(groups, hostvars):
    """{tier: endpoint} of the tiers the site runs itself (their groups have hosts)."""
    try:
        groups = plain(groups)
        if not isinstance(groups, dict):
            raise FleetInputError("groups must be Ansible's groups")
        firsts = [hosts[0] for _tier, group in SITE_GROUPS for hosts in [groups.get(group) or []] if hosts]
        facts = [fact_name(tier) for tier, _group in SITE_GROUPS]
        return _site_endpoints(groups, host_vars_subset(hostvars, firsts, facts))
    except (FleetInputError, EndpointError) as exc:
        _fail("site_endpoints", exc)


def server_endpoints(site, external, legacy):
    """The endpoints the server uses; warns once per deprecated input that was read."""
    try:
        endpoints, deprecated = _server_endpoints(plain(site) or {}, plain(external), plain(legacy))
    except EndpointError as exc:
        _fail("server_endpoints", exc)
    for old, new in deprecated:
        warn_deprecated(old, new, "give the service as %s (see the server role's README)" % new)
    return endpoints


def server_environment(endpoints, host_url, license_key):
    """The W&B variables the server role manages (every endpoint's env, HOST, LICENSE)."""
    return _server_environment(plain(endpoints), plain(host_url), plain(license_key))


class FilterModule(object):
    def filters(self):
        return {
            "tier_endpoint": tier_endpoint,
            "external_endpoint": external_endpoint,
            "host_inputs": host_inputs,
            "unpublished_hosts": unpublished_hosts,
            "site_endpoints": site_endpoints,
            "server_endpoints": server_endpoints,
            "server_environment": server_environment,
        }
