# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: given_certificate_problems
short_description: Why a user-given TLS certificate must not be installed
version_added: 0.2.0
author:
  - wandb_local.fleet maintainers (@wandb-local)
description:
  - The check the P(wandb_local.fleet.secrets#role) role's C(given_certificate) entry point makes before it copies a
    certificate, its key and CA to a host. Returns one message per problem, an empty list when there is none.
  - The files must be there, the key must belong to the certificate (the first certificate of the file; the rest
    is its chain), the certificate must be valid now, and its subject alternative names must cover every name
    clients use (a DNS name by an equal or wildcard C(DNS) entry, an IP address by an C(IP) entry; clients ignore
    the common name). With a CA, one of its certificates must have signed the certificate, directly or through the
    chain.
  - Each message names the role variable to fix and the rule; what the key file holds is never shown.
options:
  _input:
    description:
      - The contents of the files, C(cert), C(key) and optionally C(ca) (read with the
        P(ansible.builtin.file#lookup) lookup, which decrypts Ansible Vault files as M(ansible.builtin.copy) does).
        An empty value means the file was not found.
    type: dict
    required: true
  names:
    description: The names clients use, each C(DNS:name), C(IP:address) or bare (an address is an IP name).
    type: list
    elements: str
    required: true
  sources:
    description: The paths the contents came from (C(cert), C(key), C(ca)), for the messages.
    type: dict
    default: {}
  variables:
    description:
      - The variables to name in messages, by part (C(cert), C(key), C(ca), C(names)).
      - Defaults to the entry point's own (C(wandb_secrets_given_cert_src), ...).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Check the given certificate
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: >-
      {{ {'cert': lookup('ansible.builtin.file', '/srv/pki/db1.crt'),
          'key': lookup('ansible.builtin.file', '/srv/pki/db1.key')}
         | wandb_local.fleet.given_certificate_problems(['db1.example.net', 'IP:10.0.0.5']) }}
"""

RETURN = r"""
_value:
  description: One message per problem, each starting with the variable to fix; empty when the certificate is fine.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._given_certificate import (
    CertificateInputError,
    certificate_problems,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain


def given_certificate_problems(contents, names, sources=None, variables=None):
    try:
        return certificate_problems(plain(contents), plain(sources or {}), plain(names), plain(variables or {}))
    except CertificateInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.given_certificate_problems: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {"given_certificate_problems": given_certificate_problems}
