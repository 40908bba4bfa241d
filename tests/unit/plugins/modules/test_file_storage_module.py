# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""file_storage's main(): option rules, result shape, failures, secrets in the output."""

from __future__ import annotations

import pytest
from harness import run_module

from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3 as s3_utils
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3_api as s3_api
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3_config as s3_config
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import FileStorageError
from ansible_collections.wandb_local.fleet.plugins.modules import file_storage

BASE = {
    "provider": "s3",
    "name": "b",
    "queue": "q",
    "host": "https://w.example",
    "secret_key": "s3cr3t-value",
    "access_key": "AKIDEXAMPLE",
}


class Stub:
    fail_with = None
    verify_fails = None

    def __init__(self, params, changes):
        self.changes = changes

    def present(self):
        self.changes.record("create bucket b in eu-west-1", "bucket", None, "b")
        if Stub.fail_with is not None:
            raise Stub.fail_with  # pylint: disable=raising-bad-type

    def absent(self, force):
        self.changes.warn("bucket b is not empty: kept")

    def verify(self, timeout):
        from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import run_verify

        def notification():
            raise FileStorageError("no message reached queue q")

        return run_verify(
            [("put-probe", lambda: "wrote"), ("notification", notification), ("delete-probe", lambda: "gone")]
        )

    def outputs(self):
        return s3_config.outputs("b", "q", "eu-west-1")


@pytest.fixture
def stub(monkeypatch):
    Stub.fail_with = None
    monkeypatch.setattr(s3_utils, "S3Storage", Stub)
    return Stub


def test_present_result_and_diff(stub):
    result = run_module(file_storage.main, BASE, diff=True)
    assert result["changed"] is True
    assert result["changes"] == ["create bucket b in eu-west-1"]
    assert result["env"] == {"BUCKET": "s3://b", "BUCKET_QUEUE": "sqs://q", "AWS_REGION": "eu-west-1"}
    assert result["diff"] == {"before": {"bucket": None}, "after": {"bucket": "b"}}
    assert "s3cr3t-value" not in result.raw
    assert "AKIDEXAMPLE" in result.raw  # an access key id is not masked


def test_check_mode_never_verifies(stub):
    result = run_module(file_storage.main, dict(BASE, verify=True), check_mode=True)
    assert "verify" not in result and "failed" not in result
    assert any("check mode" in n for n in result["notes"])


def test_verify_failure_names_the_step(stub):
    result = run_module(file_storage.main, dict(BASE, verify=True))
    assert result.failed
    assert result["failed_step"] == "notification"
    assert result["msg"] == "verify failed at step 'notification': no message reached queue q"
    assert [s["step"] for s in result["verify"]] == ["put-probe", "notification", "delete-probe"]
    assert result["changes"] == ["create bucket b in eu-west-1"]


def test_provider_error_keeps_what_was_done(stub):
    stub.fail_with = FileStorageError("missing permission s3:PutBucketCORS on resource arn:aws:s3:::b")
    result = run_module(file_storage.main, BASE)
    assert result.failed and result["msg"].startswith("missing permission s3:PutBucketCORS")
    assert result["changed"] is True and result["changes"] == ["create bucket b in eu-west-1"]


def test_absent_warns_and_returns_no_env(stub):
    result = run_module(file_storage.main, dict(BASE, state="absent", host=None))
    assert result.warnings == ["bucket b is not empty: kept"]
    assert "env" not in result


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"queue": None}, "provider is s3 but all of the following are missing: queue"),
        ({"host": None}, "state is present but all of the following are missing: host"),
        ({"provider": "gcs"}, "project"),
        ({"provider": "minio", "queue": None}, "endpoint_url"),
        ({"credentials": "{}", "credentials_file": "/x"}, "mutually exclusive"),
    ],
)
def test_option_rules(stub, args, message):
    result = run_module(file_storage.main, {k: v for k, v in dict(BASE, **args).items() if v is not None})
    assert result.failed and message in result["msg"]


def test_missing_library_is_reported(monkeypatch):
    monkeypatch.setattr(s3_api, "HAS_BOTO3", False)
    result = run_module(file_storage.main, BASE)
    assert result.failed and "boto3" in result["msg"]


def test_minio_needs_host_only_to_verify(monkeypatch):
    from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_minio as minio_utils

    class MinioStub(Stub):
        def outputs(self):
            return minio_utils.outputs("wandb", "secret-key-1", "http://m:9000", "b", "us-east-1")

    monkeypatch.setattr(minio_utils, "MinioStorage", MinioStub)
    # mc_path: no Python library is needed for MinIO then.
    monkeypatch.setattr(minio_utils, "HAS_MINIO", False)
    args = {"provider": "minio", "name": "b", "endpoint_url": "http://m:9000", "mc_path": "/usr/local/bin/mc"}
    assert not run_module(file_storage.main, args).failed
    verified = run_module(file_storage.main, dict(args, verify=True))
    assert verified.failed and "missing: host" in verified["msg"]
    without_mc = run_module(file_storage.main, {k: v for k, v in args.items() if k != "mc_path"})
    assert without_mc.failed and "minio and boto3" in without_mc["msg"]
