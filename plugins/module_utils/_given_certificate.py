# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A certificate the user gives: does it serve every name clients use, with its own key, today?

The secrets role's `given_certificate` entry point asks this before it copies anything to a host
(through the `wandb_local.fleet.given_certificate_problems` filter). Each problem is one message
that names the role variable to fix and the rule; the private key's content never appears in one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - ansible-core brings it on the controller
    HAS_CRYPTOGRAPHY = False

# The entry point's own variables; a role passes its own names so the operator reads the variable
# they set (wandb_mysql_tls_cert_file, not wandb_secrets_given_cert_src).
DEFAULT_VARIABLES = {
    "cert": "wandb_secrets_given_cert_src",
    "key": "wandb_secrets_given_key_src",
    "ca": "wandb_secrets_given_ca_src",
    "names": "wandb_secrets_given_cert_names",
}
_PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
_DNS_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_MAX_CHAIN = 10


class CertificateInputError(ValueError):
    """The check itself was called wrongly (a role's bug, not the user's certificate)."""


def _as_bytes(content):
    if content is None:
        return b""
    if isinstance(content, bytes):
        return content
    return str(content).encode("utf-8")


def parse_name(name):
    """'db1.example.net', 'DNS:db1.example.net', '10.0.0.5' or 'IP:10.0.0.5' -> ('DNS', 'db1.example.net')
    or ('IP', ip_address). A bare address is an IP name: clients dialling an address check IP entries."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("every name must be a non-empty string, got %r" % (name,))
    kind, sep, value = name.partition(":")
    if sep and kind.upper() in ("DNS", "IP"):
        kind = kind.upper()
    else:
        kind, value = None, name
    value = value.strip()
    if kind in (None, "IP"):
        try:
            return "IP", ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            if kind == "IP":
                raise ValueError("%r is not an IP address" % name) from None
    host = value.rstrip(".").lower()
    labels = host.split(".")
    if not host or not all(_DNS_LABEL_RE.match(label) for label in labels):
        raise ValueError("%r is neither a host name nor an IP address" % name)
    return "DNS", host


def _dns_matches(pattern, host):
    """RFC 6125: a wildcard is the whole left-most label and stands for exactly one label."""
    pattern = pattern.rstrip(".").lower()
    if pattern == host:
        return True
    if not pattern.startswith("*.") or "*" in pattern[2:]:
        return False
    suffix = pattern[1:]  # '.example.net'
    # '*.example.net' matches 'db1.example.net', not 'example.net' nor 'a.b.example.net'.
    return host.endswith(suffix) and "." not in host[: -len(suffix)] and len(host) > len(suffix)


def certificate_names(certificate):
    """The certificate's subject alternative names as [('DNS', name) | ('IP', address)]."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [("DNS", name) for name in extension.get_values_for_type(x509.DNSName)]
    names += [("IP", address) for address in extension.get_values_for_type(x509.IPAddress)]
    return names


def _covers(san_names, kind, value):
    if kind == "IP":
        return any(k == "IP" and v == value for k, v in san_names)
    return any(k == "DNS" and _dns_matches(v, value) for k, v in san_names)


def show_names(san_names):
    """[('DNS', name) | ('IP', address)] as the messages show them: 'DNS:db1, IP:10.0.0.5'."""
    return ", ".join("%s:%s" % (kind, value) for kind, value in san_names) or "no subject alternative name"


def public_key_bytes(key):
    """A public key as DER SubjectPublicKeyInfo, to compare two keys of any type."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _load_certificates(data):
    return [x509.load_pem_x509_certificate(block) for block in _PEM_CERT_RE.findall(data)]


def issued_by(certificate, issuer):
    """Whether issuer's subject is certificate's issuer and issuer's key signed it (no chain, no dates)."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except Exception:  # ValueError (names), TypeError (key type), InvalidSignature: all mean "not this one"
        return False
    return True


def _chains_to(leaf, intermediates, authorities):
    current, seen = leaf, 0
    while seen < _MAX_CHAIN:
        if any(issued_by(current, authority) for authority in authorities):
            return True
        parents = [cert for cert in intermediates if cert is not current and issued_by(current, cert)]
        if not parents:
            return False
        current, seen = parents[0], seen + 1
    return False


