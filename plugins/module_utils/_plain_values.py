# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the collection's filter plugins hand to their module_utils: plain Python values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.module_utils.common.text.converters import to_text

_NATIVE_SCALARS = (str, bool, int, float, type(None))


def plain(value):
    """Vaulted strings and other wrapped scalars become their text; mappings and sequences are copied."""
    if isinstance(value, Mapping):
        return dict((to_text(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, _NATIVE_SCALARS):
        return value
    return to_text(value)
