# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The issued-certificate check, on a CA and certificate made here with `cryptography` as community.crypto
makes them for the secrets role (tasks/ca.yml, tasks/certificate.yml), then changed one rule at a time."""

from __future__ import annotations

import datetime
import ipaddress
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.wandb_local.fleet.plugins.module_utils._issued_certificate import (
    IssuedCertificateInputError,
    ca_reasons,
    host_reasons,
)

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
CA_NAME = "wandb_local.fleet CA"
HOST, NAME = "db1", "mysql"
SANS = ["DNS:fleet-mysql", "DNS:db1.example.net", "IP:10.0.0.5"]


def _key(curve=None):
    return ec.generate_private_key(curve or ec.SECP384R1())


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(**flags):
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement")
    names += ("key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


def _san(entries):
    return x509.SubjectAlternativeName(
        [
            x509.IPAddress(ipaddress.ip_address(entry[3:])) if entry.startswith("IP:") else x509.DNSName(entry[4:])
            for entry in entries
        ]
    )


CA_EXTENSIONS = [
    (x509.BasicConstraints(ca=True, path_length=None), True),
    (_key_usage(key_cert_sign=True, crl_sign=True), True),
]


def _leaf_extensions(sans=None):
    sans = SANS if sans is None else sans
    return [
        (_san(sans), False),
        (_key_usage(digital_signature=True, key_encipherment=True), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False),
    ]


def _certificate(subject, issuer, public_key, signer, extensions, ski=True, aki=None, not_after=None):
    """As community.crypto's x509_certificate builds it: the request's extensions, then the key identifiers."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(not_after or NOW + 825 * DAY)
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    if aki is not None:
        builder = builder.add_extension(aki, critical=False)
    return builder.sign(signer, hashes.SHA256())


def _ca_certificate(key, common_name=CA_NAME, extensions=None, signer=None, **kwargs):
    """selfsigned: issuer = subject, signed by the key, a subject key identifier, no authority key identifier."""
    extensions = CA_EXTENSIONS if extensions is None else extensions
    name = _name(common_name)
    return _certificate(name, name, key.public_key(), signer or key, extensions, **kwargs)


def _leaf(key, ca_cert, ca_key, sans=None, common_name=None, extensions=None, aki=True, **kwargs):
    """ownca: issuer = the CA's subject, signed by the CA key, both key identifiers."""
    sans = SANS if sans is None else sans
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return _certificate(
        _name(common_name or sans[0].split(":", 1)[-1]),
        ca_cert.subject,
        key.public_key(),
        ca_key,
        _leaf_extensions(sans) if extensions is None else extensions,
        aki=x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski) if aki else None,
        **kwargs,
    )


def _key_pem(key, password=None, private_format=serialization.PrivateFormat.TraditionalOpenSSL):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, private_format, encryption)


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path, data, mode):
    path.write_bytes(data)
    path.chmod(mode)


class Pki:
    """A secrets directory as the role leaves it: ca/ca.{key,crt}, certs/db1/mysql.{key,crt}."""

    def __init__(self, root):
        self.root = root
        self.ca_dir, self.host_dir = root / "ca", root / "certs" / HOST
        self.ca_key_path, self.ca_cert_path = self.ca_dir / "ca.key", self.ca_dir / "ca.crt"
        self.key_path, self.cert_path = self.host_dir / (NAME + ".key"), self.host_dir / (NAME + ".crt")
        for directory in (self.ca_dir, self.host_dir):
            directory.mkdir(parents=True)
            directory.chmod(0o700)
        self.ca_key, self.key = _key(), _key()
        self.write_ca_key(self.ca_key)
        self.write_ca(_ca_certificate(self.ca_key))
        self.write_key(self.key)
        self.write_leaf(_leaf(self.key, self.ca_cert, self.ca_key))

    def write_ca_key(self, key):
        _write(self.ca_key_path, _key_pem(key), 0o600)

    def write_ca(self, cert):
        self.ca_cert = cert
        _write(self.ca_cert_path, _cert_pem(cert), 0o644)

    def write_key(self, key):
        _write(self.key_path, _key_pem(key), 0o600)

    def write_leaf(self, cert):
        _write(self.cert_path, _cert_pem(cert), 0o644)

    def leaf(self, **kwargs):
        self.write_leaf(_leaf(self.key, self.ca_cert, self.ca_key, **kwargs))

    def ca(self, **kwargs):
        self.write_ca(_ca_certificate(self.ca_key, **kwargs))

    def host_reasons(self, sans=None):
        sans = SANS if sans is None else sans
        return host_reasons(str(self.root), HOST, NAME, sans)

    def ca_reasons(self, common_name=CA_NAME):
        return ca_reasons(str(self.root), common_name)


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path / "fleet.secrets")


