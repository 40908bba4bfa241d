# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading a tier role's inputs for its endpoint: what the mysql and redis endpoints share.

Messages name the input and the host (`<name> of <host>`), never a value that may be a secret
beyond what the rule shows.

Private to the collection: used by _mysql_endpoint and _redis_endpoint.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import WandbUrlError, validate_host


def field(name, host):
    return "%s of %s" % (name, host)


def required(inputs, name, host):
    if name not in inputs:
        raise FleetInputError("%s is missing from the inputs" % field(name, host))
    return inputs[name]


def choice(inputs, name, host, choices):
    value = required(inputs, name, host)
    if value not in choices:
        raise FleetInputError("%s must be one of %s, got %r" % (field(name, host), ", ".join(choices), value))
    return value


def port_of(value, field):
    """A TCP port: an int or its digits as text, 1 to 65535."""
    if isinstance(value, str) and value.isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise FleetInputError("%s must be a port number from 1 to 65535, got %r" % (field, value))
    return value


def host_name_of(value, field):
    try:
        return validate_host(value, field)
    except WandbUrlError as exc:
        raise FleetInputError(str(exc)) from None


def controller_path(value, field):
    """A path on the controller, absolute (a relative one is read from the controller's working directory)."""
    if not isinstance(value, str) or not value:
        raise FleetInputError("%s must be a path on the controller, got %r" % (field, value))
    return os.path.abspath(os.path.expanduser(value))


def format_host(host):
    return "[%s]" % host if ":" in host else host


def ca_file(inputs, host, mode, given_input):
    """The controller path of the CA that verifies a tier: '' with TLS off, the given CA file
    (`given_input` names its input), else the controller CA under wandb_secrets_dir."""
    if mode == "off":
        return ""
    if mode == "given":
        return controller_path(inputs.get(given_input), field(given_input, host))
    secrets_dir = controller_path(inputs.get("wandb_secrets_dir"), field("wandb_secrets_dir", host))
    return os.path.join(secrets_dir, "ca", "ca.crt")
