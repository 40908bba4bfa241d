"""The single MinIO node, checked through its S3 API with the key the role published for W&B."""

import json
import os
import shlex
import stat
import uuid
from pathlib import Path

import pytest
from endpoint_contract import endpoint_file, published_endpoint
from lab_playbook import run_playbook

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url

testinfra_hosts = ["ansible://minio-1"]

MC = "/usr/local/bin/mc"
CA = "/etc/minio/certs/ca.crt"
ROOT = f"{MC} --config-dir /etc/minio/mc --json --no-color"


def wandb_env(host=None):
    """The W&B variables the role published for the server (wandb_minio_endpoint.env)."""
    return published_endpoint("bucket", "minio-1")["env"]


def as_wandb(host, command, stdin=None):
    """Run mc with only what W&B gets: the BUCKET URL, trusting the CA the deployment uses."""
    bucket = parse_url(wandb_env(host)["BUCKET"])
    scheme = "https" if bucket.get("tls") else "http"
    alias = f"{scheme}://{bucket['access_key']}:{bucket['secret_key']}@{bucket['endpoint']}"
    env = f"SSL_CERT_FILE={CA} MC_HOST_w={shlex.quote(alias)}"
    pipe = f"printf %s {shlex.quote(stdin)} | " if stdin is not None else ""
    return host.run(f"{pipe}env {env} {MC} --config-dir /tmp/mc-wandb --json --no-color {command}")


def test_published_endpoint_is_the_bucket_contract(host):
    endpoint = published_endpoint("bucket", "minio-1")
    assert endpoint["url"] == endpoint["client_url"] == "https://minio-1:9000"
    assert (endpoint["host"], endpoint["port"], endpoint["tls"]) == ("minio-1", 9000, True)
    secrets = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "wandb-secrets"
    assert endpoint["ca_file"] == str(secrets / "ca" / "ca.crt")
    # The CA the endpoint names verifies the server: its certificate is the one the node trusts.
    assert Path(endpoint["ca_file"]).read_text() == host.file(CA).content_string


def test_published_settings_are_what_wandb_needs(host):
    env = wandb_env(host)
    assert env["AWS_REGION"] == "us-east-1"
    assert env["BUCKET_QUEUE"] == "internal://"
    bucket = parse_url(env["BUCKET"])
    assert bucket["endpoint"] == "minio-1:9000"
    assert bucket["bucket"] == "wandb"
    assert bucket["tls"] is True
    assert bucket["access_key"] == "wandb"
    assert len(bucket["secret_key"]) == 40


def test_put_and_get_with_the_published_key(host):
    body = f"probe {uuid.uuid4()}"
    put = as_wandb(host, "pipe w/wandb/probe/object.txt", stdin=body)
    assert put.rc == 0, put.stdout + put.stderr
    get = as_wandb(host, "cat w/wandb/probe/object.txt")
    assert get.rc == 0, get.stdout + get.stderr
    assert get.stdout == body


@pytest.fixture(scope="module")
def other_bucket(host):
    """A bucket the W&B key has no business in, made with the root credentials."""
    host.check_output(f"{ROOT} mb --ignore-existing root/other")
    host.check_output(f"printf classified-4711 | {ROOT} pipe root/other/secret.txt")
    return "other"


def test_key_cannot_read_or_list_another_bucket(host, other_bucket):
    read = as_wandb(host, f"cat w/{other_bucket}/secret.txt")
    assert read.rc != 0
    # mc stats the object first and words the server's AccessDenied as missing permissions.
    assert "Insufficient permissions" in read.stdout or "AccessDenied" in read.stdout, read.stdout
    assert "classified-4711" not in read.stdout
    listing = as_wandb(host, f"ls w/{other_bucket}")
    assert listing.rc != 0
    assert "AccessDenied" in listing.stdout
    write = as_wandb(host, f"pipe w/{other_bucket}/planted.txt", stdin="x")
    assert write.rc != 0
    # Listing all buckets shows only the W&B bucket: MinIO filters what the policy does not allow.
    buckets = [json.loads(line)["key"] for line in as_wandb(host, "ls w").stdout.splitlines()]
    assert buckets == ["wandb/"]


def test_the_key_has_the_bucket_policy_only(host):
    info = json.loads(host.check_output(f"{ROOT} admin user info root wandb"))
    assert (info["policyName"], info["userStatus"]) == ("wandb-wandb", "enabled")
    policy = json.loads(host.check_output(f"{ROOT} admin policy info root wandb-wandb"))["policyInfo"]["Policy"]
    assert [(s["Effect"], s["Action"], sorted(s["Resource"])) for s in policy["Statement"]] == [
        ("Allow", ["s3:*"], ["arn:aws:s3:::wandb", "arn:aws:s3:::wandb/*"])
    ]