def test_what_the_role_made_needs_nothing(pki):
    assert pki.ca_reasons() == []
    assert pki.host_reasons() == []


def test_a_pkcs8_key_is_as_good_as_the_traditional_format(pki):
    # openssl_privatekey's format is auto_ignore: it keeps either.
    _write(pki.key_path, _key_pem(pki.key, private_format=serialization.PrivateFormat.PKCS8), 0o600)
    assert pki.host_reasons() == []


def test_dates_are_not_checked_as_x509_certificate_ignores_them(pki):
    pki.leaf(not_after=NOW - DAY)
    assert pki.host_reasons() == []


# --- files, directories and modes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "mode", "wanted"),
    [
        ("host_dir", 0o755, "0700"),
        ("key_path", 0o640, "0600"),
        ("cert_path", 0o600, "0644"),
    ],
)
def test_a_mode_the_role_does_not_give_is_a_reason(pki, attribute, mode, wanted):
    path = getattr(pki, attribute)
    path.chmod(mode)
    assert pki.host_reasons() == ["%s: has mode %04o, the role keeps it %s" % (path, mode, wanted)]


@pytest.mark.parametrize(
    ("attribute", "mode", "wanted"),
    [("ca_dir", 0o750, "0700"), ("ca_key_path", 0o644, "0600"), ("ca_cert_path", 0o640, "0644")],
)
def test_a_ca_mode_the_role_does_not_give_is_a_reason(pki, attribute, mode, wanted):
    path = getattr(pki, attribute)
    path.chmod(mode)
    assert pki.ca_reasons() == ["%s: has mode %04o, the role keeps it %s" % (path, mode, wanted)]


def test_missing_files_are_reasons(pki):
    pki.cert_path.unlink()
    assert pki.host_reasons() == ["%s: does not exist" % pki.cert_path]
    pki.key_path.unlink()
    assert pki.host_reasons() == ["%s: does not exist" % pki.key_path, "%s: does not exist" % pki.cert_path]


def test_a_host_never_issued_lists_its_directory_and_files(pki):
    shutil.rmtree(pki.host_dir)
    assert pki.host_reasons() == ["%s: does not exist" % path for path in (pki.host_dir, pki.key_path, pki.cert_path)]


def test_a_file_where_the_directory_should_be(pki):
    shutil.rmtree(pki.host_dir)
    pki.host_dir.write_text("")
    assert pki.host_reasons()[0] == "%s: is not a directory" % pki.host_dir


def test_a_link_in_place_of_a_file_is_a_reason(pki):
    # openssl_privatekey and x509_certificate set the mode of the link (lstat): "changed" on every run.
    target = pki.root / "elsewhere.crt"
    pki.cert_path.rename(target)
    pki.cert_path.symlink_to(target)
    assert pki.host_reasons() == [
        "%s: is a symbolic link (the modules set the mode of the link itself)" % pki.cert_path
    ]


def test_a_linked_directory_is_followed_as_the_file_module_does(pki):
    target = pki.root / "elsewhere"
    pki.host_dir.rename(target)
    pki.host_dir.symlink_to(target)
    assert pki.host_reasons() == []


def test_a_missing_ca_is_a_reason_for_the_ca_and_the_certificate(pki):
    pki.ca_cert_path.unlink()
    assert pki.ca_reasons() == ["%s: does not exist" % pki.ca_cert_path]
    assert pki.host_reasons() == ["%s: does not exist" % pki.ca_cert_path]
    shutil.rmtree(pki.ca_dir)
    assert pki.ca_reasons() == ["%s: does not exist" % path for path in (pki.ca_dir, pki.ca_key_path, pki.ca_cert_path)]


