"""The secrets role's given_certificate entry point on a real host: a certificate that does not fit
stops the run, naming the variable and the name, before anything is copied; a good one is installed
under the lab CA path's file names with the key 0600 for the service account, once."""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lab_playbook import run_playbook

testinfra_hosts = ["ansible://lab_peer"]

CERT_DIR = "/etc/smoke-given-tls"
NAMES = ["lab-smoke-peer", "given.example.net", "10.99.0.7"]
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _issue(key, sans, issuer, not_after=NOW + 30 * DAY):
    ca_cert, ca_key = issuer
    entries = [
        x509.IPAddress(ipaddress.ip_address(name[3:])) if name.startswith("IP:") else x509.DNSName(name)
        for name in sans
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
        .issuer_name(ca_cert.subject if ca_cert else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 60 * DAY)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(entries), critical=False)
    )
    return builder.sign(ca_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Files on the controller: a CA, a key, and certificates that fit or do not."""
    directory = tmp_path_factory.mktemp("given-pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Smoke given CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 60 * DAY)
        .not_valid_after(NOW + 365 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    full = ["lab-smoke-peer", "given.example.net", "IP:10.99.0.7"]
    certificates = {
        "good": _issue(key, full, (ca, ca_key)),
        "lacking": _issue(key, ["lab-smoke-peer", "IP:10.99.0.7"], (ca, ca_key)),
        "expired": _issue(key, full, (ca, ca_key), not_after=NOW - DAY),
    }
    paths = {"ca": directory / "ca.crt", "key": directory / "service.key", "other_key": directory / "other.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for name, private in (("key", key), ("other_key", other_key)):
        paths[name].write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    for name, certificate in certificates.items():
        paths[name] = directory / f"{name}.crt"
        paths[name].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return {name: str(path) for name, path in paths.items()}


def _install(pki, cert, key="key", **more):
    return run_playbook(
        "given-certificate.yml",
        extra_vars={
            **more,
            "wandb_secrets_given_cert_src": pki[cert],
            "wandb_secrets_given_key_src": pki[key],
            "wandb_secrets_given_ca_src": pki["ca"],
            "wandb_secrets_given_cert_names": NAMES,
            "wandb_secrets_cert_name": "smoke",
            "wandb_secrets_cert_dir": CERT_DIR,
            "wandb_secrets_cert_owner": "daemon",
            "wandb_secrets_cert_group": "daemon",
        },
    )


@pytest.fixture(autouse=True, scope="module")
def clean_host(host):
    host.run(f"rm -rf {CERT_DIR}")
    yield
    host.run(f"rm -rf {CERT_DIR}")


def test_a_certificate_lacking_a_name_changes_nothing(host, pki):
    run = _install(pki, "lacking")
    assert run.returncode != 0, run.tail()
    assert (
        "wandb_secrets_given_cert_names: the certificate in " + pki["lacking"] + " (wandb_secrets_given_cert_src) "
        "does not name DNS:given.example.net, which clients use" in run.output
    ), run.tail()
    assert run.failed == {"lab-smoke-peer": 1} and run.changed == {"lab-smoke-peer": 0}, run.tail()
    assert not host.file(CERT_DIR).exists


def test_an_expired_certificate_and_a_foreign_key_are_both_named(host, pki):
    run = _install(pki, "expired", key="other_key")
    assert run.returncode != 0, run.tail()
    assert "wandb_secrets_given_cert_src: the certificate in " + pki["expired"] + " expired on " in run.output
    assert "wandb_secrets_given_key_src: the private key in " + pki["other_key"] + " does not belong" in run.output
    assert run.changed == {"lab-smoke-peer": 0}, run.tail()
    assert not host.file(CERT_DIR).exists
    # What the key file holds never reaches the output.
    with open(pki["other_key"]) as handle:
        assert handle.read().splitlines()[1] not in run.output


def test_check_only_installs_nothing(host, pki):
    # What a role's validate phase would call: the checks pass, nothing is copied.
    run = _install(pki, "good", wandb_secrets_given_cert_check_only=True)
    assert run.returncode == 0 and run.changed == {"lab-smoke-peer": 0}, run.tail()
    assert not host.file(CERT_DIR).exists


def test_a_good_certificate_is_installed_once(host, pki):
    run = _install(pki, "good")
    assert run.returncode == 0, run.tail()
    assert run.changed["lab-smoke-peer"] > 0 and "the given certificate changed" in run.output, run.tail()

    directory = host.file(CERT_DIR)
    assert (directory.user, directory.group, directory.mode) == ("root", "daemon", 0o750)
    expected = {
        "ca.crt": ("root", 0o644, pki["ca"]),
        "smoke.crt": ("root", 0o644, pki["good"]),
        "smoke.key": ("daemon", 0o600, pki["key"]),
    }
    for name, (owner, mode, source) in expected.items():
        installed = host.file(f"{CERT_DIR}/{name}")
        assert (installed.user, installed.group, installed.mode) == (owner, "daemon", mode), name
        with open(source) as handle:
            assert installed.content_string == handle.read(), name

    again = _install(pki, "good")
    assert again.returncode == 0 and again.changed == {"lab-smoke-peer": 0}, again.tail()
    assert "the given certificate changed" not in again.output
