# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: issued_certificate
short_description: Why the controller CA or a certificate it issued must be made again
version_added: 0.2.0
author:
  - wandb_local.fleet maintainers (@wandb-local)
description:
  - The check the P(wandb_local.fleet.secrets#role) role makes before its controller-side module runs
    (M(ansible.builtin.file), M(community.crypto.openssl_privatekey), M(community.crypto.openssl_csr_pipe),
    M(community.crypto.x509_certificate)). Returns one reason per thing those modules would change, an empty
    list when they would all report C(ok), so the role skips them on a converged controller.
  - For the term V(certificate), C(<secrets_dir>/certs/<host>) must be a directory with mode 0700;
    C(<name>.key) an unencrypted PEM EC key on secp384r1, mode 0600; C(<name>.crt) mode 0644, for that key,
    issued by C(<secrets_dir>/ca/ca.crt) (issuer name, signature, authority key identifier; the CA key must
    belong to it), its subject only a common name, the first subject alternative name without its V(DNS:) or
    V(IP:) prefix, its subject alternative names O(subject_alt_names) in their order, key usage
    digitalSignature and keyEncipherment, extended key usage serverAuth and clientAuth, none of them
    critical, a subject key identifier from its key and no other extension.
  - For the term V(ca), C(<secrets_dir>/ca) must be a directory with mode 0700; C(ca.key) an unencrypted PEM
    EC key on secp384r1, mode 0600; C(ca.crt) mode 0644, self-signed by that key, subject C(CN=<common_name>),
    basic constraints CA:TRUE and key usage keyCertSign and cRLSign, both critical, a subject key identifier
    from its key and no other extension (no subject alternative name).
  - These are the conditions on which community.crypto's modules regenerate (or correct a mode). As
    M(community.crypto.x509_certificate) ignores the validity dates by default, so does this check; an
    expired certificate is kept by a rerun as before. Remove its C(.crt) file and rerun to have it issued
    again, with the same key.
  - A reason names the file and what is not as the role makes it; none shows what a key file holds. When the
    check cannot tell (an entry it does not model, an error of its own) it returns a reason, so the modules
    decide.
  - Call it with the C(query) function (or C(lookup) with C(wantlist=true)), so that no reason gives an empty
    list.
options:
  _terms:
    description: What to check, V(certificate) (tasks/certificate.yml) or V(ca) (tasks/ca.yml). One term.
    required: true
    type: list
    elements: str
  secrets_dir:
    description: The controller's secrets directory (C(wandb_secrets_dir)).
    required: true
    type: path
  common_name:
    description: The CA's common name (C(wandb_secrets_ca_common_name)). Required for V(ca).
    type: str
  host:
    description: The host the certificate is for (C(inventory_hostname)). Required for V(certificate).
    type: str
  name:
    description: The certificate's base name (C(wandb_secrets_cert_name)). Required for V(certificate).
    type: str
  subject_alt_names:
    description:
      - The certificate's subject alternative names, C(DNS:name) or C(IP:address)
        (C(wandb_secrets_cert_subject_alt_names)). Required for V(certificate).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Check the issued certificate on the controller
  ansible.builtin.set_fact:
    __reasons: >-
      {{ query('wandb_local.fleet.issued_certificate', 'certificate', secrets_dir=wandb_secrets_dir,
               host=inventory_hostname, name='mysql', subject_alt_names=['DNS:db1.example.net', 'IP:10.0.0.5']) }}

- name: Check the controller CA
  ansible.builtin.debug:
    msg: >-
      {{ query('wandb_local.fleet.issued_certificate', 'ca', secrets_dir=wandb_secrets_dir,
               common_name='wandb_local.fleet CA') }}
"""

RETURN = r"""
_raw:
  description: One reason per thing the role's module runs would change; empty when they would change nothing.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.wandb_local.fleet.plugins.module_utils._issued_certificate import (
    IssuedCertificateInputError,
    ca_reasons,
    host_reasons,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain

_OPTIONS = {
    "ca": ("secrets_dir", "common_name"),
    "certificate": ("secrets_dir", "host", "name", "subject_alt_names"),
}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if len(terms) != 1 or terms[0] not in _OPTIONS:
            raise AnsibleLookupError("issued_certificate: give one term, 'certificate' or 'ca', got %r" % (terms,))
        kind = terms[0]
        unknown = sorted(set(kwargs) - set(_OPTIONS[kind]))
        if unknown:
            raise AnsibleLookupError(
                "issued_certificate: unknown option %s for %s (%s)" % (unknown[0], kind, ", ".join(_OPTIONS[kind]))
            )
        options = plain(kwargs)
        secrets_dir = options.get("secrets_dir")
        if not secrets_dir or not isinstance(secrets_dir, str):
            raise AnsibleLookupError("issued_certificate: secrets_dir (wandb_secrets_dir) must be set")
        # As the modules read a path option (AnsibleModule's type path).
        secrets_dir = os.path.expanduser(os.path.expandvars(secrets_dir))
        try:
            if kind == "ca":
                return self._checked(ca_reasons, secrets_dir, options.get("common_name"))
            return self._checked(
                host_reasons, secrets_dir, options.get("host"), options.get("name"), options.get("subject_alt_names")
            )
        except IssuedCertificateInputError as exc:
            raise AnsibleLookupError("issued_certificate: %s" % exc) from None

    @staticmethod
    def _checked(check, *args):
        try:
            return check(*args)
        except IssuedCertificateInputError:
            raise
        except Exception as exc:  # the check's own failure: let community.crypto decide (no message: it could quote)
            return ["%s: the check failed (%s); the modules decide" % (args[0], type(exc).__name__)]
