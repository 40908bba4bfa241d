# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The endpoint the redis role publishes (`wandb_redis_endpoint`), computed from one host's inputs.

The same function serves the end of the role (the host publishes its own endpoint) and the role's
`publish` entry point (another host computes it from the inventory and the controller's secrets
directory, changing no host). Every host of an installation publishes the same endpoint: with
Sentinel, the first sentinel (W&B's Sentinel URL names one sentinel and the master's name).

Messages name the input and the host, never the password.

Private to the collection: used by the redis_endpoint filter plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.wandb_local.fleet.plugins.module_utils._endpoint_inputs import (
    ca_file,
    format_host,
    host_name_of,
    port_of,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._endpoint_inputs import choice as _choice
from ansible_collections.wandb_local.fleet.plugins.module_utils._endpoint_inputs import field as _field
from ansible_collections.wandb_local.fleet.plugins.module_utils._endpoint_inputs import required as _required
from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError, ansible_bool
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import WandbUrlError, compose_redis_url

# The inputs the endpoint depends on, read the way the published host has them.
INPUTS = (
    "wandb_redis_flavor",
    "wandb_redis_address",
    "wandb_redis_port",
    "wandb_redis_tls_port",
    "wandb_redis_tls_mode",
    "wandb_redis_tls_ca_src",
    "wandb_redis_acl_user",
    "wandb_redis_password",
    "wandb_redis_sentinel_enabled",
    "wandb_redis_sentinels",
    "wandb_redis_sentinel_port",
    "wandb_redis_sentinel_tls_port",
    "wandb_redis_sentinel_master_name",
    "wandb_redis_url_host",
    "wandb_redis_url_ca_cert_path",
    "wandb_redis_url_ttl_in_seconds",
    "wandb_secrets_dir",
)
# What is read of the first sentinel (from the inventory, hostvars): the address clients reach it by.
SENTINEL_INPUTS = ("wandb_redis_address",)

# The configuration directory of each flavour, the same on every platform (roles/redis/vars/main.yml,
# kept equal by tests/unit): the CA is installed in its tls/ subdirectory.
CONFIG_DIRS = {"redis": "/etc/redis", "valkey": "/etc/valkey"}
TLS_MODES = ("off", "given", "lab_ca")
_MASTER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ACL_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def _port(inputs, name, host):
    return port_of(_required(inputs, name, host), _field(name, host))


def _text(inputs, name, host):
    value = inputs.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FleetInputError("%s must be text, got %s" % (_field(name, host), type(value).__name__))
    return value


def _bool(inputs, name, host):
    return ansible_bool(_required(inputs, name, host), _field(name, host))


def _ttl(inputs, host):
    value = inputs.get("wandb_redis_url_ttl_in_seconds", 0)
    if isinstance(value, str) and value.isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FleetInputError(
            "%s must be a whole number of seconds, 0 to leave it out, got %r"
            % (_field("wandb_redis_url_ttl_in_seconds", host), value)
        )
    return value or None


def _first_sentinel(inputs, host, sentinel_vars):
    sentinels = _required(inputs, "wandb_redis_sentinels", host)
    if not isinstance(sentinels, list) or not sentinels or not all(isinstance(s, str) and s for s in sentinels):
        raise FleetInputError(
            "%s must be a non-empty list of inventory host names with Sentinel" % _field("wandb_redis_sentinels", host)
        )
    first = sentinels[0]
    if sentinel_vars is None:
        raise FleetInputError(
            "%s names %r first, which is not in the inventory" % (_field("wandb_redis_sentinels", host), first)
        )
    return first, sentinel_vars.get("wandb_redis_address") or first


def redis_endpoint(inputs, host, password, sentinel_vars=None):
    """`wandb_redis_endpoint` of `host` from its inputs (INPUTS), the data password and, with Sentinel,
    the first sentinel's SENTINEL_INPUTS as the inventory has them (None: it is not in the inventory).

    env.REDIS is the W&B REDIS URL (credentials URL-encoded by compose_redis_url): the data node, or
    with Sentinel the first sentinel and the master's name; url names the same server without
    credentials; ca_file is the controller path of the CA that verifies it ('' with TLS off)."""
    if not isinstance(inputs, dict):
        raise FleetInputError("the inputs of %s must be a mapping of variable names to values" % host)
    if not isinstance(password, str) or not password:
        raise FleetInputError(
            "the data password of %s (wandb_redis_password, or the generated one) must be non-empty text" % host
        )
    flavor = _choice(inputs, "wandb_redis_flavor", host, tuple(sorted(CONFIG_DIRS)))
    mode = _choice(inputs, "wandb_redis_tls_mode", host, TLS_MODES)
    tls = mode != "off"
    sentinel = _bool(inputs, "wandb_redis_sentinel_enabled", host)
    if sentinel:
        owner, address = _first_sentinel(inputs, host, sentinel_vars)
        port = _port(inputs, "wandb_redis_sentinel_tls_port" if tls else "wandb_redis_sentinel_port", host)
        master = inputs.get("wandb_redis_sentinel_master_name")
        if not isinstance(master, str) or not _MASTER_NAME.match(master):
            raise FleetInputError(
                "%s must be letters, digits, '.', '_' or '-', got %r"
                % (_field("wandb_redis_sentinel_master_name", host), master)
            )
    else:
        owner, address = host, inputs.get("wandb_redis_address") or host
        port = _port(inputs, "wandb_redis_tls_port" if tls else "wandb_redis_port", host)
        master = None
    url_host = _text(inputs, "wandb_redis_url_host", host)
    if url_host:
        server = host_name_of(url_host, _field("wandb_redis_url_host", host))
    else:
        server = host_name_of(address, _field("wandb_redis_address", owner))
    user = _text(inputs, "wandb_redis_acl_user", host)
    if user and not _ACL_USER.match(user):
        raise FleetInputError(
            "%s must be empty or a user name of letters, digits, '_', '.' and '-', got %r"
            % (_field("wandb_redis_acl_user", host), user)
        )
    ca_cert_path = None
    if tls:
        ca_cert_path = _text(inputs, "wandb_redis_url_ca_cert_path", host) or CONFIG_DIRS[flavor] + "/tls/ca.crt"
    parts = {
        "host": server,
        "port": port,
        "username": user or None,
        "password": password,
        "tls": tls,
        "ca_cert_path": ca_cert_path,
        "ttl_in_seconds": _ttl(inputs, host),
        "sentinel_master": master,
    }
    try:
        url = compose_redis_url(parts)
    except WandbUrlError as exc:
        # The composer's messages name the part; they never repeat the password.
        raise FleetInputError("the REDIS URL of %s: %s" % (host, exc)) from None
    return {
        "env": {"REDIS": url},
        "url": "redis://%s:%d" % (format_host(server), port),
        "host": server,
        "port": port,
        "tls": tls,
        "ca_file": ca_file(inputs, host, mode, "wandb_redis_tls_ca_src"),
    }
