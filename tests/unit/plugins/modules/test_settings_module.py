# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import io
import json
import os
import stat
import tempfile

import pytest
from harness import run_module
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import compose_mysql_url, compose_redis_url
from ansible_collections.wandb_local.fleet.plugins.modules import settings as settings_module

VALID_FILE = (
    "# managed by hand before Ansible\n"
    "HOST=https://old.example.net\n"
    "MYSQL=mysql://wandb:old%2Fpass@db:3306/wandb_local\n"
    "SLACK_CLIENT_ID=slack-client\n"
    "SLACK_SECRET=slack-secret-value\n"
)


@pytest.fixture
def env_file(tmp_path):
    path = tmp_path / "wandb.env"
    path.write_text(VALID_FILE)
    path.chmod(0o600)
    return path


def run(path, settings_value, **options):
    check_mode = options.pop("check_mode", False)
    diff = options.pop("diff", False)
    return run_module(settings_module.main, dict(path=str(path), settings=settings_value, **options), check_mode, diff)


# (settings, text the message must contain besides the key name). Each entry names the key it breaks.
BAD_INPUTS = [
    ({"MYSQL": "mysql://db1/wandb_local"}, "MYSQL", "names no user"),
    ({"MYSQL": "postgres://wandb:s3cr3t-pw@db1/wandb_local"}, "MYSQL", "mysql://"),
    ({"MYSQL": "mysql://wandb:s3cr3t-pw@db1"}, "MYSQL", "database"),
    ({"MYSQL": "mysql://wandb:s3cr3t-pw@db1:99999/wandb_local"}, "MYSQL", "65535"),
    ({"MYSQL": "mysql://wandb:s3cr3t-pw@db1/wandb_local?tls=bogus"}, "MYSQL", "tls=bogus"),
    ({"MYSQL": "mysql://wandb:s3cr3t-pw@db1/wandb_local?tls=custom"}, "MYSQL", "ssl_ca"),
    ({"MYSQL": "mysql://wandb:s3cr3t-pw@db1/wandb_local?tls=custom&ssl_ca=/ca.pem"}, "MYSQL", "spelled 'ssl-ca'"),
    ({"MYSQL": "mysql://wandb:s3cr/et@db1/wandb_local"}, "MYSQL", "URL-encode"),
    ({"MYSQL": "mysql://wandb:s3cr3t%zz@db1/wandb_local"}, "MYSQL", "%25"),
    ({"BUCKET": "wandb-bucket"}, "BUCKET", "SCHEME://"),
    ({"BUCKET": "s3://AKIA@wandb"}, "BUCKET", "ACCESS_KEY:SECRET_KEY"),
    ({"BUCKET": "s3://AK:SK@minio1:9000"}, "BUCKET", "bucket"),
    ({"BUCKET": "s3://Invalid_Bucket"}, "BUCKET", "not a valid S3 bucket name"),
    ({"BUCKET": "s3://wandb?tls=true"}, "BUCKET", "tls"),
    ({"BUCKET": "az://acmewandb"}, "BUCKET", "az://ACCOUNT/CONTAINER"),
    ({"BUCKET": "az://ACME/files", "AZURE_STORAGE_KEY": "a2V5"}, "BUCKET", "storage account name"),
    ({"BUCKET": "az://k:v@acmewandb/files", "AZURE_STORAGE_KEY": "a2V5"}, "BUCKET", "AZURE_STORAGE_KEY"),
    ({"BUCKET": "gs://a"}, "BUCKET", "GCS bucket name"),
    ({"BUCKET_QUEUE": "pubsub://acme-ml/topic/sub"}, "BUCKET_QUEUE", "exactly one slash"),
    ({"BUCKET_QUEUE": "pubsub:/acme-ml/topic"}, "BUCKET_QUEUE", "three names"),
    ({"BUCKET_QUEUE": "sqs://https://sqs.us-east-1.amazonaws.com/1/q"}, "BUCKET_QUEUE", "the name, not the queue URL"),
    ({"BUCKET_QUEUE": "internal://x"}, "BUCKET_QUEUE", "exactly internal://"),
    ({"BUCKET_QUEUE": "kafka://events"}, "BUCKET_QUEUE", "sqs://"),
    ({"NOTIFICATIONS_QUEUE": "pubsub://a/b/c"}, "NOTIFICATIONS_QUEUE", "exactly one slash"),
    ({"REDIS": "rediss://r1:6379"}, "REDIS", "?tls=true"),
    ({"REDIS": "redis://r1:6379/0"}, "REDIS", "no path"),
    ({"REDIS": "redis://r1:6379?caCertPath=/ca.pem"}, "REDIS", "only read with tls=true"),
    ({"REDIS": "redis://r1:6379?tls=true&ttlInSeconds=-5"}, "REDIS", "positive whole number"),
    ({"REDIS": "redis://r1:6379?tls=true&cacertpath=/ca.pem"}, "REDIS", "spelled 'caCertPath'"),
    ({"HOST": "wandb.example.net"}, "HOST", "http"),
    ({"HOST": "https://wandb.example.net/"}, "HOST", "trailing '/'"),
    ({"HOST": "https://wandb.example.net/wandb"}, "HOST", "no path"),
    ({"HOST": "https://admin:pw@wandb.example.net"}, "HOST", "credentials"),
    ({"OIDC_ISSUER": "http://idp.example.net", "OIDC_CLIENT_ID": "abc"}, "OIDC_ISSUER", "https://"),
    ({"OIDC_AUTH_METHOD": "code"}, "OIDC_AUTH_METHOD", "implicit or pkce"),
    ({"LOCAL_RESTORE": "yes"}, "LOCAL_RESTORE", "true or false"),
    ({"LOGGING_ENABLED": "on"}, "LOGGING_ENABLED", "true or false"),
    ({"AWS_REGION": "US East 1"}, "AWS_REGION", "region name"),
    ({"AZURE_STORAGE_KEY": "not base64!"}, "AZURE_STORAGE_KEY", "base64"),
    ({"LICENSE": "two words"}, "LICENSE", "single word"),
    ({"LICENSE": ""}, "LICENSE", "null"),
    ({"SESSION_LENGTH": "30d"}, "SESSION_LENGTH", "hours"),
    ({"GORILLA_DATA_RETENTION_PERIOD": "24"}, "GORILLA_DATA_RETENTION_PERIOD", "24h"),
    ({"GORILLA_EMAIL_FROM_ADDRESS": "nobody"}, "GORILLA_EMAIL_FROM_ADDRESS", "e-mail address"),
    ({"GORILLA_EMAIL_SINK": "smtp://user:pw@"}, "GORILLA_EMAIL_SINK", "HOST"),
    ({"GORILLA_CORS_ORIGINS": "https://a.example.net/path"}, "GORILLA_CORS_ORIGINS", "origins"),
    ({"SLACK_SECRET": "multi\nline"}, "SLACK_SECRET", "line breaks"),
    ({"GORILLA_CUSTOM_FLAG": "x\nINJECTED=1"}, "GORILLA_CUSTOM_FLAG", "line breaks"),
    ({"GORILLA_CUSTOM_FLAG": " padded"}, "GORILLA_CUSTOM_FLAG", "whitespace"),
    ({"GORILLA_CUSTOM_FLAG": {"nested": 1}}, "GORILLA_CUSTOM_FLAG", "string, number or boolean"),
    ({"host": "https://wandb.example.net"}, "host", "did you mean HOST"),
    ({"BAD-NAME": "x"}, "BAD-NAME", "not a valid variable name"),
    ({"1ABC": "x"}, "1ABC", "not a valid variable name"),
    # Rules between variables, with what the file already holds.
    ({"BUCKET": "az://acmewandb/files"}, "BUCKET", "AZURE_STORAGE_KEY"),
    ({"BUCKET": "s3://wandb", "BUCKET_QUEUE": "sqs://wandb-events"}, "BUCKET_QUEUE", "AWS_REGION"),
    ({"OIDC_ISSUER": "https://idp.example.net"}, "OIDC_ISSUER", "OIDC_CLIENT_ID"),
    ({"OIDC_AUTH_METHOD": "pkce"}, "OIDC_AUTH_METHOD", "OIDC_ISSUER"),
    (
        {
            "OIDC_ISSUER": "https://idp.example.net",
            "OIDC_CLIENT_ID": "abc",
            "OIDC_SECRET": "one",
            "GORILLA_OIDC_SECRET": "two",
        },
        "GORILLA_OIDC_SECRET",
        "different values",
    ),
    ({"SLACK_SECRET": None}, "SLACK_SECRET", "needs SLACK_SECRET"),
    ({"SLACK_CLIENT_ID": None}, "SLACK_CLIENT_ID", "needs SLACK_CLIENT_ID"),
    (
        {"BUCKET": "s3://wandb", "AWS_REGION": "eu-west-1", "BUCKET_QUEUE": "pubsub:/acme-ml/files/files-sub"},
        "BUCKET_QUEUE",
        "gs",
    ),
    (
        {"BUCKET": "s3://AK:SK@minio1:9000/wandb", "AWS_REGION": "us-east-1", "BUCKET_QUEUE": "sqs://q"},
        "BUCKET_QUEUE",
        "internal://",
    ),
    (
        {"BUCKET": "az://acmewandb/files", "AZURE_STORAGE_KEY": "a2V5", "BUCKET_QUEUE": "az://otheraccount/events"},
        "BUCKET_QUEUE",
        "storage account",
    ),
    ({"BUCKET_QUEUE": "sqs://wandb-events", "AWS_REGION": "us-east-1"}, "BUCKET_QUEUE", "BUCKET must be set"),
]


