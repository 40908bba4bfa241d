"""Backup and restore on the fleet: real data in W&B-shaped tables and the bucket, a backup, a wipe
(database dropped, bucket emptied, /vol/env deleted), a restore with its error window measured
through the proxy, and byte-identical results with /ready through the proxy. Also the timer's run,
retention, the refusals that change nothing (damaged file, unknown id, no room, an image older than
the backup, a full target), with no secret in any run's -vvv output; and last, disaster recovery:
the active server host and the MinIO host destroyed and built fresh, the database dropped, site.yml
then restore.yml.

The tests build on each other and run in file order."""

import base64
import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from lab_playbook import lab_host, run_playbook, standin_release
from test_secret_scan import assert_no_scenario_secret

testinfra_hosts = ["ansible://fleet-mysql"]

PROGRAM = "/usr/local/sbin/wandb-backup"
BACKUPS = "/var/backups/wandb"
METRICS = "/var/lib/prometheus/node-exporter/wandb_backup.prom"
VOL_ENV = "/var/lib/wandb/env"
ENV_FILE = "/etc/wandb/wandb.env"
PROXY_CA = "/etc/haproxy/wandb-tls/ca.crt"
BACKUP_PLAYBOOK = "../../playbooks/backup.yml"
RESTORE_PLAYBOOK = "../../playbooks/restore.yml"
UPGRADE_PLAYBOOK = "../../playbooks/upgrade.yml"
SITE_PLAYBOOK = "../../playbooks/site.yml"
WINDOW = re.compile(
    r"error window (?P<window>[0-9.]+) s through the proxy \((?P<failed>[0-9]+) of (?P<samples>[0-9]+) samples failed, "
    r"longest outage (?P<longest>[0-9.]+) s, a sample every (?P<interval>[0-9.]+) s\)"
)

# Runs on the backup host with the program's own configuration (database and bucket credentials),
# so the test never handles a secret itself.
HELPER = r"""
import hashlib, json, os, random, subprocess, sys, tempfile
import boto3
from botocore.config import Config

config = json.load(open("/etc/wandb-backup/config.json"))
db = config["mysql"]

def mysql(sql):
    with tempfile.NamedTemporaryFile("w", suffix=".cnf") as cnf:
        cnf.write("[client]\nuser=%s\npassword=%s\nhost=%s\nport=%s\nssl-ca=%s\nssl-mode=VERIFY_IDENTITY\n"
                  % (db["user"], db["password"], db["host"], db["port"], db["ssl_ca"]))
        cnf.flush()
        out = subprocess.run(["mysql", "--defaults-extra-file=" + cnf.name, "--batch", "--skip-column-names",
                              db["database"]], input=sql, capture_output=True, text=True)
        if out.returncode:
            sys.exit("mysql: " + out.stderr)
        return out.stdout

def s3():
    b = config["bucket"]
    return boto3.client("s3", endpoint_url=b["endpoint_url"], region_name=b["region"], verify=b["ca_file"],
                        aws_access_key_id=b["access_key"], aws_secret_access_key=b["secret_key"],
                        config=Config(s3={"addressing_style": "path"})), b["bucket"]

# The stand-in's /ready puts and removes this object on every health check (the proxy's among them):
# it is no data, and a listing can name it a moment before it is gone.
STANDIN_PROBE = ".wandb-standin-probe"

def objects():
    client, bucket = s3()
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            if item["Key"].rsplit("/", 1)[-1] == STANDIN_PROBE:
                continue
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
            digest = hashlib.sha256()
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
            found[item["Key"]] = digest.hexdigest()
    return found

command = sys.argv[1]
if command == "sql":
    print(mysql(sys.stdin.read()), end="")
elif command == "checksums":
    tables = [line.split("\t")[0] for line in mysql("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'").splitlines()]
    sums = {}
    for table in tables:
        sums[table] = mysql("CHECKSUM TABLE `%s`" % table).split()[-1]
        sums[table + " rows"] = mysql("SELECT COUNT(*) FROM `%s`" % table).strip()
    sums["routines"] = mysql("SELECT ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES "
                             "WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1")
    sums["triggers"] = mysql("SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS "
                             "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1")
    sums["events"] = mysql("SELECT EVENT_NAME, EVENT_DEFINITION FROM information_schema.EVENTS "
                           "WHERE EVENT_SCHEMA = DATABASE() ORDER BY 1")
    print(json.dumps(sums))
elif command == "put-objects":
    client, bucket = s3()
    rng = random.Random(7)
    for i in range(int(sys.argv[2])):
        key = "wandb/runs/run-%04d/files/%s" % (i // 5, ["output.log", "config.yaml", "wandb-summary.json",
                                                          "media/images/step_%d.png" % i, "requirements.txt"][i % 5])
        client.put_object(Bucket=bucket, Key=key, Body=rng.randbytes(rng.randint(0, 40000)))
    big = os.urandom(55 * 1024 * 1024 + 3)
    client.put_object(Bucket=bucket, Key="wandb/artifacts/model/v0/model.safetensors", Body=big)
    print(json.dumps(objects()))
elif command == "objects":
    print(json.dumps(objects()))
elif command == "empty-bucket":
    client, bucket = s3()
    for key in objects():
        client.delete_object(Bucket=bucket, Key=key)
"""

