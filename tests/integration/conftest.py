"""Fixtures that start the cloud emulators and contract fakes on free loopback ports, and run
the file_storage module the way Ansible does (a subprocess reading ANSIBLE_MODULE_ARGS)."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import emulators
from contract.azure_fake import AzureFake, make_certificate
from contract.google_fake import GoogleFake

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
MODULE = REPO / "plugins" / "modules" / "file_storage.py"
HOST = "https://wandb.example.net"


def _require(fn, *args):
    """Start something; a missing prerequisite FAILS the test with the reason, it never skips."""
    try:
        return fn(*args)
    except emulators.EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("emulator-logs")


@pytest.fixture(scope="session")
def run_module():
    if not (COLLECTIONS / "ansible_collections" / "wandb_local" / "fleet").exists():
        pytest.fail("build/collections is missing: run `make deps` first", pytrace=False)

    def run(args, check=False, diff=False, env=None, expect_failure=False, tmp=None):
        payload = dict(args)
        payload["_ansible_check_mode"] = check
        payload["_ansible_diff"] = diff
        child_env = dict(os.environ, PYTHONPATH=str(COLLECTIONS), **(env or {}))
        proc = subprocess.run(
            [sys.executable, str(MODULE)],
            input=json.dumps({"ANSIBLE_MODULE_ARGS": payload}),
            capture_output=True,
            text=True,
            env=child_env,
            timeout=600,
            check=False,
        )
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pytest.fail("module printed no JSON (rc=%s):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
        failed = bool(result.get("failed"))
        if failed != expect_failure:
            pytest.fail(
                "module %s: %s" % ("failed" if failed else "did not fail", json.dumps(result, indent=1)), pytrace=False
            )
        return result

    return run


# AWS -----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def moto(log_dir):
    proc, url = _require(emulators.start_moto, log_dir)
    yield url
    proc.stop()


# MinIO ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def minio(log_dir, tmp_path_factory):
    user, password = "wandbfleetroot", "root-secret-" + base64.b16encode(os.urandom(6)).decode().lower()
    proc, url = _require(emulators.start_minio, log_dir, tmp_path_factory.mktemp("minio-data"), user, password)
    mc = emulators.minio_binaries()[1]
    yield {"endpoint": url, "user": user, "password": password, "mc": mc}
    proc.stop()


# Azure ---------------------------------------------------------------------------------------
AZURE_ACCOUNT = "wandbfleettest"
AZURE_KEY = base64.b64encode(b"wandb-fleet-azurite-test-account-key-0123456789abcdef").decode()


@pytest.fixture(scope="session")
def azure(log_dir, tmp_path_factory):
    proc, blob, queue = _require(
        emulators.start_azurite, log_dir, tmp_path_factory.mktemp("azurite"), {AZURE_ACCOUNT: AZURE_KEY}
    )
    cert, key = make_certificate(tmp_path_factory.mktemp("azure-tls"))
    fake = AzureFake(
        cert,
        key,
        {
            AZURE_ACCOUNT: {
                "blob": "%s/%s" % (blob, AZURE_ACCOUNT),
                "queue": "%s/%s" % (queue, AZURE_ACCOUNT),
                "key": AZURE_KEY,
            }
        },
    ).start()
    yield {
        "fake": fake,
        "account": AZURE_ACCOUNT,
        "key": AZURE_KEY,
        "blob": "%s/%s" % (blob, AZURE_ACCOUNT),
        "queue": "%s/%s" % (queue, AZURE_ACCOUNT),
        # requests (under azure-core and MSAL) trusts the fake's certificate through this.
        "env": {"REQUESTS_CA_BUNDLE": str(cert)},
        "args": {
            "subscription_id": "00000000-0000-0000-0000-000000000001",
            "resource_group": "rg-wandb",
            "storage_account": AZURE_ACCOUNT,
            "client_id": "11111111-1111-1111-1111-111111111111",
            "secret": "fake-client-secret",
            "tenant": "22222222-2222-2222-2222-222222222222",
            "cloud_environment": fake.url,
            "disable_instance_discovery": True,
        },
    }
    fake.stop()
    proc.stop()


# Google --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def google(log_dir, tmp_path_factory):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    storage_proc, storage_url = _require(emulators.start_gcs_emulator, log_dir)
    pubsub_proc, pubsub_url = _require(emulators.start_pubsub_emulator, log_dir)
    fake = GoogleFake(storage_url, pubsub_url).start()
    # A service account key made here: the module signs URLs with it, the fake checks the signature.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    email = "wandb-admin@wandb-fleet-test.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": "wandb-fleet-test",
        "private_key_id": "0123456789abcdef",
        "private_key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "client_email": email,
        "client_id": "1234567890",
        "token_uri": fake.url + "/token",
    }
    creds_file = tmp_path_factory.mktemp("gcp") / "sa.json"
    creds_file.write_text(json.dumps(info))
    fake.add_signing_key(email, key.public_key())
    yield {
        "fake": fake,
        "storage": storage_url,
        "pubsub": pubsub_url,
        "credentials_file": str(creds_file),
        "env": {"STORAGE_EMULATOR_HOST": fake.url, "PUBSUB_EMULATOR_HOST": fake.host},
    }
    fake.stop()
    pubsub_proc.stop()
    storage_proc.stop()