def test_the_table_is_big_enough():
    assert len(BAD_INPUTS) >= 40


@pytest.mark.parametrize(
    ("settings_value", "key", "rule"), BAD_INPUTS, ids=[f"{i:02d}-{key}" for i, (_s, key, _r) in enumerate(BAD_INPUTS)]
)
def test_bad_input_fails_naming_key_and_rule_and_leaves_the_file_alone(env_file, settings_value, key, rule):
    before = env_file.read_bytes()
    before_stat = env_file.stat()
    result = run(env_file, settings_value)
    assert result.failed
    assert key in result["msg"]
    assert rule in result["msg"]
    assert any(error.startswith(key) or key in error for error in result["errors"])
    assert env_file.read_bytes() == before
    assert env_file.stat().st_mtime_ns == before_stat.st_mtime_ns
    assert sorted(os.listdir(env_file.parent)) == ["wandb.env"], "no temporary file left behind"


def test_bad_input_in_check_mode_fails_the_same(env_file):
    result = run(env_file, {"HOST": "nope"}, check_mode=True)
    assert result.failed and "HOST" in result["msg"]


def test_several_bad_keys_are_all_reported(env_file):
    result = run(env_file, {"HOST": "nope", "LOCAL_RESTORE": "maybe", "AWS_REGION": "us-east-1"})
    assert [error.split(":")[0] for error in result["errors"]] == ["HOST", "LOCAL_RESTORE"]


