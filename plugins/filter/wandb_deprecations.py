# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filter is documented in deprecated_input.yml next to this file.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display
from jinja2.runtime import Undefined

# The release that drops the inputs renamed in 0.2.0.
REMOVED_IN = "0.3.0"
COLLECTION = "wandb_local.fleet"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

# (old, new) pairs already warned about in this process: one warning per renamed input, not per use.
_warned = set()


def _is_set(value):
    return not isinstance(value, Undefined) and value is not None and value != ""


def warn_deprecated(old_name, new_name, advice=None):
    """The collection's one deprecation warning for a renamed input: once per (old, new) in a run.
    Also used by the server_endpoints filter for the deprecated *_url inputs."""
    if (old_name, new_name) in _warned:
        return
    _warned.add((old_name, new_name))
    Display().deprecated(
        "%s is deprecated: %s" % (old_name, advice or "set %s instead (same value)" % new_name),
        version=REMOVED_IN,
        collection_name=COLLECTION,
    )


def deprecated_input(value, old_name, new_name):
    """`value` (the deprecated input `old_name`) unchanged; when it is set, a deprecation warning
    naming `new_name`, once. An unset value (undefined, None, '') is returned as ''."""
    for field, name in (("old_name", old_name), ("new_name", new_name)):
        if not isinstance(name, str) or not name or set(name) - _NAME_CHARS:
            raise AnsibleFilterError(
                "wandb_local.fleet.deprecated_input: %s must be a variable name, got %r" % (field, name)
            )
    if not _is_set(value):
        return ""
    warn_deprecated(old_name, new_name)
    return value


class FilterModule(object):
    def filters(self):
        return {"deprecated_input": deprecated_input}