# JSON numbers are doubles, as W&B's server writes them (JSON text from Go): a DECIMAL inside a JSON
# value comes back from any logical dump as a DOUBLE (docs/backup-restore.md).
SCHEMA = """
SET SESSION cte_max_recursion_depth = 100000;
CREATE TABLE entities (id BIGINT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64) NOT NULL UNIQUE,
  is_team BOOLEAN NOT NULL DEFAULT FALSE, created_at DATETIME(6) NOT NULL) ENGINE=InnoDB;
CREATE TABLE projects (id BIGINT PRIMARY KEY AUTO_INCREMENT, entity_id BIGINT NOT NULL, name VARCHAR(128) NOT NULL,
  description TEXT, created_at DATETIME(6) NOT NULL, FOREIGN KEY (entity_id) REFERENCES entities (id)) ENGINE=InnoDB;
CREATE TABLE runs (id BIGINT PRIMARY KEY AUTO_INCREMENT, project_id BIGINT NOT NULL, name VARCHAR(64) NOT NULL,
  display_name VARCHAR(255), state VARCHAR(16) NOT NULL, config JSON, summary_metrics JSON,
  heartbeat_at DATETIME(6), updated_at DATETIME(6), FOREIGN KEY (project_id) REFERENCES projects (id)) ENGINE=InnoDB;
CREATE TABLE run_history (run_id BIGINT NOT NULL, step INT NOT NULL, data JSON NOT NULL,
  PRIMARY KEY (run_id, step)) ENGINE=InnoDB;
CREATE TABLE files (id BIGINT PRIMARY KEY AUTO_INCREMENT, run_id BIGINT NOT NULL, name VARCHAR(512) NOT NULL,
  storage_path VARCHAR(1024) NOT NULL, size_bytes BIGINT NOT NULL, digest BINARY(32) NOT NULL) ENGINE=InnoDB;
CREATE PROCEDURE run_count(IN p BIGINT) SELECT COUNT(*) FROM runs WHERE project_id = p;
CREATE EVENT prune_heartbeats ON SCHEDULE EVERY 1 DAY DISABLE DO
  UPDATE runs SET heartbeat_at = NULL WHERE heartbeat_at < NOW() - INTERVAL 30 DAY;
INSERT INTO entities (name, is_team, created_at)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
  SELECT CONCAT('entity-', i), i % 5 = 0, TIMESTAMP('2026-01-01') + INTERVAL i MINUTE FROM n;
INSERT INTO projects (entity_id, name, description, created_at)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
  SELECT 1 + i % 50, CONCAT('project-', i), REPEAT('a project about things, ', i % 7), TIMESTAMP('2026-01-02') FROM n;
INSERT INTO runs (project_id, name, display_name, state, config, summary_metrics, heartbeat_at)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
  SELECT 1 + i % 200, LPAD(CONV(i * 7919, 10, 36), 8, '0'), CONCAT('run ', i, ' ✓ ünïcode'),
         ELT(1 + i % 3, 'running', 'finished', 'crashed'),
         JSON_OBJECT('lr', i / 1e4, 'epochs', i % 100, 'optimizer', 'adam'),
         JSON_OBJECT('loss', 1e0 / i, 'acc', i / 3e3), TIMESTAMP('2026-02-01') + INTERVAL i SECOND FROM n;
INSERT INTO run_history (run_id, step, data)
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
  SELECT 1 + i % 3000, i DIV 3000, JSON_OBJECT('_step', i DIV 3000, 'loss', 1e0 / (i + 1)) FROM n;
INSERT INTO files (run_id, name, storage_path, size_bytes, digest)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
  SELECT 1 + i % 3000, CONCAT('media/images/step_', i, '.png'), CONCAT('wandb/runs/', i), i * 1000,
         UNHEX(SHA2(i, 256)) FROM n;
UPDATE runs SET state = 'finished' WHERE id % 10 = 0;
"""


