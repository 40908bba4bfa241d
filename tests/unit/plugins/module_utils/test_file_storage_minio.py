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


def make(answers, check_mode=False, **extra):
    api = object.__new__(mn.MinioApi)
    api.endpoint_url, api.region, api.admin, api.s3 = "http://m:9000", "us-east-1", FakeAdmin(answers), FakeS3()
    api.s3_client = lambda key, secret: FakeS3()
    params = {
        "name": "b",
        "endpoint_url": "http://m:9000",
        "access_key": "root",
        "secret_key": "rootsecret",
        "host": "https://w",
        **extra,
    }
    if "ca_file" in extra:
        api = None
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


# The mc client (mc_path): the same calls through MinIO's own client --------------------------------
def mc_line(status="success", **fields):
    return json.dumps(dict(status=status, **fields))


def mc_failure(code, message, outer="Unable to do it"):
    error = {"message": outer, "cause": {"message": message, "error": {"Code": code} if code else {}}}
    return mc_line("error", error=error)


class FakeMc:
    """Records mc's command lines, environments and standard input; answers from a table."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def __call__(self, argv, env, stdin):
        args = argv[argv.index("--quiet") + 1 :]
        self.calls.append({"args": args, "env": env, "stdin": stdin})
        for prefix, answer in self.answers.items():
            if " ".join(args).startswith(prefix):
                return answer
        return 0, mc_line(), ""


def mc_api(answers=None, ca_file=None):
    fake = FakeMc(answers)
    return mn.McApi("/usr/local/bin/mc", "https://m:9000", "root", "r00t/secret", "us-east-1", ca_file, fake), fake


def test_mc_error_reads_codes_and_bucket_words():
    assert mn._mc_error([json.loads(mc_failure("XMinioAdminNoSuchUser", "no user"))]) == (
        "XMinioAdminNoSuchUser",
        "no user",
    )
    lines = [
        json.loads(mc_line("error", error={"message": "x", "cause": {"message": "Bucket `b` does not exist."}})),
        json.loads(mc_failure(None, "Object does not exist")),
    ]
    assert mn._mc_error(lines) == ("NoSuchBucket", "Object does not exist")
    assert mn._mc_error([json.loads(mc_line())]) == (None, None)


def test_mc_credentials_travel_in_the_environment_never_the_command_line():
    api, fake = mc_api(ca_file="/etc/minio/certs/ca.crt")
    api.admin_call("user_add", "admin:CreateUser", "user w", access_key="w", secret_key="user-secret-1")
    (call,) = fake.calls
    assert call["args"] == ["admin", "user", "add", "fleet"]
    assert call["stdin"] == "w\nuser-secret-1\n"
    assert call["env"]["MC_HOST_fleet"] == "https://root:r00t%2Fsecret@m:9000"
    assert call["env"]["SSL_CERT_FILE"] == "/etc/minio/certs/ca.crt"
    assert "user-secret-1" not in " ".join(call["args"]) and "r00t" not in " ".join(call["args"])


def test_mc_missing_things_and_masked_failures():
    api, _fake = mc_api(
        {
            "admin policy info": (1, mc_failure("XMinioAdminNoSuchPolicy", "no policy"), ""),
            "stat": (1, mc_failure(None, "Object does not exist"), ""),
            "admin user info": (1, mc_failure("XMinioAdminInvalidArgument", "bad r00t/secret here"), ""),
            "mb": (1, mc_failure("AccessDenied", "Access Denied."), ""),
        }
    )
    assert api.admin_call("policy_info", "admin:GetPolicy", "policy p", missing=("XMinioAdminNoSuchPolicy",),
                          policy_name="p") is None  # fmt: skip
    assert api.bucket_exists("b") is False
    with pytest.raises(FileStorageError) as exc:
        api.admin_call("user_info", "admin:GetUser", "user w", access_key="w")
    assert "r00t/secret" not in exc.value.msg and "********" in exc.value.msg
    with pytest.raises(PermissionDeniedError) as denied:
        api.create_bucket("b")
    assert denied.value.msg.startswith("missing permission s3:CreateBucket on resource arn:aws:s3:::b")


def test_mc_reads_policy_and_user_info_as_the_admin_api_returns_them():
    policy = mn.bucket_policy("b")
    api, _fake = mc_api(
        {
            "admin policy info": (0, mc_line(policy="p", policyInfo={"PolicyName": "p", "Policy": policy}), ""),
            "admin user info": (0, mc_line(accessKey="w", policyName="a,p", userStatus="disabled"), ""),
        }
    )
    assert mn.parse_policy_info(api.admin_call("policy_info", "admin:GetPolicy", "policy p", policy_name="p")) == policy
    info = api.admin_call("user_info", "admin:GetUser", "user w", access_key="w")
    assert mn.policies_of(info) == (["a", "p"], "disabled")


def test_mc_secret_probe_tells_a_wrong_key_from_a_failure():
    api, fake = mc_api({"ls user/b": (1, mc_failure("SignatureDoesNotMatch", "wrong"), "")})
    assert api.credentials_work("w", "user-secret-2", "b") is False
    assert fake.calls[-1]["env"]["MC_HOST_user"] == "https://w:user-secret-2@m:9000"
    api, _fake = mc_api({"ls user/b": (1, mc_failure("XMinioServerNotInitialized", "starting"), "")})
    with pytest.raises(FileStorageError, match="starting"):
        api.credentials_work("w", "user-secret-2", "b")


def test_mc_path_that_cannot_run_is_named():
    def missing(argv, env, stdin):
        raise FileNotFoundError(2, "No such file or directory", argv[0])

    api = mn.McApi("/nope/mc", "http://m:9000", "root", "rootsecret", "us-east-1", None, missing)
    with pytest.raises(FileStorageError, match="could not run /nope/mc"):
        api.bucket_exists("b")


def test_named_user_with_given_secret_and_exclusive_policy():
    storage = make(
        {
            "policy_info": json.dumps({"Policy": mn.bucket_policy("b")}),
            "user_info": json.dumps({"policyName": "wandb-b,readwrite", "status": "enabled"}),
        },
        user="wandb",
        user_secret_key="given-secret-9",
        exclusive_policy=True,
    )
    storage.api.credentials_work = lambda key, secret, bucket: (key, secret) == ("wandb", "given-secret-9")
    storage.present()
    assert storage.changes.actions == ["detach policies readwrite from user wandb (its only policy is wandb-b)"]
    assert ("detach_policy", {"policies": ["readwrite"], "user": "wandb"}) in storage.api.admin.calls
    assert storage.changes.warnings == []
    assert mn.outputs("wandb", "given-secret-9", "http://m:9000", "b", "us-east-1")["env"] == storage.outputs()["env"]


def test_given_secret_drift_is_reset_and_said_so():
    storage = make(
        {
            "policy_info": json.dumps({"Policy": mn.bucket_policy("b")}),
            "user_info": json.dumps({"policyName": "wandb-b", "status": "enabled"}),
        },
        user="wandb",
        user_secret_key="given-secret-9",
    )
    storage.api.credentials_work = lambda key, secret, bucket: False
    storage.present()
    assert storage.changes.actions == ["reset the secret key of user wandb (it no longer matched user_secret_key)"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"user": "root"}, "user root is the admin access key"),
        ({"user_secret_key": "short"}, "user_secret_key must be 8 to 40 characters"),
        ({"ca_file": "/ca.crt"}, "ca_file is used only with mc_path"),
    ],
)
def test_bad_user_options(extra, message):
    with pytest.raises(FileStorageError, match=message):
        make({}, **extra)


def test_check_mode_tells_a_secret_that_no_longer_works_without_setting_it():
    answers = {
        "policy_info": json.dumps({"Policy": mn.bucket_policy("b")}),
        "user_info": json.dumps({"policyName": "wandb-b", "status": "enabled"}),
    }
    storage = make(answers, check_mode=True, user="wandb", user_secret_key="given-secret-9")
    storage.api.credentials_work = lambda key, secret, bucket: False
    storage.present()
    assert storage.changes.actions == ["reset the secret key of user wandb (it no longer matched user_secret_key)"]
    assert [name for name, _kwargs in storage.api.admin.calls] == ["policy_info", "user_info"]
    # A disabled user's key cannot work before it is enabled: check mode does not try it then.
    answers["user_info"] = json.dumps({"policyName": "wandb-b", "status": "disabled"})
    storage = make(answers, check_mode=True, user="wandb", user_secret_key="given-secret-9")
    storage.api.credentials_work = lambda key, secret, bucket: pytest.fail("tried a disabled key")
    storage.present()
    assert storage.changes.actions == ["enable user wandb"]
