# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Masking secrets in text an operator must still read: a failed task's message, log lines.

A task whose result can carry a secret runs with no_log; when it fails, its message is shown again
through redact(), so the operator learns what failed without the secret. What is masked:
- every value given as known (the secrets of an environment, passwords), as written and URL-encoded;
- the password of any URL (scheme://user:PASSWORD@host);
- the value of NAME=VALUE where NAME is a secret's name by the settings catalogue (LICENSE, *_KEY...);
- what follows `password:` / `secret=` / `token: ` and the like (log lines such as "temporary password: ...").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import quote, quote_plus
except ImportError:  # pragma: no cover (Python 2 is not a target; ansible-test imports it anyway)
    from urllib import quote, quote_plus

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings import (
    is_secret_key,
    secret_fragments,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import MASK

_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)([^\s@]+)@")
_ASSIGNMENT = re.compile(r"\b([A-Z][A-Z0-9_]*)=(\S+)")
_SAID = re.compile(r"""(?i)\b(pass(?:word)?|passwd|secret|token|api[ _-]?key)(["']?\s*[:=]\s*["']?)([^\s,;"']+)""")
# Shorter known values would mask words by chance.
_MIN_FRAGMENT = 4


def known_fragments(secrets=None, env=None):
    """The strings to mask: given secrets, and the secrets an environment (name -> value) holds."""
    fragments = set()
    for value in secrets or ():
        if value is not None and str(value):
            fragments.add(str(value))
    for name, value in (env or {}).items():
        if value is not None:
            fragments |= secret_fragments(str(name), str(value))
    encoded = set()
    for fragment in fragments:
        encoded.add(quote(fragment, safe=""))
        encoded.add(quote(fragment))
        encoded.add(quote_plus(fragment))
    return sorted((f for f in fragments | encoded if len(f) >= _MIN_FRAGMENT), key=len, reverse=True)


def _mask_assignment(match):
    return "%s=%s" % (match.group(1), MASK) if is_secret_key(match.group(1)) else match.group(0)


def redact_text(text, fragments=()):
    for fragment in fragments:
        text = text.replace(fragment, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", text)
    text = _ASSIGNMENT.sub(_mask_assignment, text)
    return _SAID.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def redact(value, secrets=None, env=None):
    """value (text, or lists and dicts of it) with every secret masked."""
    fragments = known_fragments(secrets, env)

    def walk(item):
        if isinstance(item, dict):
            return dict((key, walk(inner)) for key, inner in item.items())
        if isinstance(item, (list, tuple)):
            return [walk(inner) for inner in item]
        if isinstance(item, str):
            return redact_text(item, fragments)
        return item

    return walk(value)
