# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the roles' filters share: reading a few variables of other hosts, and Jinja's conversions.

The roles' decisions used to be Jinja expressions; the filters that replaced them must decide the
same, so the conversions here behave as the Jinja and Ansible filters they replace (`int`,
`bool`, `unique`), except that a value `bool` cannot read is an error instead of a guess.

Private to the collection: used by its filter plugins (controller side).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain

_TRUE = ("1", "on", "true", "yes")
_FALSE = ("0", "off", "false", "no")


class FleetInputError(ValueError):
    """An input of a filter is unusable. The message names the input; it never repeats a secret."""


def host_vars_subset(hostvars, hosts, names, parts=None):
    """{host: {name: value}} for the `names` each of `hosts` defines, as plain values.

    `hostvars` is Ansible's (or any mapping of host to mapping). Only the named variables are
    read, so nothing else of a host is templated (no password lookup runs by accident); `parts`
    maps a name whose value is a mapping (ansible_facts) to the only keys of it to keep. A host
    unknown to `hostvars` defines nothing.
    """
    if not isinstance(hostvars, Mapping):
        raise FleetInputError("hostvars must be a mapping of host names to their variables (pass hostvars)")
    parts = parts or {}
    result = {}
    for host in hosts:
        found = {}
        if host in hostvars:
            variables = hostvars[host]
            for name in names:
                if name not in variables:
                    continue
                value = variables[name]
                if name in parts and isinstance(value, Mapping):
                    value = dict((key, value[key]) for key in parts[name] if key in value)
                found[name] = plain(value)
        result[host] = found
    return result


def check_host(host, hostvars):
    """A filter's `host` and `hostvars` arguments: an inventory name and Ansible's hostvars."""
    if not isinstance(host, str) or not host:
        raise FleetInputError("host must be an inventory host name")
    if not isinstance(hostvars, Mapping):
        raise FleetInputError("hostvars must be a mapping of host names to their variables (pass hostvars)")


def host_list(value, field):
    """A list of host names (inventory names are text)."""
    value = plain(value)
    if not isinstance(value, list):
        raise FleetInputError("%s must be a list of host names, got %s" % (field, type(value).__name__))
    for item in value:
        if not isinstance(item, str) or not item:
            raise FleetInputError("%s must be a list of host names, got an entry %r" % (field, item))
    return value


def jinja_int(value, default=0):
    """Jinja's `int` filter: '42' and '42.7' give 42, what is no number gives `default`."""
    try:
        if isinstance(value, str):
            return int(value, 10)
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return default


def strict_int(value, field):
    """A whole number (an int or its digits as text), else an error naming `field`."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FleetInputError("%s must be a whole number, got %s" % (field, type(value).__name__))
    try:
        return int(value)
    except ValueError:
        raise FleetInputError("%s must be a whole number, got %r" % (field, value)) from None


def ansible_bool(value, field):
    """Ansible's `bool` filter for the values it knows (true/false, yes/no, on/off, 1/0, any case)."""
    if isinstance(value, bool):
        return value
    text = value.lower() if isinstance(value, str) else str(value) if isinstance(value, int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FleetInputError("%s must be a boolean (true/false, yes/no, on/off, 1/0), got %r" % (field, value))


def ansible_unique(values):
    """Ansible's `unique` filter: the first of each value, text compared without regard to case."""
    seen = set()
    result = []
    for value in values:
        key = value.lower() if isinstance(value, str) else value
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result
