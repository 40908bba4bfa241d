"""MinIO provider: derived secret, bucket policy, admin API error paths, outputs."""

import json

import pytest
from minio.error import MinioAdminException

from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_minio as mn
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    Changes,
    FileStorageError,
    PermissionDeniedError,
)


def test_derived_secret_is_stable_valid_and_scoped():
    one = mn.derive_secret("root-secret", "http://minio:9000", "wandb")
    assert one == mn.derive_secret("root-secret", "http://MINIO:9000", "wandb")
    assert len(one) == 40  # MinIO's longest secret key
    assert one != mn.derive_secret("root-secret", "http://minio:9000", "wandb2")
    assert one != mn.derive_secret("other-secret", "http://minio:9000", "wandb")
    assert one != mn.derive_secret("root-secret", "http://minio2:9000", "wandb")
    assert "root-secret" not in one


def test_bucket_policy_reaches_only_the_bucket():
    policy = mn.bucket_policy("wandb")
    (statement,) = policy["Statement"]
    assert statement["Resource"] == ["arn:aws:s3:::wandb", "arn:aws:s3:::wandb/*"]
    assert statement["Effect"] == "Allow"


def test_parse_policy_info_old_and_new_servers():
    doc = mn.bucket_policy("b")
    assert mn.parse_policy_info(json.dumps(doc)) == doc
    assert mn.parse_policy_info(json.dumps({"PolicyName": "p", "Policy": doc})) == doc
    assert mn.parse_policy_info(json.dumps({"PolicyName": "p", "Policy": json.dumps(doc)})) == doc
    # MinIO returns Action/Resource as strings or lists: both compare equal.
    single = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"]}],
    }
    assert mn._norm_policy(single) == mn._norm_policy(doc)


def test_policies_of_user_info():
    assert mn.policies_of(json.dumps({"policyName": "a,wandb-b", "status": "enabled"})) == (["a", "wandb-b"], "enabled")
    assert mn.policies_of(json.dumps({"status": "disabled"})) == ([], "disabled")


def test_outputs_encode_and_mark_secret():
    out = mn.outputs("wandb-b", "s/e+c", "https://minio.example:9000", "b", "us-east-1")
    assert out["bucket"] == "s3://wandb-b:s%2Fe%2Bc@minio.example:9000/b?tls=true"
    assert out["env"] == {"BUCKET": out["bucket"], "BUCKET_QUEUE": "internal://", "AWS_REGION": "us-east-1"}
    assert out["secret_env_keys"] == ["BUCKET"]


class FakeAdmin:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append((name, kwargs))
            answer = self.answers.get(name, "")
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


class FakeS3:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append(name)
            return {}

        return call


def admin_error(status, code):
    return MinioAdminException(str(status), json.dumps({"Code": code, "Message": "msg of " + code}))


def make(answers, check_mode=False):
    api = object.__new__(mn.MinioApi)
    api.endpoint_url, api.region, api.admin, api.s3 = "http://m:9000", "us-east-1", FakeAdmin(answers), FakeS3()
    api.s3_client = lambda key, secret: FakeS3()
    params = {
        "name": "b",
        "endpoint_url": "http://m:9000",
        "access_key": "root",
        "secret_key": "rootsecret",
        "host": "https://w",
    }
    return mn.MinioStorage(params, Changes(check_mode=check_mode), api=api)


@pytest.mark.parametrize(
    ("failing", "permission", "resource"),
    [
        ("policy_info", "admin:GetPolicy", "policy wandb-b"),
        ("policy_add", "admin:CreatePolicy", "policy wandb-b"),
        ("user_info", "admin:GetUser", "user wandb-b"),
        ("user_add", "admin:CreateUser", "user wandb-b"),
        ("attach_policy", "admin:AttachUserOrGroupPolicy", "user wandb-b"),
    ],
)
def test_admin_permission_errors(failing, permission, resource):
    answers = {
        "policy_info": admin_error(404, "XMinioAdminNoSuchPolicy"),
        "user_info": admin_error(404, "XMinioAdminNoSuchUser"),
    }
    answers[failing] = admin_error(403, "AccessDenied")
    with pytest.raises(PermissionDeniedError) as exc:
        make(answers).present()
    assert exc.value.msg.startswith("missing permission %s on resource %s" % (permission, resource))


def test_new_setup_actions_and_notes():
    storage = make(
        {
            "policy_info": admin_error(404, "XMinioAdminNoSuchPolicy"),
            "user_info": admin_error(404, "XMinioAdminNoSuchUser"),
        }
    )
    storage.present()
    assert storage.changes.actions == [
        "create policy wandb-b (s3:* on bucket b only)",
        "create user wandb-b for bucket b",
        "attach policy wandb-b to user wandb-b",
    ]
    adds = [kw for name, kw in storage.api.admin.calls if name == "user_add"]
    assert adds == [{"access_key": "wandb-b", "secret_key": mn.derive_secret("rootsecret", "http://m:9000", "b")}]
    assert any("server-wide" in n for n in storage.changes.notes)


def test_disabled_user_with_extra_policy_is_enabled_and_warned():
    storage = make(
        {
            "policy_info": json.dumps({"Policy": mn.bucket_policy("b")}),
            "user_info": json.dumps({"policyName": "wandb-b,readwrite", "status": "disabled"}),
        }
    )
    storage._secret_works = lambda: True
    storage.present()
    assert storage.changes.actions == ["enable user wandb-b"]
    assert storage.changes.warnings == ["user wandb-b also has policies readwrite, which may reach beyond bucket b"]


def test_admin_connection_error():
    storage = make({"policy_info": OSError("connection refused")})
    with pytest.raises(FileStorageError, match="MinIO admin policy_info on policy wandb-b failed: connection refused"):
        storage.present()


def test_admin_credentials_required(monkeypatch):
    monkeypatch.delenv("MINIO_ROOT_USER", raising=False)
    monkeypatch.delenv("MINIO_ROOT_PASSWORD", raising=False)
    with pytest.raises(FileStorageError, match="needs access_key and secret_key"):
        mn.MinioStorage({"name": "b", "endpoint_url": "http://m:9000"}, Changes(), api=object())