def test_change_then_second_run_is_unchanged(env_file):
    wanted = {
        "HOST": "https://wandb.example.net",
        "LOGGING_ENABLED": True,
        "REDIS": compose_redis_url({"host": "r1", "password": "p"}),
    }
    first = run(env_file, wanted)
    assert first["changed"] and first["restart_required"]
    assert first["changed_keys"] == ["HOST", "LOGGING_ENABLED", "REDIS"]
    text = env_file.read_text()
    assert "HOST=https://wandb.example.net\n" in text and "LOGGING_ENABLED=true\n" in text
    assert text.startswith("# managed by hand before Ansible\n")
    second = run(env_file, wanted)
    assert not second["changed"]
    assert second["changed_keys"] == [] and not second["restart_required"]
    assert env_file.read_text() == text


def test_check_mode_reports_but_writes_nothing(env_file):
    before = env_file.read_bytes()
    result = run(env_file, {"HOST": "https://new.example.net"}, check_mode=True, diff=True)
    assert result["changed"] and result["changed_keys"] == ["HOST"]
    assert "HOST=https://new.example.net" in result["diff"]["after"]
    assert env_file.read_bytes() == before


def test_check_mode_does_not_create_the_file(tmp_path):
    path = tmp_path / "wandb.env"
    result = run(path, {"HOST": "https://new.example.net"}, check_mode=True)
    assert result["changed"]
    assert not path.exists()


