# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The controller CA and the certificates it issued: would community.crypto change anything?

The secrets role makes the CA (tasks/ca.yml) and each host's certificate (tasks/certificate.yml) with
four controller-side module runs: ansible.builtin.file (the directory), community.crypto's
openssl_privatekey, openssl_csr_pipe and x509_certificate. On a converged site they all report "ok",
and cost half a second to a second each. This check reads the same files with `cryptography` and
returns every reason those modules would act on; [] means they would change nothing, so the role
skips them (through the `wandb_local.fleet.issued_certificate` lookup).

It mirrors what community.crypto (3.0.5) compares before it regenerates:
- openssl_privatekey (module_backends/privatekey.py, needs_regeneration, regenerate=full_idempotence):
  the file exists, loads as PEM without a passphrase (_check_passphrase), is the wanted type and curve
  (_check_size_and_type; format=auto_ignore skips _check_format); then its mode.
- x509_certificate (module_backends/certificate.py needs_regeneration and _check_csr, with the CSR the
  task makes): the file loads; its public key is the CSR's (the key file's); its subject equals the CSR's;
  its extensions, less the subject and authority key identifiers it adds itself, equal the CSR's one by
  one (same count, same OID, same critical flag, same value: a SAN list in its order); a subject key
  identifier from its public key (_check_subject_key_identifier, create_if_not_provided); then its mode.
  Provider ownca (certificate_ownca.py needs_regeneration) also: the CA's key signed it, its issuer is the
  CA's subject, and its authority key identifier is the CA's subject key identifier (or from the CA's
  public key). Provider selfsigned (certificate_selfsigned.py): the key file signed it.
- Timestamps: x509_certificate's ignore_timestamps is true by default, so neither module looks at the
  dates, and neither does this check: an expired certificate is kept by a rerun (remove the .crt file and
  rerun to have it issued again, with the same key).

A reason is one string, "<path>: <what is not as the modules leave it>"; none shows what a key file
holds. Where in doubt (an entry this check does not model, a file it cannot read) it gives a reason: a
needless module run only costs time, a wrong "nothing to do" would hide drift.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import stat

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
except ImportError:  # pragma: no cover - ansible-core brings it on the controller
    pass

from ansible_collections.wandb_local.fleet.plugins.module_utils._given_certificate import (
    HAS_CRYPTOGRAPHY,
    certificate_names,
    issued_by,
    public_key_bytes,
    show_names,
)

# The modes the role's tasks give (file: 0700, openssl_privatekey: 0600, x509_certificate: 0644).
DIRECTORY_MODE = 0o700
KEY_MODE = 0o600
CERTIFICATE_MODE = 0o644
# openssl_privatekey type: ECC, curve: secp384r1 in both task files.
CURVE = "secp384r1"
# The KeyUsage flags by the names the tasks (and openssl) use.
_KEY_USAGE_NAMES = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)


class IssuedCertificateInputError(ValueError):
    """The check was called wrongly (a role's bug, not a problem of the files)."""


def ca_paths(secrets_dir):
    """Where tasks/ca.yml keeps the CA."""
    directory = os.path.join(secrets_dir, "ca")
    return {"dir": directory, "key": os.path.join(directory, "ca.key"), "cert": os.path.join(directory, "ca.crt")}


def host_paths(secrets_dir, host, name):
    """Where tasks/certificate.yml keeps host's certificate `name`."""
    directory = os.path.join(secrets_dir, "certs", host)
    return {
        "dir": directory,
        "key": os.path.join(directory, name + ".key"),
        "cert": os.path.join(directory, name + ".crt"),
    }


def _key_usage(*names):
    flags = dict((attribute, name in names) for attribute, name in _KEY_USAGE_NAMES)
    return x509.KeyUsage(encipher_only=False, decipher_only=False, **flags)


def _general_name(entry):
    """A subject alternative name as openssl_csr_pipe puts it in the request (cryptography_get_name), for the
    DNS: and IP: entries the role takes; anything else is left to community.crypto (ValueError)."""
    if not isinstance(entry, str):
        raise ValueError("%r is not a string" % (entry,))
    if entry.startswith("DNS:"):
        if not entry[4:].isascii():
            raise ValueError("%s is not an ASCII name (community.crypto rewrites it as IDNA)" % entry)
        return x509.DNSName(entry[4:])
    if entry.startswith("IP:"):
        address = entry[3:]
        return x509.IPAddress(ipaddress.ip_network(address) if "/" in address else ipaddress.ip_address(address))
    raise ValueError("%s is neither a DNS: nor an IP: entry" % entry)


