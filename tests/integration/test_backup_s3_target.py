"""The backup program's S3 target and bucket copy against the real MinIO server the lab builds:
a backup of a bucket (hundreds of objects, one over 50 MB) to another bucket under a prefix, the
manifest uploaded last, verification, retention, a damaged object, and the bucket restored."""

import hashlib
import importlib.util
import json
import os
import tarfile
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

pytestmark = pytest.mark.emulator

PROGRAM = Path(__file__).resolve().parents[2] / "roles" / "backup" / "files" / "wandb_backup.py"
_spec = importlib.util.spec_from_file_location("wandb_backup_s3", PROGRAM)
wb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wb)


def _client(minio):
    return boto3.client(
        "s3",
        endpoint_url=minio["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=minio["user"],
        aws_secret_access_key=minio["password"],
        config=Config(s3={"addressing_style": "path"}),
    )


def _objects(client, bucket):
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"]] = hashlib.sha256(body).hexdigest()
    return found


@pytest.fixture
def s3_site(minio, tmp_path):
    client = _client(minio)
    suffix = uuid.uuid4().hex[:8]
    source, backups = "wandb-%s" % suffix, "backups-%s" % suffix
    client.create_bucket(Bucket=source)
    client.create_bucket(Bucket=backups)
    for index in range(300):
        key = "wandb/runs/run-%03d/files/output-%d.log" % (index // 10, index)
        client.put_object(Bucket=source, Key=key, Body=os.urandom(index * 37 + 1))
    client.put_object(Bucket=source, Key="wandb/artifacts/big model.bin", Body=os.urandom(51 * 1024 * 1024 + 7))
    staged = tmp_path / "server.tar"
    with tarfile.open(staged, "w") as archive:
        info = tarfile.TarInfo("var/lib/wandb/env/kid.txt")
        info.size = 5
        archive.addfile(info, __import__("io").BytesIO(b"kid-1"))
    (tmp_path / "server.tar.json").write_text(json.dumps({"image": "wandb/local:0.83.0", "host": "app1"}))
    credentials = {"endpoint_url": minio["endpoint"], "access_key": minio["user"], "secret_key": minio["password"]}
    config = {
        "mysql": None,
        "bucket": dict(credentials, bucket=source, prefix=""),
        "server": {"version_url": "", "files": str(staged)},
        "target": dict(credentials, type="s3", bucket=backups, prefix="site-a/wandb"),
        "work_dir": str(tmp_path / "work"),
        "keep": 2,
        "metrics_file": str(tmp_path / "wandb_backup.prom"),
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return {"client": client, "source": source, "backups": backups, "config": config, "path": path}


def test_a_bucket_backed_up_to_s3_verifies_prunes_and_restores(s3_site, capsys, monkeypatch):
    client, source, backups = s3_site["client"], s3_site["source"], s3_site["backups"]
    original = _objects(client, source)
    assert len(original) == 301

    ids = iter(["20260101T000000Z", "20260102T000000Z", "20260103T000000Z"])
    monkeypatch.setattr(wb, "new_backup_id", lambda now=None: next(ids))
    for _attempt in range(3):
        assert wb.main(["--config", str(s3_site["path"]), "run"]) == 0
    target = wb.make_target(s3_site["config"])
    # Retention on the bucket: the oldest backup is gone, every object of it.
    assert target.ids() == ["20260102T000000Z", "20260103T000000Z"]
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=backups)["Contents"]]
    assert all(key.startswith("site-a/wandb/2026010") for key in keys)
    assert not [key for key in keys if "20260101T000000Z" in key]

    manifest = target.manifest("20260103T000000Z")
    assert manifest["bucket"]["objects"] == 301
    assert set(manifest["files"]) == {"bucket.tar", "bucket-index.json", "server.tar"}
    capsys.readouterr()
    assert wb.main(["--config", str(s3_site["path"]), "verify", "latest"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "20260103T000000Z"

    # A backup whose upload stopped before its manifest is neither listed nor kept.
    client.put_object(Bucket=backups, Key="site-a/wandb/20260104T000000Z/bucket.tar", Body=b"half")
    assert target.ids() == ["20260102T000000Z", "20260103T000000Z"]
    target.cleanup_partials()
    assert "site-a/wandb/20260104T000000Z/bucket.tar" not in [
        item["Key"] for item in client.list_objects_v2(Bucket=backups)["Contents"]
    ]

    # Emptied bucket (and an object the backup does not have): restore makes it what it was.
    for key in original:
        client.delete_object(Bucket=source, Key=key)
    client.put_object(Bucket=source, Key="wandb/after-the-backup", Body=b"new")
    assert wb.main(["--config", str(s3_site["path"]), "restore", "latest", "--bucket"]) == 0
    assert _objects(client, source) == original

    # A damaged file in the bucket stops verification and restore, naming the file.
    client.put_object(Bucket=backups, Key="site-a/wandb/20260103T000000Z/bucket-index.json", Body=b"[]")
    capsys.readouterr()
    assert wb.main(["--config", str(s3_site["path"]), "restore", "latest", "--bucket"]) == wb.EXIT_CHECKSUM
    error = capsys.readouterr().err
    assert "bucket-index.json does not match the manifest" in error
    assert s3_site["config"]["target"]["secret_key"] not in error
