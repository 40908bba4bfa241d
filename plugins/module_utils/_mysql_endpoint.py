# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The endpoint the mysql role publishes (`wandb_mysql_endpoint`), computed from one host's inputs.

The same function serves the end of the role (the host publishes its own endpoint) and the role's
`publish` entry point (another host computes it from the inventory and the controller's secrets
directory, changing no host). Every host of a group publishes the installation-wide endpoint: a
replica names its primary, because W&B writes.

Messages name the input and the host, never the password.

Private to the collection: used by the mysql_endpoint filter plugin.
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
from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import (
    WandbUrlError,
    compose_mysql_url,
)

# The inputs the endpoint depends on, read the way the published host has them.
INPUTS = (
    "wandb_mysql_port",
    "wandb_mysql_advertise_host",
    "wandb_mysql_database",
    "wandb_mysql_wandb_user",
    "wandb_mysql_wandb_password",
    "wandb_mysql_replication_role",
    "wandb_mysql_replication_primary",
    "wandb_mysql_tls_mode",
    "wandb_mysql_tls_ca_file",
    "wandb_mysql_url_tls",
    "wandb_mysql_url_ssl_ca",
    "wandb_secrets_dir",
)
# What is read of a replica's primary (from the inventory, hostvars): where it answers.
PRIMARY_INPUTS = ("wandb_mysql_advertise_host", "wandb_mysql_port")

ROLES = ("none", "primary", "replica")
TLS_MODES = ("off", "given", "lab_ca")
URL_TLS = ("custom", "preferred", "true", "skip-verify")
_DATABASE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_USER = re.compile(r"^[A-Za-z0-9_]{1,32}$")


def _matching(inputs, name, host, pattern, rule):
    value = _required(inputs, name, host)
    if not isinstance(value, str) or not pattern.match(value):
        raise FleetInputError("%s must be %s, got %r" % (_field(name, host), rule, value))
    return value


def _primary(inputs, host, primary_vars):
    """(host, port) where W&B writes: this host, or a replica's primary as the inventory names it."""
    port = port_of(_required(inputs, "wandb_mysql_port", host), _field("wandb_mysql_port", host))
    role = _choice(inputs, "wandb_mysql_replication_role", host, ROLES)
    if role != "replica":
        advertise = inputs.get("wandb_mysql_advertise_host") or host
        return host_name_of(advertise, _field("wandb_mysql_advertise_host", host)), port
    primary = inputs.get("wandb_mysql_replication_primary")
    if not isinstance(primary, str) or not primary:
        raise FleetInputError(
            "%s must name the primary's inventory host (the host is a replica)"
            % _field("wandb_mysql_replication_primary", host)
        )
    if primary_vars is None:
        raise FleetInputError(
            "%s names %r, which is not in the inventory" % (_field("wandb_mysql_replication_primary", host), primary)
        )
    advertise = primary_vars.get("wandb_mysql_advertise_host") or primary
    primary_port = primary_vars.get("wandb_mysql_port", port)
    return (
        host_name_of(advertise, _field("wandb_mysql_advertise_host", primary)),
        port_of(primary_port, _field("wandb_mysql_port", primary)),
    )


def mysql_endpoint(inputs, host, password, primary_vars=None):
    """`wandb_mysql_endpoint` of `host` from its inputs (INPUTS), the W&B account's password and, for a
    replica, its primary's PRIMARY_INPUTS as the inventory has them (None: the primary is not in it).

    env.MYSQL is the W&B MYSQL URL (credentials URL-encoded by compose_mysql_url); url names the same
    server without credentials; ca_file is the controller path of the CA that verifies it ('' with TLS
    off)."""
    if not isinstance(inputs, dict):
        raise FleetInputError("the inputs of %s must be a mapping of variable names to values" % host)
    if not isinstance(password, str) or not password:
        raise FleetInputError(
            "the password of the W&B account of %s (wandb_mysql_wandb_password, or the generated one) must be "
            "non-empty text" % host
        )
    server, port = _primary(inputs, host, primary_vars)
    database = _matching(inputs, "wandb_mysql_database", host, _DATABASE, "up to 64 letters, digits and '_'")
    user = _matching(inputs, "wandb_mysql_wandb_user", host, _USER, "up to 32 letters, digits and '_'")
    mode = _choice(inputs, "wandb_mysql_tls_mode", host, TLS_MODES)
    tls = ssl_ca = None
    if mode != "off":
        tls = _choice(inputs, "wandb_mysql_url_tls", host, URL_TLS)
        if tls == "custom":
            ssl_ca = inputs.get("wandb_mysql_url_ssl_ca")
            if not isinstance(ssl_ca, str) or not ssl_ca.startswith("/"):
                raise FleetInputError(
                    "%s must be an absolute path on the W&B server host with wandb_mysql_url_tls=custom, got %r"
                    % (_field("wandb_mysql_url_ssl_ca", host), ssl_ca)
                )
    parts = {
        "user": user,
        "password": password,
        "host": server,
        "port": port,
        "database": database,
        "tls": tls,
        "ssl_ca": ssl_ca,
    }
    try:
        url = compose_mysql_url(parts)
    except WandbUrlError as exc:
        # The composer's messages name the part; they never repeat the password.
        raise FleetInputError("the MYSQL URL of %s: %s" % (host, exc)) from None
    return {
        "env": {"MYSQL": url},
        "url": "mysql://%s:%d/%s" % (format_host(server), port, database),
        "host": server,
        "port": port,
        "tls": mode != "off",
        "ca_file": ca_file(inputs, host, mode, "wandb_mysql_tls_ca_file"),
    }
