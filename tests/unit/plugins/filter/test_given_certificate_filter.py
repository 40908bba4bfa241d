# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The given_certificate entry point's check, on certificates made here with `cryptography`."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.wandb_local.fleet.plugins.filter.given_certificate_problems import FilterModule
from ansible_collections.wandb_local.fleet.plugins.module_utils._given_certificate import parse_name

problems = FilterModule().filters()["given_certificate_problems"]
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
SOURCES = {"cert": "/pki/db1.crt", "key": "/pki/db1.key", "ca": "/pki/ca.crt"}
VARIABLES = {
    "cert": "wandb_mysql_tls_cert_file",
    "key": "wandb_mysql_tls_key_file",
    "ca": "wandb_mysql_tls_ca_file",
    "names": "wandb_mysql_advertise_host",
}


def _key(kind="ec"):
    return ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)


def _pem_key(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(subject_key, common_name, sans, issuer=None, not_before=None, not_after=None, ca=False):
    """A certificate for subject_key, signed by issuer=(cert, key) or self-signed."""
    issuer_cert, issuer_key = issuer or (None, subject_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer_cert.subject if issuer_cert else _name(common_name))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - DAY)
        .not_valid_after(not_after or NOW + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        entries = [
            x509.IPAddress(ipaddress.ip_address(value[3:])) if value.startswith("IP:") else x509.DNSName(value[4:])
            for value in sans
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki():
    ca_key = _key()
    ca = _issue(ca_key, "Test CA", [], ca=True)
    inter_key = _key()
    inter = _issue(inter_key, "Test Intermediate", [], issuer=(ca, ca_key), ca=True)
    key = _key()
    leaf = _issue(key, "db1.example.net", ["DNS:db1.example.net", "DNS:*.db.example.net", "IP:10.0.0.5"], (ca, ca_key))
    chained = _issue(key, "db1.example.net", ["DNS:db1.example.net"], (inter, inter_key))
    other_ca_key = _key()
    return {
        "ca": _pem(ca),
        "ca_key": ca_key,
        "ca_cert": ca,
        "other_ca": _pem(_issue(other_ca_key, "Other CA", [], ca=True)),
        "inter": _pem(inter),
        "key": _pem_key(key),
        "key_obj": key,
        "cert": _pem(leaf),
        "chained": _pem(chained),
    }


def _check(contents, names, variables=None):
    """As the entry point calls it: a path for each file given."""
    sources = {part: SOURCES[part] for part in contents}
    return problems(contents, names, sources=sources, variables=VARIABLES if variables is None else variables)


def test_a_good_certificate_has_no_problem(pki):
    contents = {"cert": pki["cert"], "key": pki["key"], "ca": pki["ca"]}
    assert _check(contents, ["db1.example.net", "IP:10.0.0.5", "DNS:DB1.example.net.", "10.0.0.5"]) == []


def test_a_wildcard_covers_one_label_only(pki):
    contents = {"cert": pki["cert"], "key": pki["key"]}
    assert _check(contents, ["a.db.example.net"]) == []
    (message,) = _check(contents, ["a.b.db.example.net"])
    assert "DNS:a.b.db.example.net" in message
    (message,) = _check(contents, ["db.example.net"])
    assert "DNS:db.example.net" in message


def test_a_missing_name_is_named_with_the_variable(pki):
    contents = {"cert": pki["cert"], "key": pki["key"], "ca": pki["ca"]}
    (message,) = _check(contents, ["db1.example.net", "db2.example.net"])
    assert message.startswith("wandb_mysql_advertise_host: ")
    assert "DNS:db2.example.net" in message
    assert "/pki/db1.crt" in message and "wandb_mysql_tls_cert_file" in message
    # ...and what the certificate does name, so the operator sees the difference.
    assert "DNS:db1.example.net" in message and "IP:10.0.0.5" in message


def test_an_address_needs_an_ip_entry_not_a_dns_one(pki):
    key = _key()
    cert = _pem(_issue(key, "x", ["DNS:10.0.0.7"]))
    (message,) = _check({"cert": cert, "key": _pem_key(key)}, ["10.0.0.7"])
    assert "IP:10.0.0.7" in message


def test_the_common_name_alone_does_not_count(pki):
    key = _key()
    cert = _pem(_issue(key, "db1.example.net", []))
    (message,) = _check({"cert": cert, "key": _pem_key(key)}, ["db1.example.net"])
    assert "DNS:db1.example.net" in message and "no subject alternative name" in message


def test_a_key_of_another_certificate_is_refused(pki):
    other = _pem_key(_key("rsa"))
    (message,) = _check({"cert": pki["cert"], "key": other, "ca": pki["ca"]}, ["db1.example.net"])
    assert message.startswith("wandb_mysql_tls_key_file: ")
    assert "does not belong to the certificate" in message
    assert other.splitlines()[1] not in message


def test_an_expired_certificate_is_refused(pki):
    key = pki["key_obj"]
    expired = _issue(key, "db1", ["DNS:db1.example.net"], (pki["ca_cert"], pki["ca_key"]), NOW - 30 * DAY, NOW - DAY)
    (message,) = _check({"cert": _pem(expired), "key": pki["key"], "ca": pki["ca"]}, ["db1.example.net"])
    assert message.startswith("wandb_mysql_tls_cert_file: ")
    assert "expired on " + (NOW - DAY).strftime("%Y-%m-%d") in message


def test_a_certificate_not_yet_valid_is_refused(pki):
    key = pki["key_obj"]
    future = _issue(key, "db1", ["DNS:db1.example.net"], None, NOW + DAY, NOW + 10 * DAY)
    (message,) = _check({"cert": _pem(future), "key": pki["key"]}, ["db1.example.net"])
    assert "is not valid before" in message


def test_a_ca_that_did_not_sign_it_is_refused(pki):
    (message,) = _check({"cert": pki["cert"], "key": pki["key"], "ca": pki["other_ca"]}, ["db1.example.net"])
    assert message.startswith("wandb_mysql_tls_ca_file: ") and "/pki/ca.crt" in message


def test_a_chain_in_the_certificate_file_leads_to_the_ca(pki):
    names = ["db1.example.net"]
    assert _check({"cert": pki["chained"] + pki["inter"], "key": pki["key"], "ca": pki["ca"]}, names) == []
    (message,) = _check({"cert": pki["chained"], "key": pki["key"], "ca": pki["ca"]}, names)
    assert "signed the certificate" in message
    # A CA bundle holding the intermediate serves too.
    assert _check({"cert": pki["chained"], "key": pki["key"], "ca": pki["ca"] + pki["inter"]}, names) == []


def test_missing_and_unreadable_files_are_named(pki):
    found = _check({"cert": "", "key": None, "ca": ""}, ["db1.example.net"])
    assert [m.split(":")[0] for m in found] == [
        "wandb_mysql_tls_cert_file",
        "wandb_mysql_tls_key_file",
        "wandb_mysql_tls_ca_file",
    ]
    assert all("was not found on the controller" in m for m in found)
    garbage = _check({"cert": "not a certificate", "key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END"}, ["x"])
    assert any("holds no readable PEM certificate" in m for m in garbage)
    assert any("holds no readable PEM private key" in m for m in garbage)
    assert not any("AAAA" in m for m in garbage)


def test_no_ca_is_fine_when_none_was_given(pki):
    contents = {"cert": pki["cert"], "key": pki["key"], "ca": ""}
    assert problems(contents, ["db1.example.net"], sources={"cert": "c", "key": "k", "ca": ""}) == []


def test_an_encrypted_key_is_refused_with_a_hint(pki):
    encrypted = pki["key_obj"].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    (message,) = _check({"cert": pki["cert"], "key": encrypted.decode()}, ["db1.example.net"])
    assert "passphrase" in message and "Ansible Vault" in message


def test_default_variables_are_the_entry_points_own(pki):
    (message,) = problems({"cert": pki["cert"], "key": pki["key"]}, ["db9.example.net"])
    assert message.startswith("wandb_secrets_given_cert_names: ")
    (message,) = problems({"cert": "", "key": pki["key"]}, ["db1.example.net"], sources={"cert": "/x.crt"})
    assert message == "wandb_secrets_given_cert_src: /x.crt was not found on the controller (or is empty)"


@pytest.mark.parametrize("names", [[], "db1.example.net", None, ["bad name"], ["IP:db1"], [""]])
def test_a_wrong_names_list_is_a_problem(pki, names):
    found = _check({"cert": pki["cert"], "key": pki["key"]}, names)
    assert found and all(m.startswith("wandb_mysql_advertise_host: ") for m in found)


@pytest.mark.parametrize(
    "name, parsed",
    [
        ("db1.example.net", ("DNS", "db1.example.net")),
        ("DNS:Db1.Example.Net.", ("DNS", "db1.example.net")),
        ("10.0.0.5", ("IP", ipaddress.ip_address("10.0.0.5"))),
        ("IP:fd00::1", ("IP", ipaddress.ip_address("fd00::1"))),
        ("[fd00::1]", ("IP", ipaddress.ip_address("fd00::1"))),
        ("dns:localhost", ("DNS", "localhost")),
    ],
)
def test_names_are_parsed_as_clients_dial_them(name, parsed):
    assert parse_name(name) == parsed


def test_the_input_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="given_certificate_problems"):
        problems("cert", ["x"])