def test_new_file_is_never_wider_than_0600(tmp_path, monkeypatch):
    path = tmp_path / "wandb.env"
    seen_modes = []
    from ansible.module_utils.basic import AnsibleModule

    original = AnsibleModule.atomic_move

    def watching_atomic_move(self, src, dest, *args, **kwargs):
        outcome = original(self, src, dest, *args, **kwargs)
        seen_modes.append(stat.S_IMODE(os.stat(dest).st_mode))
        return outcome

    monkeypatch.setattr(AnsibleModule, "atomic_move", watching_atomic_move)
    old_umask = os.umask(0o022)
    try:
        result = run(path, {"LICENSE": "license-value"}, mode="0640")
    finally:
        os.umask(old_umask)
    assert result["changed"]
    assert seen_modes == [0o600]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_mode_is_enforced_on_an_existing_file(env_file):
    env_file.chmod(0o644)
    result = run(env_file, {})
    assert result["changed"] and not result["restart_required"]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_null_removes_a_key(env_file):
    result = run(env_file, {"HOST": None})
    assert result["changed_keys"] == ["HOST"]
    assert "HOST=" not in env_file.read_text()
    assert not run(env_file, {"HOST": None})["changed"]


def test_purge_removes_unnamed_keys_and_keeps_comments(env_file):
    result = run(env_file, {"HOST": "https://old.example.net"}, purge=True)
    assert result["changed_keys"] == ["MYSQL", "SLACK_CLIENT_ID", "SLACK_SECRET"]
    assert env_file.read_text() == "# managed by hand before Ansible\nHOST=https://old.example.net\n"
    assert not run(env_file, {"HOST": "https://old.example.net"}, purge=True)["changed"]


def test_missing_directory_is_a_clear_failure(tmp_path):
    result = run(tmp_path / "absent" / "wandb.env", {"HOST": "https://x.example.net"})
    assert result.failed and "does not exist" in result["msg"]


def test_missing_directory_in_check_mode_predicts_a_new_file(tmp_path):
    # Check mode on a new host: the task that creates the directory ran in check mode too.
    path = tmp_path / "not-yet" / "wandb.env"
    result = run(path, {"HOST": "https://wandb.example.net"}, check_mode=True, diff=True)
    assert not result.failed, result["msg"]
    assert result["changed"] and result["changed_keys"] == ["HOST"]
    assert "HOST=https://wandb.example.net" in result["diff"]["after"]
    assert not (tmp_path / "not-yet").exists()


def test_diff_and_result_mask_secrets_but_show_the_rest(env_file):
    result = run(
        env_file,
        {
            "LICENSE": "the-license-123",
            "SLACK_SECRET": "new-slack-secret",
            "MYSQL": compose_mysql_url({"user": "wandb", "password": "db-pass-456", "host": "db", "port": 3306}),
        },
        diff=True,
    )
    raw = json.dumps(result)
    for secret in (
        "the-license-123",
        "new-slack-secret",
        "slack-secret-value",
        "db-pass-456",
        "old%2Fpass",
        "old/pass",
    ):
        assert secret not in raw
    after = result["diff"]["after"]
    assert "HOST=https://old.example.net" in after
    assert "MYSQL=mysql://wandb:********@db:3306/wandb_local (secret changed)" in after
    assert "SLACK_SECRET=******** (secret changed)" in after
    assert result["invocation"]["module_args"]["settings"]["LICENSE"] == "********"


secret_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=24)