def host_request(subject_alt_names):
    """(subject, extensions) of the request tasks/certificate.yml makes: common name the first entry without
    its prefix, the names in their order, key usage digitalSignature+keyEncipherment, extended key usage
    serverAuth+clientAuth, nothing critical (the *_critical options keep their default, false)."""
    names = [_general_name(entry) for entry in subject_alt_names]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_alt_names[0].split(":", 1)[-1])])
    return subject, [
        x509.Extension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, False, x509.SubjectAlternativeName(names)),
        x509.Extension(ExtensionOID.KEY_USAGE, False, _key_usage("digitalSignature", "keyEncipherment")),
        x509.Extension(
            ExtensionOID.EXTENDED_KEY_USAGE,
            False,
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
        ),
    ]


def ca_request(common_name):
    """(subject, extensions) of the request tasks/ca.yml makes: CA:TRUE and keyCertSign+cRLSign, both
    critical, no subject alternative name (use_common_name_for_san: false)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return subject, [
        x509.Extension(ExtensionOID.BASIC_CONSTRAINTS, True, x509.BasicConstraints(ca=True, path_length=None)),
        x509.Extension(ExtensionOID.KEY_USAGE, True, _key_usage("keyCertSign", "cRLSign")),
    ]


def _oid_name(oid):
    return getattr(oid, "_name", None) or oid.dotted_string


def _items(extension, certificate=None):
    """An extension's value for a message, as a list of entries (a certificate's names via certificate_names)."""
    value = extension.value
    if isinstance(value, x509.SubjectAlternativeName):
        if certificate is None:  # the request's, in its order
            names = [("DNS" if isinstance(name, x509.DNSName) else "IP", name.value) for name in value]
        else:
            names = certificate_names(certificate)
        items = show_names(names).split(", ") if names else ["no name"]
        if len(value) > len(names):
            items.append("%d entries of other kinds" % (len(value) - len(names)))
        return items
    if isinstance(value, x509.KeyUsage):
        items = [name for attribute, name in _KEY_USAGE_NAMES if getattr(value, attribute)]
        if value.key_agreement:
            items += [name for name in ("encipherOnly", "decipherOnly") if getattr(value, name.replace("O", "_o"))]
        return items or ["nothing"]
    if isinstance(value, x509.ExtendedKeyUsage):
        return [_oid_name(oid) for oid in value] or ["nothing"]
    if isinstance(value, x509.BasicConstraints):
        items = ["CA:TRUE" if value.ca else "CA:FALSE"]
        return items + ([] if value.path_length is None else ["pathlen:%d" % value.path_length])
    return ["another value"]


def _extension_reasons(where, certificate, wanted, own_identifiers):
    """_check_csr's comparison: the certificate's extensions, less the key identifiers the provider adds
    itself (own_identifiers), must be the request's, with the same critical flags and values."""
    present = [ext for ext in certificate.extensions if not isinstance(ext.value, own_identifiers)]
    wanted_by_oid = dict((ext.oid, ext) for ext in wanted)
    reasons = []
    for ext in present:
        want = wanted_by_oid.pop(ext.oid, None)
        if want is None:
            reasons.append("%s: has the %s extension, which the request does not ask for" % (where, _oid_name(ext.oid)))
        elif ext.value != want.value:
            shown, asked = _items(ext, certificate), _items(want)
            hint = ""
            if shown == asked:
                hint = " (differing in a detail)"
            elif sorted(shown) == sorted(asked):
                hint = " (in another order)"
            reasons.append(
                "%s: its %s is %s%s, the role asks for %s"
                % (where, _oid_name(ext.oid), ", ".join(shown), hint, ", ".join(asked))
            )
        elif ext.critical != want.critical:
            reasons.append(
                "%s: its %s extension is %scritical, the role asks for it %scritical"
                % (where, _oid_name(ext.oid), "" if ext.critical else "not ", "" if want.critical else "not ")
            )
    for want in wanted_by_oid.values():
        reasons.append(
            "%s: has no %s extension, the role asks for %s" % (where, _oid_name(want.oid), ", ".join(_items(want)))
        )
    return reasons


def _subject_key_identifier_reasons(where, certificate):
    """_check_subject_key_identifier for a request without one: the identifier from the public key."""
    try:
        identifier = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return ["%s: has no subject key identifier" % where]
    if identifier.digest != x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest:
        return ["%s: its subject key identifier is not its public key's" % where]
    return []


def _authority_key_identifier(ca_certificate):
    """The identifier ownca writes (ownca_create_authority_key_identifier: true by default)."""
    try:
        identifier = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier)