def helper(host, *args, stdin=None):
    encoded = base64.b64encode(HELPER.encode()).decode()
    script = f"echo {encoded} | base64 -d > /root/.wandb-backup-test.py && python3 /root/.wandb-backup-test.py "
    command = script + " ".join(args)
    if stdin is not None:
        command = f"echo {base64.b64encode(stdin.encode()).decode()} | base64 -d | " + f"({command})"
    return host.check_output(command)


def vol_files(name):
    """Path -> (sha256, mode, owner) of /vol/env and the environment file of a server host."""
    out = lab_host(name).check_output(
        f"for f in $(find {VOL_ENV} {ENV_FILE} -type f | sort); do "
        "echo \"$f $(stat -c '%a %u:%g' $f) $(sha256sum < $f | cut -c1-64)\"; done"
    )
    return {line.split()[0]: tuple(line.split()[1:]) for line in out.splitlines()}


def ready_through_the_proxy():
    proxy = lab_host("fleet-proxy")
    return proxy.run(f"curl -sS -o /dev/null -w '%{{http_code}}' --cacert {PROXY_CA} https://fleet-proxy/ready").stdout


def backup_ids(host):
    return json.loads(host.check_output(f"{PROGRAM} list --json"))


def site_state(host):
    """What a refused restore must leave as it is."""
    (container,) = json.loads(lab_host("fleet-app1").check_output("docker inspect wandb-local"))
    return {
        "db": helper(host, "checksums"),
        "vol": vol_files("fleet-app1"),
        "server": (container["State"]["Running"], container["State"]["StartedAt"]),
        "backups": backup_ids(host),
    }


def say(capsys, text):
    """A figure in the test's output whatever the result (pytest keeps a passing test's prints)."""
    with capsys.disabled():
        print("\n[fleet test] " + text, flush=True)


def assert_error_window_measured(run, took, capsys):
    """The restore's summary line holds its error window: users saw failures while the servers were
    down, and the window is no longer than the whole restore."""
    # The last one: -vvv prints the message in the task's result too; the task timings come after it.
    found = list(WINDOW.finditer(run.output))[-1]
    say(capsys, "restore.yml took %.0f s; %s" % (took, found[0]))
    assert int(found["failed"]) > 0, found[0]
    assert int(found["samples"]) > int(found["failed"]), found[0]
    assert 0 < float(found["window"]) <= took, found[0]
    assert 0 < float(found["longest"]) <= float(found["window"]), found[0]
    assert float(found["interval"]) == 0.1
    # The sampler is gone from the proxy host.
    assert lab_host("fleet-proxy").run("ls /run/wandb-error-window").stdout.strip() == ""


