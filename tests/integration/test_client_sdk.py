"""The real wandb SDK judges the client role: a Debian 13 lab host configured only by the role
logs a run to the stand-in (tests/standin) with its files going straight to a real MinIO through
the upload URLs the stand-in signs. The SDK can exit 0 after failed uploads, so the test checks
what arrived: the object's sha256 in the bucket (read with mc) and the history at the stand-in."""

import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import emulators
import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
IMAGE = "wandb-fleet-lab/debian13:current"
API_KEY = "it" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
RUN_PY = """
import sys, wandb
run = wandb.init(project="client-it", id=sys.argv[1])
for i in range(5):
    run.log({"loss": 1.0 / (i + 1)})
run.save("blob.bin", policy="now")
run.finish()
"""


def sh(argv, timeout=600, check=True, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check, **kw)


@pytest.fixture(scope="module")
def site(minio, log_dir, tmp_path_factory):
    wheels = emulators.LAB_CACHE / "wheels" / "wandb-current"
    if not (wheels / "COMPLETE").exists():
        pytest.fail("no SDK wheels in %s: run `tests/lab/setup client-sdk`" % wheels, pytrace=False)
    work = tmp_path_factory.mktemp("client-sdk")
    sh(["go", "build", "-o", str(work / "standin"), "."], cwd=REPO / "tests" / "standin")
    mc = minio["mc"]
    env = dict(os.environ, MC_CONFIG_DIR=str(work / "mc"))
    sh([mc, "alias", "set", "it", minio["endpoint"], minio["user"], minio["password"]], env=env)
    sh([mc, "mb", "-p", "it/wandb"], env=env)
    port, metrics = emulators.free_port(), emulators.free_port()
    bucket = "s3://%s:%s@%s/wandb" % (minio["user"], minio["password"], minio["endpoint"].split("//")[1])
    standin = emulators.Process(
        "standin-sdk",
        [str(work / "standin")],
        log_dir,
        env={
            "STANDIN_ADDR": "127.0.0.1:%d" % port,
            "STANDIN_METRICS_ADDR": "127.0.0.1:%d" % metrics,
            "STANDIN_VOL": str(work),
            "STANDIN_API_KEY": API_KEY,
            "BUCKET": bucket,
        },
    )
    url = "http://127.0.0.1:%d" % port
    standin.wait_http(url + "/ready", ok=lambda r: r.status_code == 200)
    host = "wandb-fleet-it-client-%s" % uuid.uuid4().hex[:6]
    # Host networking: the host reaches the stand-in and MinIO on the controller's loopback.
    sh(["docker", "run", "-d", "--name", host, "--network", "host", IMAGE, "sleep", "3000"])
    try:
        sh(["docker", "exec", host, "useradd", "-m", "alice"])
        (work / "inventory").write_text(
            "%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n" % host
        )
        play = [
            {
                "hosts": "all",
                "gather_facts": False,
                "roles": [
                    {
                        "role": "wandb_local.fleet.client",
                        "vars": {
                            "wandb_client_base_url": url,
                            "wandb_client_users": ["alice"],
                            "wandb_client_api_keys": {"alice": API_KEY},
                            "wandb_client_sdk_install": True,
                            "wandb_client_sdk_wheel_dir": str(wheels),
                        },
                    }
                ],
            }
        ]
        (work / "play.yml").write_text(json.dumps(play))
        yield {"host": host, "url": url, "work": work, "mc": mc, "env": env, "standin": standin}
    finally:
        sh(["docker", "rm", "-f", host], check=False)
        standin.stop()


def playbook(site, *extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_NOCOLOR="1")
    proc = sh(
        ["ansible-playbook", "-i", str(site["work"] / "inventory"), str(site["work"] / "play.yml"), *extra],
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc.stdout


def sdk(site, run_id, timeout):
    """The SDK as alice with only what the role set (/etc/environment, settings, netrc)."""
    return sh(
        [
            "docker",
            "exec",
            "-u",
            "alice",
            "-w",
            "/home/alice",
            site["host"],
            "env",
            "-i",
            "HOME=/home/alice",
            "sh",
            "-c",
            "set -a; . /etc/environment; set +a; timeout %d /opt/wandb-sdk/bin/python run.py %s" % (timeout, run_id),
        ],
        check=False,
        timeout=timeout + 30,
    )


def test_role_then_a_real_run_arrives(site):
    recap = playbook(site)
    assert "failed=0" in recap
    assert "changed=0" in playbook(site), "second run changed something"
    assert "changed=0" in playbook(site, "--check"), "--check on the configured host predicts a change"
    blob = os.urandom(5 * 1024 * 1024)
    (site["work"] / "blob.bin").write_bytes(blob)
    (site["work"] / "run.py").write_text(RUN_PY)
    for name in ("blob.bin", "run.py"):
        sh(["docker", "cp", str(site["work"] / name), "%s:/home/alice/%s" % (site["host"], name)])
    sh(["docker", "exec", site["host"], "chown", "alice", "/home/alice/blob.bin", "/home/alice/run.py"])
    run = sdk(site, "itrun1", 120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    obj = subprocess.run(
        [site["mc"], "cat", "it/wandb/standin/client-it/itrun1/blob.bin"],
        capture_output=True,
        env=site["env"],
        timeout=60,
        check=True,
    ).stdout
    assert hashlib.sha256(obj).hexdigest() == hashlib.sha256(blob).hexdigest()
    kept = requests.get(site["url"] + "/standin/runs/standin/client-it/itrun1", timeout=5).json()
    assert len(kept["history"]) == 5 and kept["complete"] and kept["exitcode"] == 0
    status = sh(
        ["docker", "exec", "-u", "alice", "-w", "/home/alice", site["host"], "/opt/wandb-sdk/bin/wandb", "status"]
    )
    assert site["url"] in status.stdout


def test_a_wrong_api_key_gets_nothing_in(site):
    """The same run with a key the site does not know: nothing may arrive (the test can fail)."""
    sh(["docker", "exec", site["host"], "sed", "-i", "s/password .*/password %s/" % ("x" * 40), "/home/alice/.netrc"])
    try:
        sdk(site, "itrun2", 60)
        got = sh([site["mc"], "stat", "it/wandb/standin/client-it/itrun2/blob.bin"], env=site["env"], check=False)
        assert got.returncode != 0, "a run with a wrong key uploaded"
        assert requests.get(site["url"] + "/standin/runs/standin/client-it/itrun2", timeout=5).status_code == 404
    finally:
        playbook(site)
