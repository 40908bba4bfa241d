"""file_storage against the real MinIO server built by the lab (tests/lab/setup minio)."""

import json
import os
import subprocess
import uuid
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import HOST

pytestmark = pytest.mark.emulator


def _client(endpoint, key, secret):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture
def mn(minio, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    env = dict(os.environ, MC_CONFIG_DIR=str(tmp_path / "mc"))

    def mc(*args, check=True):
        proc = subprocess.run(
            [minio["mc"], "--json", *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError("mc %s failed: %s %s" % (" ".join(args), proc.stdout, proc.stderr))
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    mc("alias", "set", "lab", minio["endpoint"], minio["user"], minio["password"])
    return {
        "args": {
            "provider": "minio",
            "name": "wandb-%s" % suffix,
            "endpoint_url": minio["endpoint"],
            "access_key": minio["user"],
            "secret_key": minio["password"],
            "host": HOST,
        },
        "admin": _client(minio["endpoint"], minio["user"], minio["password"]),
        "endpoint": minio["endpoint"],
        "mc": mc,
        "mc_path": str(minio["mc"]),
    }


def _credentials(bucket_url):
    """(access key, secret key, host:port, bucket) from s3://AK:SK@HOST:PORT/BUCKET."""
    parts = urlsplit(bucket_url)
    return (
        unquote(parts.username),
        unquote(parts.password),
        "%s:%s" % (parts.hostname, parts.port),
        parts.path.lstrip("/"),
    )


def test_provision_key_is_scoped_to_its_bucket(mn, run_module):
    args, admin, mc = mn["args"], mn["admin"], mn["mc"]
    check = run_module(args, check=True)
    assert check["changed"] is True
    assert args["name"] not in [b["Name"] for b in admin.list_buckets()["Buckets"]]

    first = run_module(args, diff=True)
    assert first["changed"] is True
    assert first["bucket_queue"] == "internal://"
    assert first["env"]["AWS_REGION"] == "us-east-1"
    assert first["env"]["BUCKET"] == first["bucket"]
    assert first["secret_env_keys"] == ["BUCKET"]
    assert any("server-wide" in n for n in first["notes"])
    key, secret, hostport, bucket = _credentials(first["bucket"])
    assert hostport == urlsplit(mn["endpoint"]).netloc and bucket == args["name"]
    assert key == "wandb-" + args["name"] and key != args["access_key"]
    assert secret not in json.dumps(first["diff"]) and secret not in json.dumps(first["changes"])

    # MinIO's own tool sees the user and its bucket-only policy.
    (info,) = mc("admin", "user", "info", "lab", key)
    assert "wandb-" + args["name"] in info["policyName"].split(",")
    (policy,) = mc("admin", "policy", "info", "lab", "wandb-" + args["name"])
    statements = policy["policyInfo"]["Policy"]["Statement"]
    assert [sorted(s["Resource"]) for s in statements] == [
        sorted(["arn:aws:s3:::" + args["name"], "arn:aws:s3:::%s/*" % args["name"]])
    ]

    # The generated key can write and read its bucket...
    user = _client(mn["endpoint"], key, secret)
    user.put_object(Bucket=args["name"], Key="runs/x.txt", Body=b"hello")
    assert user.get_object(Bucket=args["name"], Key="runs/x.txt")["Body"].read() == b"hello"
    # ...and cannot read, list or write another bucket.
    other = "other-" + args["name"]
    admin.create_bucket(Bucket=other)
    admin.put_object(Bucket=other, Key="secret.txt", Body=b"no")
    for call in (
        lambda: user.get_object(Bucket=other, Key="secret.txt"),
        lambda: user.list_objects_v2(Bucket=other),
        lambda: user.put_object(Bucket=other, Key="x", Body=b"x"),
    ):
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"

    again = run_module(args)
    assert again["changed"] is False, again["changes"]
    assert again["bucket"] == first["bucket"], "a re-run must not rotate the key"


def test_verify_and_server_wide_cors(mn, run_module):
    args, mc = mn["args"], mn["mc"]
    result = run_module(dict(args, verify=True))
    assert [(s["step"], s["status"]) for s in result["verify"]] == [
        ("put-probe", "ok"),
        ("notification", "skipped"),
        ("cors", "ok"),
        ("presigned-url", "ok"),
        ("delete-probe", "ok"),
    ]
    # MinIO's CORS is server-wide: restrict it to another origin and verify names the cors step.
    mc("admin", "config", "set", "lab", "api", "cors_allow_origin=https://other.example")
    try:
        broken = run_module(dict(args, verify=True), expect_failure=True)
    finally:
        mc("admin", "config", "set", "lab", "api", "cors_allow_origin=*")
    assert broken["failed_step"] == "cors"
    assert "MINIO_API_CORS_ALLOW_ORIGIN" in broken["msg"]
    assert [s["step"] for s in broken["verify"]] == ["put-probe", "notification", "cors", "delete-probe"]


def test_secret_drift_is_repaired_and_absent(mn, run_module):
    args, admin, mc = mn["args"], mn["admin"], mn["mc"]
    first = run_module(args)
    key, secret = _credentials(first["bucket"])[:2]
    mc("admin", "user", "add", "lab", key, "someone-else-set-this")
    repaired = run_module(args)
    assert [c for c in repaired["changes"] if "secret key" in c] == [
        "reset the secret key of user %s (it no longer matched the key derived from the admin credentials)" % key
    ]
    _client(mn["endpoint"], key, secret).head_bucket(Bucket=args["name"])

    _client(mn["endpoint"], key, secret).put_object(Bucket=args["name"], Key="keep.txt", Body=b"x")
    kept = run_module(dict(args, state="absent"))
    assert "is not empty: kept" in json.dumps(kept.get("warnings"))
    assert args["name"] in [b["Name"] for b in admin.list_buckets()["Buckets"]]
    assert mc("admin", "user", "info", "lab", key, check=False)[0].get("status") == "error"
    gone = run_module(dict(args, state="absent", force=True))
    assert gone["changes"][-1] == "delete bucket %s" % args["name"]
    assert args["name"] not in [b["Name"] for b in admin.list_buckets()["Buckets"]]
    assert run_module(dict(args, state="absent"))["changed"] is False


def test_wrong_admin_secret_is_reported(mn, run_module):
    result = run_module(dict(mn["args"], secret_key="not-the-root-password"), expect_failure=True)
    assert "missing permission s3:ListBucket on resource arn:aws:s3:::" + mn["args"]["name"] in result["msg"]


def test_mc_client_with_a_user_of_its_own(mn, run_module):
    """The minio role's way: mc instead of the Python libraries, a named user with a given secret, and
    no policy but the bucket's on it."""
    args, admin, mc = mn["args"], mn["admin"], mn["mc"]
    user, secret = "wandb-" + uuid.uuid4().hex[:6], "Given-Secret-" + uuid.uuid4().hex[:12]
    args = dict(args, mc_path=mn["mc_path"], user=user, user_secret_key=secret, exclusive_policy=True)
    del args["host"]  # MinIO's CORS is server-wide: present needs no W&B host without verify

    check = run_module(args, check=True)
    assert check["changed"] is True
    assert args["name"] not in [b["Name"] for b in admin.list_buckets()["Buckets"]]
    first = run_module(args, diff=True)
    assert first["changes"] == [
        "create bucket %s" % args["name"],
        "create policy wandb-%s (s3:* on bucket %s only)" % (args["name"], args["name"]),
        "create user %s for bucket %s" % (user, args["name"]),
        "attach policy wandb-%s to user %s" % (args["name"], user),
    ]
    # Ansible masks the value of a no_log option wherever it appears, BUCKET included.
    assert _credentials(first["bucket"])[:2] == (user, "********")
    assert secret not in json.dumps(first["diff"]) + json.dumps(first["changes"])
    client = _client(mn["endpoint"], user, secret)
    client.put_object(Bucket=args["name"], Key="runs/y.txt", Body=b"hi")
    assert run_module(args)["changed"] is False
    assert run_module(args, check=True)["changed"] is False

    # A policy attached by hand goes; a secret changed by hand is set back; a disabled user is enabled.
    mc("admin", "policy", "attach", "lab", "readwrite", "--user", user)
    mc("admin", "user", "add", "lab", user, "someone-else-set-this")
    mc("admin", "user", "disable", "lab", user)
    repaired = run_module(args)
    assert repaired["changes"] == [
        "enable user %s" % user,
        "detach policies readwrite from user %s (its only policy is wandb-%s)" % (user, args["name"]),
        "reset the secret key of user %s (it no longer matched user_secret_key)" % user,
    ]
    (info,) = mc("admin", "user", "info", "lab", user)
    assert info["policyName"] == "wandb-" + args["name"]
    client.head_bucket(Bucket=args["name"])

    gone = run_module(dict(args, state="absent", force=True))
    assert gone["changes"][-1] == "delete bucket %s" % args["name"]
    assert args["name"] not in [b["Name"] for b in admin.list_buckets()["Buckets"]]


def test_mc_client_masks_secrets_and_names_the_permission(mn, run_module):
    args = dict(mn["args"], mc_path=mn["mc_path"], secret_key="not-the-root-password")
    result = run_module(args, expect_failure=True)
    assert "missing permission s3:ListBucket on resource arn:aws:s3:::" + args["name"] in result["msg"]
    assert "not-the-root-password" not in json.dumps(result)