def _run_with_secrets(directory, license_key, password, slack_secret):
    path = os.path.join(directory, "wandb.env")
    with io.open(path, "w") as handle:
        handle.write(VALID_FILE)
    args = {
        "LICENSE": license_key
        if license_key.strip() == license_key and license_key.isprintable()
        else "printable-license",
        "MYSQL": compose_mysql_url({"user": "wandb", "password": password, "host": "db"}),
        "SLACK_SECRET": slack_secret,
    }
    return run(path, args, diff=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(license_key=secret_text, password=secret_text, slack_secret=secret_text)
def test_no_secret_survives_in_any_returned_field(license_key, password, slack_secret):
    """Whatever the secrets are, the result (diff, warnings, messages, invocation) never holds them,
    whether the run succeeds or fails validation (a secret with a line break is refused)."""
    with tempfile.TemporaryDirectory() as directory:
        result = _run_with_secrets(directory, license_key, password, slack_secret)
    with tempfile.TemporaryDirectory() as directory:
        skeleton = json.dumps(
            _run_with_secrets(directory, "PLACEHOLDER-LICENSE", "PLACEHOLDER-PW", "PLACEHOLDER-SLACK")
        )
    raw = json.dumps(result)
    encoded_password = compose_mysql_url({"user": "u", "password": password, "host": "h"}).split("@")[0][
        len("mysql://u:") :
    ]
    secrets = [license_key, password, slack_secret, encoded_password]
    secrets += [json.dumps(secret)[1:-1] for secret in secrets]
    assume(not any(secret in skeleton for secret in secrets))
    for secret in secrets:
        assert secret not in raw


class DiscoveryResponse:
    def __init__(self, body):
        self.body = body

    def read(self):
        return self.body


OIDC = {"OIDC_ISSUER": "https://idp.example.net/tenant", "OIDC_CLIENT_ID": "client-1"}


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (OSError("connection refused"), "unreachable: connection refused"),
        (b"<html>login</html>", "did not answer with JSON"),
        (b'{"issuer": "https://other.example.net"}', "names issuer 'https://other.example.net'"),
    ],
)
def test_verify_oidc_failures_leave_the_file_alone(env_file, monkeypatch, answer, words):
    requested = []

    def open_url(url, **kwargs):
        requested.append(url)
        if isinstance(answer, Exception):
            raise answer
        return DiscoveryResponse(answer)

    monkeypatch.setattr(settings_module, "open_url", open_url)
    before = env_file.read_bytes()
    result = run(env_file, OIDC, verify_oidc=True)
    assert result.failed and words in result["msg"] and "OIDC_ISSUER" in result["msg"]
    assert requested == ["https://idp.example.net/tenant/.well-known/openid-configuration"]
    assert env_file.read_bytes() == before


def test_verify_oidc_accepts_a_matching_issuer_also_from_the_file(env_file, monkeypatch):
    body = json.dumps({"issuer": OIDC["OIDC_ISSUER"], "authorization_endpoint": "https://idp.example.net/a"}).encode()
    monkeypatch.setattr(settings_module, "open_url", lambda url, **kwargs: DiscoveryResponse(body))
    assert run(env_file, OIDC, verify_oidc=True)["changed_keys"] == ["OIDC_CLIENT_ID", "OIDC_ISSUER"]
    # The issuer is now in the file: verifying while changing something else still checks it.
    monkeypatch.setattr(settings_module, "open_url", lambda url, **kwargs: DiscoveryResponse(b"{}"))
    assert run(env_file, {"LOGGING_ENABLED": True}, verify_oidc=True).failed


def test_verify_oidc_without_an_issuer_only_warns(env_file, monkeypatch):
    monkeypatch.setattr(settings_module, "open_url", lambda url, **kwargs: pytest.fail("nothing to fetch"))
    result = run(env_file, {"LOGGING_ENABLED": True}, verify_oidc=True)
    assert not result.failed
    assert any("OIDC_ISSUER is not set" in warning for warning in result.warnings)


# --- restore mode (what the server role does while an operator repairs access) -------------------

# What the server role would write: everything the file has, without LOCAL_RESTORE.
ROLE_SETTINGS = {
    "HOST": "https://old.example.net",
    "MYSQL": "mysql://wandb:old%2Fpass@db:3306/wandb_local",
    "SLACK_CLIENT_ID": "slack-client",
    "SLACK_SECRET": "slack-secret-value",
}


@pytest.fixture
def restore_file(env_file):
    env_file.write_text(VALID_FILE + "LOCAL_RESTORE=true\n")
    return env_file