def assert_no_secret(run):
    assert_no_scenario_secret([run.output])


@pytest.fixture(scope="module")
def data(host):
    """Real data everywhere a backup looks: tables, objects, the keys under /vol/env."""
    helper(host, "sql", stdin="DROP TABLE IF EXISTS files, run_history, runs, projects, entities;")
    helper(host, "sql", stdin="DROP PROCEDURE IF EXISTS run_count; DROP EVENT IF EXISTS prune_heartbeats;")
    helper(host, "sql", stdin=SCHEMA)
    objects = json.loads(helper(host, "put-objects", "400"))
    app = lab_host("fleet-app1")
    # What the real server keeps in /vol/env (the stand-in makes none): session and signing keys.
    app.check_output(
        f"install -d -o 999 -g 0 -m 0770 {VOL_ENV} && head -c 2048 /dev/urandom | base64 > {VOL_ENV}/key.pem && "
        f"echo kid-$RANDOM > {VOL_ENV}/kid.txt && echo 'admin:$apr1$x$y' > {VOL_ENV}/users.htpasswd && "
        f"chown 999:0 {VOL_ENV}/* && chmod 0660 {VOL_ENV}/*"
    )
    return {"db": helper(host, "checksums"), "objects": objects, "vol": vol_files("fleet-app1")}


@pytest.fixture(scope="module")
def first_backup(host, data):
    run = run_playbook(BACKUP_PLAYBOOK, "-vvv")
    assert run.returncode == 0, run.tail()
    assert_no_secret(run)
    ids = backup_ids(host)
    return {"id": ids[-1], "run": run}


def test_the_program_and_its_configuration_are_root_only(host):
    assert host.file(PROGRAM).mode == 0o700
    assert host.file("/etc/wandb-backup/config.json").mode == 0o600
    assert host.file(BACKUPS).mode == 0o700
    assert host.file("/var/lib/wandb-backup/server/server.tar").mode == 0o600


def test_the_data_is_real(data):
    counts = json.loads(data["db"])
    assert int(counts["runs rows"]) == 3000 and int(counts["run_history rows"]) == 10000
    # (A trigger would need SUPER with binary logging on; the W&B account has none.)
    assert "run_count" in counts["routines"]
    assert "prune_heartbeats" in counts["events"]
    assert len(data["objects"]) == 401
    assert {"key.pem", "kid.txt", "users.htpasswd"} <= {path.rsplit("/", 1)[-1] for path in data["vol"]}


def test_a_backup_has_a_manifest_with_every_file_and_the_server_it_came_from(host, first_backup):
    manifest = json.loads(host.check_output(f"{PROGRAM} verify {first_backup['id']}"))["manifest"]
    assert manifest["id"] == first_backup["id"]
    assert manifest["server"]["version"] == "0.1.0"
    assert manifest["server"]["image"] == "wandb-fleet-lab/wandb-standin:0.1.0"
    assert manifest["server"]["host"] == "fleet-app1"
    assert manifest["schema_version"] == "0.1.0"
    assert set(manifest["files"]) == {"mysql.sql.gz", "bucket.tar", "bucket-index.json", "server.tar"}
    assert manifest["bucket"]["objects"] == 401
    assert manifest["bucket"]["object_bytes"] > 55 * 1024 * 1024
    folder = f"{BACKUPS}/{first_backup['id']}"
    for name, entry in manifest["files"].items():
        assert host.file(f"{folder}/{name}").sha256sum == entry["sha256"]
        assert host.file(f"{folder}/{name}").mode == 0o600
    assert f"Backup {first_backup['id']} on fleet-mysql" in first_backup["run"].output


