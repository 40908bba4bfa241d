# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: generated_secret
short_description: The one way the collection's roles make a secret nobody gave
version_added: 0.2.0
author:
  - wandb_local.fleet maintainers (@wandb-local)
description:
  - Returns the secret stored on the controller under O(secrets_dir)/C(<name>), generating it there
    first (letters and digits, mode 0600 in a 0700 directory) when the file does not exist, so every
    later run and every other role reads the same value.
  - Names are C(<role>/<file>) (C(mysql/wandb_local), C(redis/password.txt)); the file is the one the
    C(ansible.builtin.password) lookup wrote in earlier releases, read the same way (the text before
    C( salt=) on its first line), so existing installations keep their secrets.
  - With O(create=false) a missing file is an error naming it, for entry points that must not invent
    a secret the service never got (the C(publish) entry points).
  - The value is never shown in an error.
options:
  _terms:
    description: Secret names, C(<role>/<file>).
    required: true
    type: list
    elements: str
  secrets_dir:
    description: The controller's secrets directory (C(wandb_secrets_dir)).
    required: true
    type: path
  length:
    description: Length of a generated secret.
    type: int
    default: 32
  create:
    description: Generate a missing secret (else fail).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The W&B account's MySQL password
  ansible.builtin.set_fact:
    __wandb_mysql_wandb_password: >-
      {{ lookup('wandb_local.fleet.generated_secret', 'mysql/wandb_local', secrets_dir=wandb_secrets_dir) }}
  no_log: true
"""

RETURN = r"""
_raw:
  description: The secrets, one per name.
  type: list
  elements: str
"""

import os
import re
import secrets
import string

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ALPHABET = string.ascii_letters + string.digits


def secret_path(secrets_dir, name):
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise AnsibleLookupError(
            "generated_secret: name %r must be <role>/<file> (lower-case role, a file name without '/' or '..')"
            % (name,)
        )
    return os.path.join(secrets_dir, name)


def read_secret(path):
    with open(path, encoding="utf-8") as handle:
        first = handle.readline().rstrip("\n")
    value = first.split(" salt=", 1)[0]
    if not value:
        raise AnsibleLookupError("generated_secret: %s is empty; remove it to have a new secret generated" % path)
    return value


def write_secret(path, length):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    value = "".join(secrets.choice(_ALPHABET) for _position in range(length))
    temporary = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    try:
        # Two forks generating the same secret at once: the first link wins, the other reads it.
        os.link(temporary, path)
    except FileExistsError:
        value = read_secret(path)
    finally:
        os.unlink(temporary)
    return value


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        unknown = sorted(set(kwargs) - {"secrets_dir", "length", "create"})
        if unknown:
            raise AnsibleLookupError("generated_secret: unknown option %s (secrets_dir, length, create)" % unknown[0])
        secrets_dir = kwargs.get("secrets_dir")
        length = kwargs.get("length", 32)
        create = kwargs.get("create", True)
        if isinstance(length, bool) or not isinstance(length, int):
            raise AnsibleLookupError("generated_secret: length must be an integer, got %r" % (length,))
        if not isinstance(create, bool):
            raise AnsibleLookupError("generated_secret: create must be true or false, got %r" % (create,))
        if not secrets_dir:
            raise AnsibleLookupError("generated_secret: secrets_dir (wandb_secrets_dir) must be set")
        if not 16 <= length <= 128:
            raise AnsibleLookupError("generated_secret: length must be 16 to 128, got %d" % length)
        values = []
        for name in terms:
            path = secret_path(secrets_dir, name)
            if os.path.exists(path):
                values.append(read_secret(path))
            elif create:
                values.append(write_secret(path, length))
            else:
                raise AnsibleLookupError(
                    "generated_secret: %s does not exist: the service was never converged with this secrets "
                    "directory (run its role first, or give the secret in the inventory)" % path
                )
        return values