def test_purge_with_keep_leaves_restore_mode_alone_and_says_so(restore_file):
    before = restore_file.read_bytes()
    result = run(restore_file, ROLE_SETTINGS, purge=True, restore_mode="keep", diff=True)
    assert not result.failed, result
    assert not result["changed"] and not result["restart_required"]
    assert result["changed_keys"] == []
    assert restore_file.read_bytes() == before
    assert result["restore_mode"] == {
        "enabled": True,
        "found_in": ["the environment file"],
        "kept": True,
        "left": False,
    }
    assert "LOCAL_RESTORE=true" in result["diff"]["before"] and "LOCAL_RESTORE=true" in result["diff"]["after"]
    assert any("Restore mode is on" in warning and "kept" in warning for warning in result.warnings)
    assert not any(warning.startswith("LOCAL_RESTORE:") for warning in result.warnings), "said once"
    assert "slack-secret-value" not in result.raw and "old%2Fpass" not in result.raw


def test_check_and_diff_with_keep_show_no_change_to_restore_mode(restore_file):
    wanted = {**ROLE_SETTINGS, "HOST": "https://new.example.net"}
    result = run(restore_file, wanted, purge=True, restore_mode="keep", check_mode=True, diff=True)
    assert result["changed"] and result["changed_keys"] == ["HOST"]
    assert result["restart_required"], "HOST changed"
    assert "LOCAL_RESTORE=true" in result["diff"]["after"]
    assert "LOCAL_RESTORE=true\n" in restore_file.read_text()


def test_keep_brings_the_file_in_line_with_a_container_in_restore_mode_without_a_recreate(env_file):
    result = run(env_file, ROLE_SETTINGS, purge=True, restore_mode="keep", restore_mode_running=True)
    assert result["changed"] and result["changed_keys"] == ["LOCAL_RESTORE"]
    assert not result["restart_required"], "the container already runs with LOCAL_RESTORE=true"
    assert result["restore_mode"]["found_in"] == ["the running container"]
    assert env_file.read_text().endswith("LOCAL_RESTORE=true\n")


def test_keep_outside_restore_mode_is_plain_purge(env_file):
    env_file.write_text(VALID_FILE + "LOCAL_RESTORE=false\n")
    result = run(env_file, ROLE_SETTINGS, purge=True, restore_mode="keep")
    assert result["changed_keys"] == ["LOCAL_RESTORE"]
    assert "LOCAL_RESTORE" not in env_file.read_text()
    assert result["restore_mode"] == {"enabled": False, "found_in": [], "kept": False, "left": False}
    assert not result.warnings


def test_leave_ends_restore_mode(restore_file):
    checked = run(restore_file, ROLE_SETTINGS, purge=True, restore_mode="leave", check_mode=True, diff=True)
    assert checked["changed"] and checked["restore_mode"]["left"]
    assert "LOCAL_RESTORE" not in checked["diff"]["after"]
    assert "LOCAL_RESTORE=true\n" in restore_file.read_text(), "check mode writes nothing"
    result = run(restore_file, ROLE_SETTINGS, purge=True, restore_mode="leave")
    assert result["changed"] and result["restart_required"] and result["changed_keys"] == ["LOCAL_RESTORE"]
    assert result["restore_mode"] == {
        "enabled": False,
        "found_in": ["the environment file"],
        "kept": False,
        "left": True,
    }
    assert "LOCAL_RESTORE" not in restore_file.read_text()
    again = run(restore_file, ROLE_SETTINGS, purge=True, restore_mode="leave")
    assert not again["changed"] and not again["restore_mode"]["left"]


def test_leave_recreates_a_container_in_restore_mode_whose_file_lost_it(env_file):
    result = run(env_file, ROLE_SETTINGS, purge=True, restore_mode="leave", restore_mode_running=True)
    assert not result["changed"], "the file is as wanted"
    assert result["restart_required"] and result["restore_mode"]["left"]


def test_ignore_keeps_the_old_purge_behaviour(restore_file):
    result = run(restore_file, ROLE_SETTINGS, purge=True)
    assert result["changed_keys"] == ["LOCAL_RESTORE"] and result["restart_required"]
    assert not result["restore_mode"]["kept"] and not result["restore_mode"]["left"]
    assert "LOCAL_RESTORE" not in restore_file.read_text()