def test_wipe_and_restore_gives_back_every_row_object_and_key(host, data, first_backup, capsys):
    # The wipe: the database dropped, the bucket emptied, /vol/env deleted.
    helper(host, "sql", stdin="DROP DATABASE wandb_local;")
    helper(host, "empty-bucket")
    lab_host("fleet-app1").check_output(f"rm -rf {VOL_ENV}")
    assert json.loads(helper(host, "objects")) == {}

    started = time.time()
    run = run_playbook(RESTORE_PLAYBOOK, "-vvv", extra_vars={"wandb_restore_backup": "latest"})
    took = time.time() - started
    assert run.returncode == 0, run.tail()
    assert_no_secret(run)
    assert f"Backup {first_backup['id']} restored" in run.output
    assert took < 900
    assert_error_window_measured(run, took, capsys)

    assert helper(host, "checksums") == data["db"]
    assert json.loads(helper(host, "objects")) == data["objects"]
    assert vol_files("fleet-app1") == data["vol"]
    # The standby gets the same keys: a failover logs no one out.
    assert vol_files("fleet-app2") == data["vol"]
    assert ready_through_the_proxy() == "200"
    (standby,) = json.loads(lab_host("fleet-app2").check_output("docker inspect wandb-local"))
    assert standby["State"]["Running"] is False


def test_the_timer_is_enabled_and_its_run_gives_a_valid_backup_and_metrics(host, first_backup):
    assert host.check_output("systemctl is-enabled wandb-backup.timer") == "enabled"
    assert host.check_output("systemctl is-active wandb-backup.timer") == "active"
    before = backup_ids(host)
    started = int(time.time())
    # What the timer starts.
    host.check_output("systemctl start wandb-backup.service")
    after = backup_ids(host)
    assert len(after) == len(before) + 1
    new = after[-1]
    verified = json.loads(host.check_output(f"{PROGRAM} verify {new}"))
    assert verified["manifest"]["bucket"]["objects"] == 401
    metrics = host.file(METRICS).content_string
    values = dict(line.split() for line in metrics.splitlines() if line and not line.startswith("#"))
    assert values["wandb_backup_last_success"] == "1"
    assert int(values["wandb_backup_last_success_timestamp_seconds"]) >= started
    assert int(values["wandb_backup_last_size_bytes"]) == verified["manifest"]["size_bytes"]
    assert float(values["wandb_backup_last_duration_seconds"]) > 0
    assert "# TYPE wandb_backup_last_success gauge" in metrics
    journal = host.check_output("journalctl -u wandb-backup.service -o cat --no-pager | tail -n 20")
    assert f"backup {new} complete" in journal


def test_retention_keeps_the_newest_three(host, first_backup):
    while len(backup_ids(host)) < 3:
        host.check_output("systemctl start wandb-backup.service")
    oldest = backup_ids(host)
    host.check_output("systemctl start wandb-backup.service")
    kept = backup_ids(host)
    assert len(kept) == 3
    assert kept[:2] == oldest[1:] and oldest[0] not in kept
    assert not host.file(f"{BACKUPS}/{oldest[0]}").exists
    metrics = host.file(METRICS).content_string
    assert "wandb_backup_backups 3" in metrics


def test_a_damaged_file_stops_the_restore_and_changes_nothing(host):
    latest = backup_ids(host)[-1]
    dump = f"{BACKUPS}/{latest}/mysql.sql.gz"
    host.check_output(f"cp -p {dump} /root/.saved-dump && printf 'X' | dd of={dump} bs=1 seek=200 conv=notrunc")
    try:
        before = site_state(host)
        run = run_playbook(RESTORE_PLAYBOOK, "-vvv", extra_vars={"wandb_restore_backup": latest})
        assert run.returncode != 0
        assert f"backup {latest} is damaged: mysql.sql.gz does not match the manifest" in run.output
        assert_no_secret(run)
        assert site_state(host) == before
    finally:
        host.check_output(f"cp -p /root/.saved-dump {dump} && rm -f /root/.saved-dump")