# --- keys -----------------------------------------------------------------------------------------------------------


def test_an_rsa_key_is_a_reason(pki):
    key = rsa.generate_private_key(65537, 2048)
    pki.write_key(key)
    assert pki.host_reasons() == [
        "%s: is not an EC key (the role makes ECC secp384r1 keys)" % pki.key_path,
        "%s: was issued for another key than the key file's" % pki.cert_path,
    ]


def test_a_key_on_another_curve_is_a_reason(pki):
    pki.write_ca_key(_key(ec.SECP256R1()))
    reasons = pki.ca_reasons()
    assert reasons[0] == "%s: is an EC key on secp256r1, the role makes secp384r1 keys" % pki.ca_key_path
    assert "%s: was issued for another key than the key file's" % pki.ca_cert_path in reasons


def test_a_key_with_a_passphrase_is_a_reason(pki):
    _write(pki.key_path, _key_pem(pki.key, password=b"secret-pass"), 0o600)
    assert pki.host_reasons() == ["%s: is protected by a passphrase (the role's keys have none)" % pki.key_path]


def test_an_unreadable_key_is_a_reason_that_does_not_show_the_file(pki):
    lines = _key_pem(pki.key).decode().splitlines()
    del lines[2]  # a line of the key lost: no longer DER
    _write(pki.key_path, ("\n".join(lines) + "\n").encode(), 0o600)
    reasons = pki.host_reasons()
    assert reasons == ["%s: holds no readable PEM private key" % pki.key_path]
    assert not any(line in " ".join(reasons) for line in lines[1:-1])


def test_another_key_is_a_reason(pki):
    pki.write_key(_key())
    assert pki.host_reasons() == ["%s: was issued for another key than the key file's" % pki.cert_path]


def test_a_ca_key_that_is_not_the_ca_certificate_s_is_a_reason_for_both(pki):
    pki.write_ca_key(_key())
    assert pki.host_reasons() == ["%s: does not belong to %s" % (pki.ca_key_path, pki.ca_cert_path)]
    assert pki.ca_reasons()[0] == "%s: was issued for another key than the key file's" % pki.ca_cert_path


# --- the certificate ------------------------------------------------------------------------------------------------


def test_an_unreadable_certificate_is_a_reason(pki):
    _write(pki.cert_path, b"not a certificate\n", 0o644)
    assert pki.host_reasons() == ["%s: holds no readable PEM certificate" % pki.cert_path]


def test_a_certificate_from_another_ca_is_a_reason(pki):
    other_key = _key()
    other = _ca_certificate(other_key)  # the same name, another key
    pki.write_leaf(_leaf(pki.key, other, other_key))
    assert pki.host_reasons() == [
        "%s: was not issued by the CA (its issuer is CN=wandb_local.fleet CA, the CA is CN=wandb_local.fleet CA, "
        "or the CA key did not sign it)" % pki.cert_path,
        "%s: its authority key identifier is not the CA's" % pki.cert_path,
    ]


def test_a_certificate_naming_another_issuer_is_a_reason(pki):
    other = _ca_certificate(pki.ca_key, common_name="Other CA")
    pki.write_leaf(_leaf(pki.key, other, pki.ca_key))
    assert pki.host_reasons() == [
        "%s: was not issued by the CA (its issuer is CN=Other CA, the CA is CN=wandb_local.fleet CA, "
        "or the CA key did not sign it)" % pki.cert_path
    ]


def test_another_common_name_is_a_reason(pki):
    pki.leaf(common_name="db1")
    assert pki.host_reasons() == ["%s: its subject is CN=db1, the role asks for CN=fleet-mysql" % pki.cert_path]


def test_an_ip_first_gives_the_address_as_common_name(pki):
    sans = ["IP:10.0.0.5", "DNS:fleet-mysql"]
    pki.leaf(sans=sans)
    assert pki.host_reasons(sans) == []


def test_a_missing_name_is_a_reason(pki):
    assert pki.host_reasons([*SANS, "DNS:db1"]) == [
        "%s: its subjectAltName is DNS:fleet-mysql, DNS:db1.example.net, IP:10.0.0.5, the role asks for "
        "DNS:fleet-mysql, DNS:db1.example.net, IP:10.0.0.5, DNS:db1" % pki.cert_path
    ]