def _utc(moment, attribute):
    value = getattr(moment, attribute + "_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(moment, attribute).replace(tzinfo=datetime.timezone.utc)
    return value


def _when(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_problems(contents, sources=None, names=(), variables=None, now=None):
    """Every reason not to install the given certificate, as messages; [] when it is fine.

    contents: {'cert': PEM, 'key': PEM, 'ca': PEM or '' when there is no CA} (text or bytes;
      None or '' for a file that was not found).
    sources: {'cert': path, ...} as the operator gave them, for the messages.
    names: the names clients use (DNS or IP, bare or with a DNS:/IP: prefix); each must be covered.
    variables: {'cert': var, 'key': var, 'ca': var, 'names': var}, the role variables to name.
    """
    if not HAS_CRYPTOGRAPHY:
        raise CertificateInputError("the Python library 'cryptography' is needed on the controller")
    if not isinstance(contents, dict):
        raise CertificateInputError("expects a dict with the cert, key and ca file contents")
    sources = dict(sources or {})
    var = dict(DEFAULT_VARIABLES)
    var.update(dict((k, v) for k, v in (variables or {}).items() if v))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    problems = []

    def where(part):
        return sources.get(part) or "(not given)"

    def missing(part):
        return "%s: %s was not found on the controller (or is empty)" % (var[part], where(part))

    # Names first: a wrong list is a mistake whatever the files hold.
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names:
        problems.append("%s: must list the names clients use (at least one), got %r" % (var["names"], names))
        wanted = []
    else:
        wanted = []
        for name in names:
            try:
                wanted.append(parse_name(name))
            except ValueError as exc:
                problems.append("%s: %s" % (var["names"], exc))

    leaf = chain = None
    cert_data = _as_bytes(contents.get("cert"))
    if not cert_data.strip():
        problems.append(missing("cert"))
    else:
        try:
            certificates = _load_certificates(cert_data)
        except ValueError:
            certificates = None
        if not certificates:
            problems.append("%s: %s holds no readable PEM certificate" % (var["cert"], where("cert")))
        else:
            leaf, chain = certificates[0], certificates[1:]

    key = None
    key_data = _as_bytes(contents.get("key"))
    if not key_data.strip():
        problems.append(missing("key"))
    else:
        try:
            key = serialization.load_pem_private_key(key_data, password=None)
        except TypeError:
            problems.append(
                "%s: the private key in %s is protected by a passphrase; give it unencrypted "
                "(encrypt the file with Ansible Vault instead)" % (var["key"], where("key"))
            )
        except Exception:  # unsupported or malformed key: never show what the file holds
            problems.append("%s: %s holds no readable PEM private key" % (var["key"], where("key")))

    authorities = None
    ca_data = _as_bytes(contents.get("ca"))
    if ca_data.strip():
        try:
            authorities = _load_certificates(ca_data)
        except ValueError:
            authorities = None
        if not authorities:
            problems.append("%s: %s holds no readable PEM certificate" % (var["ca"], where("ca")))
    elif sources.get("ca"):
        problems.append(missing("ca"))

    if leaf is None:
        return problems

    if key is not None and public_key_bytes(key.public_key()) != public_key_bytes(leaf.public_key()):
        problems.append(
            "%s: the private key in %s does not belong to the certificate in %s (%s); give the key it was issued for"
            % (var["key"], where("key"), where("cert"), var["cert"])
        )
    not_after, not_before = _utc(leaf, "not_valid_after"), _utc(leaf, "not_valid_before")
    if not_after <= now:
        problems.append("%s: the certificate in %s expired on %s" % (var["cert"], where("cert"), _when(not_after)))
    if not_before > now:
        problems.append(
            "%s: the certificate in %s is not valid before %s" % (var["cert"], where("cert"), _when(not_before))
        )
    san_names = certificate_names(leaf)
    for kind, value in wanted:
        if not _covers(san_names, kind, value):
            problems.append(
                "%s: the certificate in %s (%s) does not name %s:%s, which clients use; it names %s"
                % (var["names"], where("cert"), var["cert"], kind, value, show_names(san_names))
            )
    if authorities and not _chains_to(leaf, chain, authorities):
        problems.append(
            "%s: no certificate in %s signed the certificate in %s (%s), directly or through the chain in it"
            % (var["ca"], where("ca"), where("cert"), var["cert"])
        )
    return problems