def test_an_image_older_than_the_backup_stops_the_restore_and_changes_nothing(host):
    latest = backup_ids(host)[-1]
    manifest = f"{BACKUPS}/{latest}/manifest.json"
    # As if a newer W&B (0.3.0) had written the backup; the servers run the stand-in 0.1.0.
    host.check_output(
        f"cp -p {manifest} /root/.saved-manifest && python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); "
        f'm["server"]["version"] = "0.3.0"; json.dump(m, open(sys.argv[1], "w"))\' {manifest}'
    )
    try:
        before = site_state(host)
        run = run_playbook(RESTORE_PLAYBOOK, extra_vars={"wandb_restore_backup": latest})
        assert run.returncode != 0
        assert (
            f"backup {latest} was written by W&B 0.3.0; the server would start wandb-fleet-lab/wandb-standin:0.1.0"
            in run.output
        )
        assert site_state(host) == before
    finally:
        host.check_output(f"cp -p /root/.saved-manifest {manifest} && rm -f /root/.saved-manifest")


def test_an_unknown_id_stops_with_the_ids_there_are(host):
    before = site_state(host)
    run = run_playbook(RESTORE_PLAYBOOK, extra_vars={"wandb_restore_backup": "20000101T000000Z"})
    assert run.returncode != 0
    assert (
        "backup '20000101T000000Z' does not exist; the backups there are: " + ", ".join(before["backups"]) in run.output
    )
    assert site_state(host) == before


def test_no_room_on_a_target_stops_the_restore_and_changes_nothing(host):
    before = site_state(host)
    # More than any disk here: the room check refuses before anything is stopped.
    run = run_playbook(
        RESTORE_PLAYBOOK, extra_vars={"wandb_restore_backup": "latest", "wandb_restore_reserve_bytes": 2**60}
    )
    assert run.returncode != 0
    assert "no room to restore the database" in run.output.lower() or "No room on" in run.output
    assert site_state(host) == before
    assert ready_through_the_proxy() == "200"


def servers():
    """Image and start time of both server containers (the standby's is created, not running)."""
    found = {}
    for name in ("fleet-app1", "fleet-app2"):
        (container,) = json.loads(lab_host(name).check_output("docker inspect wandb-local"))
        found[name] = (container["Config"]["Image"], container["State"]["Running"], container["State"]["StartedAt"])
    return found


def test_check_mode_of_the_day2_playbooks_completes_and_changes_nothing(host):
    """The day-2 playbooks preview too (AWX's "Check" job type): --check --diff of backup.yml,
    restore.yml and upgrade.yml (to the next stand-in release) on the converged fleet completes and
    leaves the database, /vol, both servers and the backups as they were, with no secret at -vvv."""
    before = (site_state(host), servers())
    for playbook, extra_vars in (
        (BACKUP_PLAYBOOK, None),
        (RESTORE_PLAYBOOK, {"wandb_restore_backup": "latest"}),
        (UPGRADE_PLAYBOOK, standin_release("0.2.0")),
    ):
        run = run_playbook(playbook, "--check", "--diff", "-vvv", extra_vars=extra_vars)
        assert run.returncode == 0, f"{playbook} --check failed:\n{run.tail()}"
        assert_no_secret(run)
        assert (site_state(host), servers()) == before, f"{playbook} --check changed the site"
    assert ready_through_the_proxy() == "200"