def test_an_extra_name_is_a_reason(pki):
    assert pki.host_reasons(SANS[:2]) == [
        "%s: its subjectAltName is DNS:fleet-mysql, DNS:db1.example.net, IP:10.0.0.5, the role asks for "
        "DNS:fleet-mysql, DNS:db1.example.net" % pki.cert_path
    ]


def test_the_same_names_in_another_order_are_a_reason(pki):
    # x509_certificate compares the extension, a list: the order counts.
    sans = ["DNS:fleet-mysql", "IP:10.0.0.5", "DNS:db1.example.net"]
    assert pki.host_reasons(sans) == [
        "%s: its subjectAltName is DNS:fleet-mysql, DNS:db1.example.net, IP:10.0.0.5 (in another order), the role "
        "asks for DNS:fleet-mysql, IP:10.0.0.5, DNS:db1.example.net" % pki.cert_path
    ]


def test_a_name_in_other_case_is_a_reason(pki):
    sans = ["DNS:Fleet-MySQL", *SANS[1:]]
    reasons = pki.host_reasons(sans)
    assert reasons[0] == "%s: its subject is CN=fleet-mysql, the role asks for CN=Fleet-MySQL" % pki.cert_path
    assert "the role asks for DNS:Fleet-MySQL, DNS:db1.example.net, IP:10.0.0.5" in reasons[1]


def test_a_certificate_without_names_is_a_reason(pki):
    pki.leaf(extensions=_leaf_extensions()[1:])
    assert pki.host_reasons() == [
        "%s: has no subjectAltName extension, the role asks for DNS:fleet-mysql, DNS:db1.example.net, IP:10.0.0.5"
        % pki.cert_path
    ]


def test_other_key_usage_is_a_reason(pki):
    extensions = _leaf_extensions()
    extensions[1] = (_key_usage(digital_signature=True, key_encipherment=True, data_encipherment=True), False)
    pki.leaf(extensions=extensions)
    assert pki.host_reasons() == [
        "%s: its keyUsage is digitalSignature, keyEncipherment, dataEncipherment, the role asks for "
        "digitalSignature, keyEncipherment" % pki.cert_path
    ]


def test_other_extended_key_usage_is_a_reason(pki):
    extensions = _leaf_extensions()
    extensions[2] = (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    pki.leaf(extensions=extensions)
    assert pki.host_reasons() == [
        "%s: its extendedKeyUsage is serverAuth, the role asks for serverAuth, clientAuth" % pki.cert_path
    ]
    extensions[2] = (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]), False)
    pki.leaf(extensions=extensions)
    assert pki.host_reasons() == [
        "%s: its extendedKeyUsage is clientAuth, serverAuth (in another order), the role asks for "
        "serverAuth, clientAuth" % pki.cert_path
    ]


def test_a_critical_flag_the_request_does_not_set_is_a_reason(pki):
    extensions = _leaf_extensions()
    extensions[1] = (extensions[1][0], True)
    pki.leaf(extensions=extensions)
    assert pki.host_reasons() == [
        "%s: its keyUsage extension is critical, the role asks for it not critical" % pki.cert_path
    ]


def test_an_extension_the_request_does_not_ask_for_is_a_reason(pki):
    pki.leaf(extensions=[*_leaf_extensions(), (x509.BasicConstraints(ca=False, path_length=None), True)])
    assert pki.host_reasons() == [
        "%s: has the basicConstraints extension, which the request does not ask for" % pki.cert_path
    ]


def test_missing_or_wrong_key_identifiers_are_reasons(pki):
    pki.leaf(ski=False)
    assert pki.host_reasons() == ["%s: has no subject key identifier" % pki.cert_path]
    pki.leaf(aki=False)
    assert pki.host_reasons() == ["%s: has no authority key identifier" % pki.cert_path]
    extensions = [*_leaf_extensions(), (x509.SubjectKeyIdentifier(b"\x01" * 20), False)]
    pki.leaf(extensions=extensions, ski=False)
    assert pki.host_reasons() == ["%s: its subject key identifier is not its public key's" % pki.cert_path]


