"""An AWX job without AWX: playbooks/file_storage.yml (provider minio) run by ansible-runner, as AWX
runs it, from a private data directory shaped like the one AWX writes (project/, inventory/,
env/envvars, env/extravars, env/cmdline), against the real MinIO of the integration fixtures.

The MinIO admin key reaches the job only through the "W&B MinIO admin" credential type's injectors,
rendered the way AWX renders them (tests/awx_model.py), and a "W&B server secrets" credential is
attached too (its extra vars must not leak either). The survey answers are the generated job
template's defaults plus the required answers. The job must succeed, and none of its job events
(what AWX stores of every task, at any verbosity) nor its stdout may hold a secret the job knew:
the admin secret, the license, the OIDC secret, and the bucket key file_storage generated."""

import json
import shlex
import shutil
import sys
import uuid
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from conftest import COLLECTIONS, HOST, REPO
from secret_scan import Secret, report, scan_events, scan_lines

sys.path.insert(0, str(REPO / "tests"))

import awx_model

pytestmark = pytest.mark.emulator

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner comes with tests/requirements.txt")


def definitions(name):
    return yaml.safe_load((REPO / "extensions" / "awx" / name).read_text())


def credential_type(name):
    return next(t for t in definitions("credential_types.yml")["wandb_awx_credential_types"] if t["name"] == name)


def test_file_storage_job_as_awx_runs_it(minio, tmp_path, monkeypatch):
    for name in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    job_template = next(
        t
        for t in definitions("job_templates.yml")["wandb_awx_job_templates"]
        if t["name"] == "W&B file storage (MinIO)"
    )
    private = tmp_path / "job"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "env").mkdir()
    shutil.copytree(REPO / "playbooks", private / "project" / "playbooks")
    (private / "inventory" / "hosts").write_text(
        "[wandb_server]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
    )

    # Survey: the generated defaults, then the answers the operator gives.
    env_file = tmp_path / "wandb.env"
    bucket = "wandb-awx-%s" % uuid.uuid4().hex[:8]
    questions = job_template["survey_spec"]["spec"]
    extra_vars = {q["variable"]: q["default"] for q in questions if "default" in q}
    extra_vars.update(
        wandb_file_storage_bucket=bucket,
        wandb_file_storage_endpoint_url=minio["endpoint"],
        wandb_host=HOST,
        wandb_file_storage_settings_path=str(env_file),
    )
    assert {q["variable"] for q in questions if q["required"]} <= set(extra_vars)
    # The job template's own extra vars: the file is the test's, no become needed.
    extra_vars["wandb_file_storage_become"] = False

    # Credentials, injected as AWX injects them.
    license_key = "awx-license-%s" % uuid.uuid4().hex
    oidc_secret = "awx-oidc-%s" % uuid.uuid4().hex
    envvars, args = {}, []
    for name, inputs in (
        ("W&B MinIO admin", {"access_key": minio["user"], "secret_key": minio["password"]}),
        ("W&B server secrets", {"license": license_key, "oidc_secret": oidc_secret, "slack_secret": ""}),
    ):
        env, more = awx_model.inject(credential_type(name), inputs, str(private))
        envvars.update(env)
        args += more
    assert envvars == {"MINIO_ROOT_USER": minio["user"], "MINIO_ROOT_PASSWORD": minio["password"]}
    # The collection where the job runs: an execution environment would have it installed.
    envvars.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false")
    (private / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (private / "env" / "extravars").write_text(yaml.safe_dump(extra_vars))
    cmdline = "--tags %s %s" % (job_template["job_tags"], " ".join(shlex.quote(arg) for arg in args))
    (private / "env" / "cmdline").write_text(cmdline)
    # Nothing secret reaches the job but through the injectors.
    for path in ("env/extravars", "env/cmdline"):
        text = (private / path).read_text()
        assert minio["password"] not in text and license_key not in text

    result = ansible_runner.run(
        private_data_dir=str(private), playbook=job_template["playbook"], ident="1", quiet=True, timeout=600
    )
    stdout = (private / "artifacts" / "1" / "stdout").read_text()
    assert result.status == "successful", stdout
    assert result.rc == 0

    # The job did its work with the injected key: the server's settings name a key of the bucket's own.
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    parts = urlsplit(settings["BUCKET"])
    assert parts.path.lstrip("/") == bucket
    assert settings["BUCKET_QUEUE"] == "internal://"
    bucket_secret = unquote(parts.password)

    events = [json.loads(p.read_text()) for p in sorted((private / "artifacts" / "1" / "job_events").glob("*.json"))]
    tasks = {e["event_data"].get("task") for e in events if e["event"] == "runner_on_ok"}
    assert "Create the bucket and a key that reaches only that bucket" in tasks
    assert "Write the storage settings for the server" in tasks
    secrets = [
        Secret(minio["password"], "the W&B MinIO admin credential (secret_key)"),
        Secret(license_key, "the W&B server secrets credential (license)"),
        Secret(oidc_secret, "the W&B server secrets credential (oidc_secret)"),
        Secret(bucket_secret, "the bucket key file_storage created"),
    ]
    findings = scan_events(events, secrets)
    assert not findings, report(findings)
    findings = scan_lines(stdout.splitlines(), secrets)
    assert not findings, report(findings)