def test_a_full_target_stops_the_backup_keeps_the_earlier_ones_and_says_so(host):
    """The backup directory on a small filesystem (a tmpfs over it, with copies of the backups there):
    the run stops before writing, with a clear message, a failure in the metrics and a non-zero exit."""
    earlier = backup_ids(host)
    used = int(host.check_output(f"du -sb {BACKUPS} | cut -f1"))
    before = host.file(METRICS).content_string
    # Room for the copies and 4 MiB more: less than any backup of this site takes.
    host.check_output(
        f"mkdir -p /root/.full-target && cp -a {BACKUPS}/. /root/.full-target/ && "
        f"mount -t tmpfs -o size={used + 4 * 1024 * 1024},mode=0700 wandb-full-target {BACKUPS} && "
        f"cp -a /root/.full-target/. {BACKUPS}/ && rm -rf /root/.full-target"
    )
    try:
        run = run_playbook(BACKUP_PLAYBOOK)
        assert run.returncode != 0
        assert f"no room at the target {BACKUPS}:" in run.output
        assert "nothing was written, the 3 backups there are kept" in run.output
        assert host.run("systemctl is-failed wandb-backup.service").stdout.strip() == "failed"
        assert backup_ids(host) == earlier
        for backup_id in earlier:
            host.check_output(f"{PROGRAM} verify {backup_id}")
        assert host.check_output(f"ls -A {BACKUPS}").split() == earlier
        metrics = host.file(METRICS).content_string
        values = dict(line.split() for line in metrics.splitlines() if line and not line.startswith("#"))
        assert values["wandb_backup_last_success"] == "0"
        assert values["wandb_backup_backups"] == "3"
        assert metrics != before
    finally:
        host.run(f"umount {BACKUPS}")
    assert backup_ids(host) == earlier


# An S3 target (a second bucket on the site's MinIO, as an off-site bucket would be) with age
# encryption: the backup host's program with its configuration changed only there. Runs on the
# backup host; the MinIO root password comes on stdin.
S3_AGE = r"""
import json, os, subprocess, sys
import boto3
from botocore.config import Config

config = json.load(open("/etc/wandb-backup/config.json"))
source = config["bucket"]
target = {"type": "s3", "endpoint_url": source["endpoint_url"], "bucket": "wandb-backups", "prefix": "fleet",
          "region": source["region"], "access_key": "minio-root", "secret_key": sys.stdin.read().strip(),
          "ca_file": source["ca_file"]}
client = boto3.client("s3", endpoint_url=target["endpoint_url"], region_name=target["region"], verify=target["ca_file"],
                      aws_access_key_id=target["access_key"], aws_secret_access_key=target["secret_key"],
                      config=Config(s3={"addressing_style": "path"}))
if sys.argv[1] == "configure":
    if "wandb-backups" not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket="wandb-backups")
    key = "/root/.wandb-backup-age.txt"
    if not os.path.exists(key):
        subprocess.run(["age-keygen", "-o", key], check=True, capture_output=True)
    public = subprocess.run(["age-keygen", "-y", key], check=True, capture_output=True, text=True).stdout.strip()
    config.update(target=target, encryption={"recipients": [public], "identity_file": key},
                  metrics_file="/root/.wandb-backup-s3.prom")
    fd = os.open("/root/.wandb-backup-s3.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle)
elif sys.argv[1] == "stored":
    found = {}
    for item in client.list_objects_v2(Bucket="wandb-backups", Prefix="fleet/").get("Contents", []):
        head = client.get_object(Bucket="wandb-backups", Key=item["Key"], Range="bytes=0-20")["Body"].read()
        found[item["Key"]] = head.decode(errors="replace")
    print(json.dumps(found))
"""


def s3_age(host, *args):
    root_password = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "wandb-secrets", "minio", "root_password")
    encoded = base64.b64encode(S3_AGE.encode()).decode()
    secret = base64.b64encode(root_password.read_text().strip().encode()).decode()
    return host.check_output(
        f"echo {encoded} | base64 -d > /root/.wandb-backup-s3.py && echo {secret} | base64 -d | "
        f"python3 /root/.wandb-backup-s3.py {' '.join(args)}"
    )


