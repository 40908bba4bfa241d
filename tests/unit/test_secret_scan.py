"""The secret scan the Molecule scenarios and the job-event tests share (molecule/_shared/tests)."""

import base64
import json
from urllib.parse import quote

import pytest
from secret_scan import (
    Secret,
    forms_of,
    report,
    scan_events,
    scan_lines,
    secrets_in_dir,
    secrets_in_text,
    secrets_in_vars,
)

PASSWORD = "Xy7pQ2r9LmN4sT8v"
SPECIAL = "p@ss/w:rd+&=%20x"
SECRETS = [Secret(PASSWORD, "wandb-secrets/mysql/wandb_local"), Secret(SPECIAL, "inventory x_password")]


def transcript(*lines):
    return ["PLAY [MySQL] ****", "TASK [wandb_local.fleet.mysql : Publish the W&B MYSQL URL] ****", *lines]


@pytest.mark.parametrize(
    "printed, form",
    [
        (PASSWORD, "raw"),
        ("mysql://wandb_local:" + quote(SPECIAL, safe="") + "@db:3306/wandb_local", "URL-encoded"),
        (json.dumps({"Env": [f"P={SPECIAL}"]}), "raw"),
        ('"Authorization": "Basic ' + base64.b64encode(f"api:{PASSWORD}".encode()).decode() + '"', "base64"),
        ("content: " + base64.b64encode(f"MYSQL=x\nPW={PASSWORD}\n".encode()).decode(), "base64"),
        ("content: " + base64.b64encode(f"ab{PASSWORD}cd".encode()).decode(), "base64"),
        (json.dumps({"v": 'a"b\\' + PASSWORD}), "raw"),
    ],
)
def test_a_secret_is_found_in_any_form_and_named_by_source_and_task(printed, form):
    findings = scan_lines(transcript(f"ok: [db1] => {printed}"), SECRETS)
    assert findings, f"not found in {printed!r}"
    assert form in {finding.form for finding in findings}
    assert {finding.task for finding in findings} == {"wandb_local.fleet.mysql : Publish the W&B MYSQL URL"}
    assert findings[0].line == 3
    # The report names the source, never the value.
    text = report(findings)
    assert PASSWORD not in text and SPECIAL not in text
    assert "wandb-secrets/mysql/wandb_local" in text or "inventory x_password" in text


def test_clean_output_and_masked_values_give_no_finding():
    lines = transcript(
        'ok: [db1] => {"censored": "the output has been hidden due to the fact that \'no_log: true\' was specified"}',
        "MYSQL=mysql://wandb_local:********@db:3306/wandb_local",
        "Xy7pQ2r9 is only a part of it",
    )
    assert scan_lines(lines, SECRETS) == []


def test_a_secret_in_a_task_banner_is_found():
    findings = scan_lines([f"TASK [Log in as {PASSWORD}] ****"], SECRETS)
    assert findings and findings[0].task == f"Log in as {PASSWORD}"


def test_ansible_log_file_prefixes_are_understood():
    lines = [
        "2026-12-01 20:00:00,000 p=1 u=root n=ansible INFO| TASK [Run the server container] ****",
        f"2026-12-01 20:00:01,000 p=1 u=root n=ansible INFO| ok: [aio] => {{'Env': ['MYSQL={PASSWORD}']}}",
    ]
    (finding,) = scan_lines(lines, SECRETS)
    assert finding.task == "Run the server container"


def test_short_values_are_not_secrets_worth_scanning_for():
    assert secrets_in_text("abc", "x") == []
    assert forms_of("abcdefgh")[0][1]


def test_files_of_a_secrets_directory(tmp_path):
    (tmp_path / "secrets" / "mysql").mkdir(parents=True)
    (tmp_path / "secrets" / "mysql" / "wandb_local").write_text(PASSWORD + " salt=SaltSaltSalt1234\n")
    (tmp_path / "secrets" / "ca").mkdir()
    (tmp_path / "secrets" / "ca" / "ca.crt").write_text(
        "-----BEGIN CERTIFICATE-----\nMIIBpublicpublicpublic\n-----END CERTIFICATE-----\n"
    )
    (tmp_path / "secrets" / "ca" / "ca.key").write_text(
        "-----BEGIN EC PRIVATE KEY-----\nMIGkAgEBBDDprivatebody1\nlinetwoprivatebody22\n-----END EC PRIVATE KEY-----\n"
    )
    found = {secret.value: secret.source for secret in secrets_in_dir(tmp_path / "secrets")}
    assert found[PASSWORD] == "secrets/mysql/wandb_local"
    assert "SaltSaltSalt1234" in found
    assert "MIGkAgEBBDDprivatebody1" in found and "linetwoprivatebody22" in found
    assert not any("public" in value for value in found), "certificates are public"


def test_variables_named_like_secrets():
    variables = {
        "all": {
            "vars": {
                "wandb_mysql_wandb_password": PASSWORD,
                "wandb_mysql_port": 33060000,
                "wandb_minio_secret_key": "{{ vault_minio_secret }}",
                "wandb_server_settings": {"LICENSE": "lab-license-not-a-real-one", "HOST": "https://wandb.example"},
            }
        },
        "tasks": [{"settings": {"SLACK_SECRET": "lab-slack-secret-value"}}],
    }
    found = {secret.value for secret in secrets_in_vars(variables)}
    assert found == {PASSWORD, "lab-license-not-a-real-one", "lab-slack-secret-value"}


def test_job_events():
    events = [
        {"event": "playbook_on_start", "event_data": {}},
        {"event": "runner_on_ok", "event_data": {"task": "Run the server container", "res": {"env": f"X={SPECIAL}"}}},
    ]
    (finding,) = scan_events(events, SECRETS)
    assert finding.task == "Run the server container"
    assert finding.line == 2