def _unreadable(where, certificate):
    """x509_certificate issues again a certificate whose extensions cryptography cannot parse (malformed or
    duplicated): it cannot compare them."""
    try:
        certificate.extensions  # noqa: B018 - parsed on first use
    except Exception:
        return ["%s: its extensions cannot be read" % where]
    return []


def _request_reasons(where, certificate, key, subject, extensions, own_identifiers):
    """What x509_certificate compares with the request (and the request's key, the key file)."""
    reasons = []
    if key is not None and public_key_bytes(certificate.public_key()) != public_key_bytes(key.public_key()):
        reasons.append("%s: was issued for another key than the key file's" % where)
    if certificate.subject != subject:
        reasons.append(
            "%s: its subject is %s, the role asks for %s"
            % (where, certificate.subject.rfc4514_string() or "empty", subject.rfc4514_string())
        )
    reasons += _extension_reasons(where, certificate, extensions, own_identifiers)
    reasons += _subject_key_identifier_reasons(where, certificate)
    return reasons


def ca_certificate_reasons(certificate, key, common_name, where="ca.crt"):
    """Why x509_certificate (provider selfsigned, tasks/ca.yml) would issue the CA certificate again, given the
    parsed certificate and CA key (or None when the key file is unusable, which is a reason of its own)."""
    try:
        subject, extensions = ca_request(common_name)
    except ValueError as exc:
        return ["%s: the CA request cannot be made (%s)" % (where, exc)]
    unreadable = _unreadable(where, certificate)
    if unreadable:
        return unreadable
    reasons = _request_reasons(where, certificate, key, subject, extensions, (x509.SubjectKeyIdentifier,))
    # certificate_selfsigned.py checks the signature with the key file's key, which _request_reasons found to be
    # the certificate's own; issued_by also wants the issuer to be the subject (a self-signed certificate's is).
    if not issued_by(certificate, certificate):
        reasons.append("%s: is not self-signed (its issuer is not its subject, or its own key did not sign it)" % where)
    return reasons


def host_certificate_reasons(certificate, key, ca_certificate, subject_alt_names, where="cert"):
    """Why x509_certificate (provider ownca, tasks/certificate.yml) would issue the certificate again."""
    try:
        subject, extensions = host_request(subject_alt_names)
    except ValueError as exc:
        return ["%s: the role's request is not one this check models (%s)" % (where, exc)]
    unreadable = _unreadable(where, certificate)
    if unreadable:
        return unreadable
    reasons = _request_reasons(
        where, certificate, key, subject, extensions, (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier)
    )
    if not issued_by(certificate, ca_certificate):
        reasons.append(
            "%s: was not issued by the CA (its issuer is %s, the CA is %s, or the CA key did not sign it)"
            % (where, certificate.issuer.rfc4514_string() or "empty", ca_certificate.subject.rfc4514_string())
        )
    try:
        identifier = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        reasons.append("%s: has no authority key identifier" % where)
    else:
        if identifier != _authority_key_identifier(ca_certificate):
            reasons.append("%s: its authority key identifier is not the CA's" % where)
    return reasons


def _read(path, mode, reasons):
    """The file's bytes, or None with the reason; a mode other than `mode` (when given) is a reason too.

    The community.crypto modules set the mode of the path itself (AnsibleModule.set_mode_if_different, lstat,
    no `follow`): a symbolic link there reports a change on every run, so it is a reason."""
    try:
        if mode is not None and os.path.islink(path):
            reasons.append("%s: is a symbolic link (the modules set the mode of the link itself)" % path)
        status = os.stat(path)
    except FileNotFoundError:
        reasons.append("%s: does not exist" % path)
        return None
    except OSError as exc:
        reasons.append("%s: cannot be read (%s)" % (path, exc.strerror))
        return None
    if not stat.S_ISREG(status.st_mode):
        reasons.append("%s: is not a regular file" % path)
        return None
    if mode is not None and stat.S_IMODE(status.st_mode) != mode:
        reasons.append("%s: has mode %04o, the role keeps it %04o" % (path, stat.S_IMODE(status.st_mode), mode))
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        reasons.append("%s: cannot be read (%s)" % (path, exc.strerror))
        return None


