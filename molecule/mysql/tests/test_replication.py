"""GTID replication from the primary to the replica, over TLS that verifies the primary."""

import time
import uuid

from conftest import PRIMARY, REPLICA, sql, sql_ok


def replica_status(host):
    lines = sql_ok(host, "SHOW REPLICA STATUS", extra=["--vertical", "--column-names"]).splitlines()
    pairs = (line.strip().partition(":") for line in lines[1:])
    return {name: value.strip() for name, _colon, value in pairs}


def test_server_ids_differ(lab):
    ids = {name: sql_ok(host, "SELECT @@server_id").strip() for name, host in lab.items()}
    assert ids[PRIMARY] != ids[REPLICA]


def test_replica_follows_the_primary_with_gtid_over_verified_tls(lab):
    status = replica_status(lab[REPLICA])
    assert status["Source_Host"] == PRIMARY
    assert status["Replica_IO_Running"] == "Yes", status["Last_IO_Error"]
    assert status["Replica_SQL_Running"] == "Yes", status["Last_SQL_Error"]
    assert status["Auto_Position"] == "1"
    assert status["Source_SSL_Allowed"] == "Yes"
    assert status["Source_SSL_Verify_Server_Cert"] == "Yes"


def test_primary_is_no_replica(lab):
    assert sql_ok(lab[PRIMARY], "SHOW REPLICA STATUS").strip() == ""


def test_row_written_on_primary_is_read_on_replica(lab, wandb_login):
    marker = uuid.uuid4().hex
    write = f"INSERT INTO wandb_local.replication_probe VALUES ('{marker}')"  # noqa: S608 (hex digits)
    sql_ok(
        lab[REPLICA],
        f"CREATE TABLE IF NOT EXISTS wandb_local.replication_probe (marker CHAR(32) PRIMARY KEY); {write}",
        **wandb_login,  # connects to the primary, named by the published URL
    )
    deadline = time.monotonic() + 30
    while True:
        query = f"SELECT marker FROM wandb_local.replication_probe WHERE marker = '{marker}'"  # noqa: S608 (hex digits)
        found = sql(lab[REPLICA], query)
        if found.rc == 0 and found.stdout.strip() == marker:
            break
        assert time.monotonic() < deadline, f"row not replicated within 30 s: {found.stderr}"
        time.sleep(1)


def test_replica_refuses_writes_from_the_wandb_account(lab, wandb_login):
    # The account reached the replica through replication; the replica is read-only.
    login = dict(wandb_login, server=REPLICA)
    result = sql(lab[PRIMARY], "CREATE TABLE wandb_local.on_replica (id INT PRIMARY KEY)", **login)
    assert result.rc != 0
    assert "read-only" in result.stderr or "read_only" in result.stderr, result.stderr