def test_an_s3_target_with_age_encryption_backs_up_and_restores(host):
    host.check_output("command -v age-keygen || DEBIAN_FRONTEND=noninteractive apt-get install -y -q age")
    s3_age(host, "configure")
    program = f"{PROGRAM} --config /root/.wandb-backup-s3.json"
    before = {"db": helper(host, "checksums"), "objects": json.loads(helper(host, "objects"))}
    backup_id = json.loads(host.check_output(f"{program} run"))["id"]
    assert json.loads(host.check_output(f"{program} list --json"))[-1] == backup_id
    manifest = json.loads(host.check_output(f"{program} verify {backup_id}"))["manifest"]
    assert set(manifest["files"]) == {"mysql.sql.gz.age", "bucket.tar.age", "bucket-index.json.age", "server.tar.age"}
    stored = json.loads(s3_age(host, "stored"))
    assert {key.split("/")[-1] for key in stored if f"/{backup_id}/" in key} == set(manifest["files"]) | {
        "manifest.json"
    }
    # Encrypted at rest: every file but the manifest is age's format in the bucket.
    for key, head in stored.items():
        if f"/{backup_id}/" in key and not key.endswith("manifest.json"):
            assert head.startswith("age-encryption.org/v1"), key

    # Wiped, then restored from the bucket (the servers stopped, as restore.yml does: the failover
    # watchdog paused first, or it would start the container again).
    app = lab_host("fleet-app1")
    app.check_output("wandb-failover pause --for 900 && docker stop wandb-local")
    try:
        helper(host, "sql", stdin="DROP DATABASE wandb_local;")
        helper(host, "empty-bucket")
        host.check_output(f"{program} restore {backup_id} --database --bucket --server-files /root/.s3-server.tar")
        assert host.check_output("tar -tf /root/.s3-server.tar | grep -c env/key.pem") == "1"
    finally:
        host.run("rm -f /root/.s3-server.tar")
        app.check_output("docker start wandb-local && wandb-failover resume")
    assert helper(host, "checksums") == before["db"]
    assert json.loads(helper(host, "objects")) == before["objects"]
    host.check_output(f"{PROGRAM} ready --timeout 120")
    assert ready_through_the_proxy() == "200"


def _lab_platforms(names):
    scenario = yaml.safe_load(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "molecule.yml").read_text())
    return [platform for platform in scenario["platforms"] if platform["name"] in names]


def test_disaster_recovery_onto_freshly_built_hosts(host, data, capsys):
    """docs/backup-restore.md, "Disaster recovery", step by step: the active server host and the MinIO
    host are lost and built fresh from the lab's base image (same names, networks, addresses), the
    database is dropped; site.yml, then restore.yml latest give back every row, object and key."""
    lost = _lab_platforms(["fleet-app1", "fleet-minio"])
    assert len(lost) == 2
    shared = {"molecule_yml": {"platforms": lost}, "lab_keep_runs": True}
    started = time.time()
    run = run_playbook("../_shared/destroy.yml", extra_vars=shared)
    assert run.returncode == 0, run.tail()
    run = run_playbook("../_shared/create.yml", extra_vars=shared)
    assert run.returncode == 0, run.tail()
    # Fresh: nothing of the old hosts is left.
    assert lab_host("fleet-app1").run("test -e /etc/wandb").rc != 0
    assert lab_host("fleet-minio").run("test -e /usr/local/bin/minio || test -e /etc/minio").rc != 0
    helper(host, "sql", stdin="DROP DATABASE wandb_local;")

    run = run_playbook(SITE_PLAYBOOK)
    assert run.returncode == 0, run.tail()
    rebuilt = time.time()
    run = run_playbook(RESTORE_PLAYBOOK, extra_vars={"wandb_restore_backup": "latest"})
    assert run.returncode == 0, run.tail()
    assert f"Backup {backup_ids(host)[-1]} restored" in run.output
    restored = time.time()
    rebuild, restore = rebuilt - started, restored - rebuilt
    say(capsys, f"disaster recovery: hosts and site.yml {rebuild:.0f} s, restore.yml {restore:.0f} s")

    assert helper(host, "checksums") == data["db"]
    assert json.loads(helper(host, "objects")) == data["objects"]
    assert vol_files("fleet-app1") == data["vol"]
    assert ready_through_the_proxy() == "200"