def directory_reasons(path):
    """ansible.builtin.file state=directory mode=0700: it exists, is a directory, has that mode (a link to a
    directory is followed, as that module's `follow` does by default)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return ["%s: does not exist" % path]
    except OSError as exc:
        return ["%s: cannot be read (%s)" % (path, exc.strerror)]
    if not stat.S_ISDIR(status.st_mode):
        return ["%s: is not a directory" % path]
    if stat.S_IMODE(status.st_mode) != DIRECTORY_MODE:
        return ["%s: has mode %04o, the role keeps it %04o" % (path, stat.S_IMODE(status.st_mode), DIRECTORY_MODE)]
    return []


def _load_key(data, where):
    """(key or None, reasons): the key as community.crypto loads it (PEM, no passphrase). Nothing the file holds
    is put in a reason."""
    try:
        return serialization.load_pem_private_key(data, password=None), []
    except TypeError:
        return None, ["%s: is protected by a passphrase (the role's keys have none)" % where]
    except Exception:  # never show why: the message could quote the file
        return None, ["%s: holds no readable PEM private key" % where]


def private_key_reasons(data, where):
    """(key or None, reasons): what openssl_privatekey (type ECC, curve secp384r1, no passphrase) checks of the
    key's content: _check_passphrase, then _check_size_and_type."""
    key, reasons = _load_key(data, where)
    if key is None:
        return None, reasons
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return key, ["%s: is not an EC key (the role makes ECC %s keys)" % (where, CURVE)]
    if key.curve.name != CURVE:
        return key, ["%s: is an EC key on %s, the role makes %s keys" % (where, key.curve.name, CURVE)]
    return key, []


def _certificate(data, where, reasons):
    try:
        return x509.load_pem_x509_certificate(data)
    except Exception:
        reasons.append("%s: holds no readable PEM certificate" % where)
        return None


def _key_file(path, mode, reasons, check=private_key_reasons):
    data = _read(path, mode, reasons)
    if data is None:
        return None
    key, problems = check(data, path)
    reasons += problems
    return key


def _check_available():
    if not HAS_CRYPTOGRAPHY:
        raise IssuedCertificateInputError("the Python library 'cryptography' is needed on the controller")


def ca_reasons(secrets_dir, common_name):
    """Every reason tasks/ca.yml's four module runs must run; [] when they would all report ok."""
    _check_available()
    if not isinstance(common_name, str) or not common_name:
        raise IssuedCertificateInputError("common_name (wandb_secrets_ca_common_name) must be a non-empty string")
    paths = ca_paths(secrets_dir)
    reasons = directory_reasons(paths["dir"])
    key = _key_file(paths["key"], KEY_MODE, reasons)
    data = _read(paths["cert"], CERTIFICATE_MODE, reasons)
    certificate = _certificate(data, paths["cert"], reasons) if data is not None else None
    if certificate is not None:
        reasons += ca_certificate_reasons(certificate, key, common_name, where=paths["cert"])
    return reasons


def host_reasons(secrets_dir, host, name, subject_alt_names):
    """Every reason tasks/certificate.yml's four module runs must run for host's certificate `name`; [] when
    they would all report ok."""
    _check_available()
    for option, value in (("host", host), ("name", name)):
        if not isinstance(value, str) or not value or "/" in value or value in (".", ".."):
            raise IssuedCertificateInputError("%s must be a file name, got %r" % (option, value))
    if isinstance(subject_alt_names, str) or not isinstance(subject_alt_names, (list, tuple)) or not subject_alt_names:
        raise IssuedCertificateInputError(
            "subject_alt_names (wandb_secrets_cert_subject_alt_names) must list at least one name, got %r"
            % (subject_alt_names,)
        )
    paths, authority = host_paths(secrets_dir, host, name), ca_paths(secrets_dir)
    reasons = directory_reasons(paths["dir"])
    key = _key_file(paths["key"], KEY_MODE, reasons)
    # The CA as ownca loads it (certificate_ownca.py __init__): without a readable CA certificate and a key that
    # belongs to it the module fails rather than issues; the CA check (ca_reasons) judges the rest of them.
    ca_data = _read(authority["cert"], None, reasons)
    ca_certificate = _certificate(ca_data, authority["cert"], reasons) if ca_data is not None else None
    ca_unreadable = _unreadable(authority["cert"], ca_certificate) if ca_certificate is not None else []
    if ca_unreadable:
        reasons += ca_unreadable
        ca_certificate = None
    ca_key = _key_file(authority["key"], None, reasons, check=_load_key)
    if (
        ca_certificate is not None
        and ca_key is not None
        and public_key_bytes(ca_key.public_key()) != public_key_bytes(ca_certificate.public_key())
    ):
        reasons.append("%s: does not belong to %s" % (authority["key"], authority["cert"]))
    data = _read(paths["cert"], CERTIFICATE_MODE, reasons)
    certificate = _certificate(data, paths["cert"], reasons) if data is not None else None
    if certificate is not None and ca_certificate is not None:
        reasons += host_certificate_reasons(certificate, key, ca_certificate, list(subject_alt_names), paths["cert"])
    return reasons