def test_key_cannot_administer_the_server(host):
    users = as_wandb(host, "admin user list w")
    assert users.rc != 0


def test_cors_allows_the_wandb_host_only(host):
    """MinIO's CORS is server-wide: a pre-flight from the W&B HOST is answered, another origin's is not."""
    probe = (
        "import ssl, sys, urllib.request\n"
        "req = urllib.request.Request('https://minio-1:9000/wandb/x', method='OPTIONS', headers={\n"
        "    'Origin': sys.argv[1], 'Access-Control-Request-Method': 'PUT'})\n"
        f"ctx = ssl.create_default_context(cafile='{CA}')\n"
        "try:\n"
        "    resp = urllib.request.urlopen(req, context=ctx)\n"
        "except urllib.error.HTTPError as err:\n"
        "    resp = err\n"
        "print(resp.headers.get('Access-Control-Allow-Origin') or '-')\n"
    )
    allowed = host.check_output(f"python3 -c {shlex.quote(probe)} https://wandb.lab.test")
    other = host.check_output(f"python3 -c {shlex.quote(probe)} https://elsewhere.test")
    assert allowed == "https://wandb.lab.test"
    assert other == "-"


def test_server_runs_hardened_as_its_own_user(host):
    service = host.service("minio")
    assert service.is_running and service.is_enabled
    assert host.process.get(comm="minio").user == "minio"
    env_file = host.file("/etc/default/minio")
    assert (env_file.user, env_file.group, env_file.mode) == ("root", "root", 0o600)
    assert host.file("/etc/minio/certs/minio.key").mode == 0o600
    assert host.check_output("systemctl show -p NoNewPrivileges --value minio") == "yes"
    assert host.check_output("systemctl show -p ProtectSystem --value minio") == "strict"


def service_state(host):
    return (
        host.check_output("sha256sum /etc/default/minio"),
        host.check_output("systemctl show -p ExecMainStartTimestampMonotonic --value minio"),
    )


@pytest.mark.parametrize(
    ("extra_vars", "variable", "secret"),
    [
        ({"wandb_minio_root_password": "Sh0rt!x"}, "wandb_minio_root_password", "Sh0rt!x"),
        ({"wandb_minio_drives": "/var/lib/minio/d{1...17}"}, "wandb_minio_drives", None),
        ({"wandb_minio_binary_src": "/nonexistent/minio"}, "wandb_minio_binary_src", None),
    ],
    ids=["short-root-password", "17-drives-no-erasure-set", "missing-binary"],
)
def test_wrong_input_stops_the_run_before_any_change(host, extra_vars, variable, secret):
    before = service_state(host)
    run = run_playbook("converge.yml", extra_vars=extra_vars)
    assert run.returncode != 0, run.tail()
    assert variable in run.output, run.tail()
    if secret is not None:
        assert secret not in run.output
    assert not any(run.changed.values()), run.tail()
    assert service_state(host) == before


def publish_from_the_controller(tmp_path, *args):
    """The publish entry point for minio-1, run from a host outside the group (the implicit localhost,
    as the server's host under --limit wandb_server); the endpoint it set goes to a 0600 file."""
    dump = tmp_path / "published.json"
    run = run_playbook(
        "publish.yml",
        *args,
        extra_vars={
            "__wandb_lab_publish_from": "localhost",
            "__wandb_lab_publish_for": "minio-1",
            "__wandb_lab_publish_dump": str(dump),
        },
    )
    assert run.returncode == 0, run.tail()
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    return run, json.loads(dump.read_text())


def test_publish_from_outside_the_group_changes_nothing_and_matches_converge(host, tmp_path):
    before = service_state(host)
    run, published = publish_from_the_controller(tmp_path)
    assert not any(run.changed.values()), run.tail()
    assert published == json.loads(endpoint_file("minio-1").read_text())
    assert service_state(host) == before
    assert wandb_env()["BUCKET"] not in run.output


def test_the_old_endpoint_input_still_works_with_a_warning(tmp_path):
    """wandb_minio_endpoint (an input before 0.2.0, now the published fact) given in the inventory."""
    legacy = tmp_path / "legacy-inventory.ini"
    legacy.write_text("[wandb_minio]\nminio-1 wandb_minio_endpoint=minio-lb.lab.test:9443\n")
    run, published = publish_from_the_controller(tmp_path, "-i", str(legacy))
    assert (published["host"], published["port"], published["url"]) == (
        "minio-lb.lab.test",
        9443,
        "https://minio-lb.lab.test:9443",
    )
    assert published["env"]["BUCKET"].endswith("@minio-lb.lab.test:9443/wandb?tls=true")
    assert "wandb_minio_endpoint is deprecated: set wandb_minio_bucket_endpoint instead" in " ".join(run.output.split())