def test_names_this_check_does_not_model_are_left_to_community_crypto(pki):
    assert pki.host_reasons(["DNS:fleet-mysql", "email:dba@example.net"]) == [
        "%s: the role's request is not one this check models (email:dba@example.net is neither a DNS: nor an IP: "
        "entry)" % pki.cert_path
    ]
    assert "is not an ASCII name" in pki.host_reasons(["DNS:bücher.example"])[0]
    # openssl_csr_pipe fails on an address it cannot parse: the block runs and says so.
    assert pki.host_reasons(["IP:10.0.0.300"])[0].startswith("%s: the role's request is not one" % pki.cert_path)


# --- the CA ---------------------------------------------------------------------------------------------------------


def test_a_ca_without_ca_true_is_a_reason(pki):
    pki.ca(extensions=[(x509.BasicConstraints(ca=False, path_length=None), True), CA_EXTENSIONS[1]])
    assert pki.ca_reasons() == ["%s: its basicConstraints is CA:FALSE, the role asks for CA:TRUE" % pki.ca_cert_path]


def test_ca_constraints_and_key_usage_must_be_critical(pki):
    pki.ca(extensions=[(CA_EXTENSIONS[0][0], False), (CA_EXTENSIONS[1][0], False)])
    assert pki.ca_reasons() == [
        "%s: its basicConstraints extension is not critical, the role asks for it critical" % pki.ca_cert_path,
        "%s: its keyUsage extension is not critical, the role asks for it critical" % pki.ca_cert_path,
    ]


def test_a_ca_with_a_path_length_or_other_usage_is_a_reason(pki):
    pki.ca(
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_key_usage(key_cert_sign=True, crl_sign=True, digital_signature=True), True),
        ]
    )
    assert pki.ca_reasons() == [
        "%s: its basicConstraints is CA:TRUE, pathlen:0, the role asks for CA:TRUE" % pki.ca_cert_path,
        "%s: its keyUsage is digitalSignature, keyCertSign, cRLSign, the role asks for keyCertSign, cRLSign"
        % pki.ca_cert_path,
    ]


def test_a_ca_with_a_subject_alternative_name_or_authority_key_identifier_is_a_reason(pki):
    pki.ca(extensions=[*CA_EXTENSIONS, (_san(["DNS:wandb_local.fleet CA"]), False)])
    assert pki.ca_reasons() == [
        "%s: has the subjectAltName extension, which the request does not ask for" % pki.ca_cert_path
    ]
    pki.ca(aki=x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.ca_key.public_key()))
    assert pki.ca_reasons() == [
        "%s: has the authorityKeyIdentifier extension, which the request does not ask for" % pki.ca_cert_path
    ]


def test_another_ca_name_is_a_reason(pki):
    assert pki.ca_reasons("Site CA") == [
        "%s: its subject is CN=wandb_local.fleet CA, the role asks for CN=Site CA" % pki.ca_cert_path
    ]


def test_a_ca_not_self_signed_is_a_reason(pki):
    pki.ca(signer=_key())
    assert pki.ca_reasons() == [
        "%s: is not self-signed (its issuer is not its subject, or its own key did not sign it)" % pki.ca_cert_path
    ]


def test_a_ca_without_subject_key_identifier_is_a_reason(pki):
    pki.ca(ski=False)
    assert pki.ca_reasons() == ["%s: has no subject key identifier" % pki.ca_cert_path]


def test_a_renewed_ca_with_the_same_key_keeps_the_certificates(pki):
    pki.ca()
    assert pki.ca_reasons() == []
    assert pki.host_reasons() == []


# --- inputs ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "name", "sans", "message"),
    [
        ("../x", NAME, SANS, "host must be a file name"),
        (HOST, "", SANS, "name must be a file name"),
        (HOST, NAME, [], "must list at least one name"),
        (HOST, NAME, "DNS:fleet-mysql", "must list at least one name"),
    ],
)
def test_wrong_inputs_are_the_role_s_bug(pki, host, name, sans, message):
    with pytest.raises(IssuedCertificateInputError, match=message):
        host_reasons(str(pki.root), host, name, sans)


def test_a_ca_needs_a_common_name(pki):
    with pytest.raises(IssuedCertificateInputError, match="common_name"):
        ca_reasons(str(pki.root), "")
