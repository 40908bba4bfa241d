"""The W&B account, logged in with the credentials of the published URL over verified TLS, owns
its database and nothing else; without TLS it is refused. The backup account can dump but not
write."""

import uuid

import pytest
from conftest import PRIMARY, REPLICA, secret, sql, sql_ok


@pytest.fixture(scope="module")
def client(lab):
    """The W&B account connects from the other host, across the lab network, as a W&B server would."""
    return lab[REPLICA]


@pytest.fixture(scope="module")
def other_database(lab):
    sql_ok(lab[PRIMARY], "CREATE DATABASE IF NOT EXISTS wandb_test_other")
    return "wandb_test_other"


def test_wandb_account_logs_in_over_verified_tls(client, wandb_login):
    cipher = sql_ok(client, "SHOW SESSION STATUS LIKE 'Ssl_cipher'", **wandb_login).split("\t")[1].strip()
    assert cipher, "the session is not encrypted"


def test_wandb_account_without_tls_is_refused(client, wandb_login):
    # --get-server-public-key lets the password reach the server without TLS, so that the
    # refusal comes from REQUIRE SSL and not from the missing secure channel.
    result = sql(client, "SELECT 1", ssl_mode="DISABLED", extra=["--get-server-public-key"], **wandb_login)
    assert result.rc != 0
    assert "Access denied" in result.stderr, result.stderr


def test_wandb_account_creates_a_table_in_its_database(client, wandb_login):
    table = f"wandb_local.t_{uuid.uuid4().hex[:12]}"
    sql_ok(client, f"CREATE TABLE {table} (id INT PRIMARY KEY, note VARCHAR(64)); DROP TABLE {table}", **wandb_login)


def test_wandb_account_cannot_create_a_table_elsewhere(client, wandb_login, other_database):
    result = sql(client, f"CREATE TABLE {other_database}.t_denied (id INT PRIMARY KEY)", **wandb_login)
    assert result.rc != 0
    assert "denied" in result.stderr, result.stderr


def test_wandb_account_cannot_create_a_database(client, wandb_login):
    result = sql(client, "CREATE DATABASE wandb_test_denied", **wandb_login)
    assert result.rc != 0
    assert "denied" in result.stderr, result.stderr


def test_wandb_account_has_no_global_privilege(lab):
    grants = sql_ok(lab[PRIMARY], "SHOW GRANTS FOR 'wandb_local'@'%'").splitlines()
    assert grants == [
        "GRANT USAGE ON *.* TO `wandb_local`@`%`",
        "GRANT ALL PRIVILEGES ON `wandb_local`.* TO `wandb_local`@`%`",
    ]


def test_backup_account_takes_a_consistent_dump(lab, client, wandb_login):
    sql_ok(
        client,
        "CREATE TABLE IF NOT EXISTS wandb_local.backup_probe (id INT PRIMARY KEY); "
        "REPLACE INTO wandb_local.backup_probe VALUES (42)",
        **wandb_login,
    )
    primary = lab[PRIMARY]
    dump = primary.run(
        f"MYSQL_PWD={secret('wandb_backup')} mysqldump --user=wandb_backup --single-transaction --source-data=2 "
        "--routines --events --triggers --init-command='SET SESSION max_execution_time=0' wandb_local"
    )
    assert dump.rc == 0, dump.stderr
    assert "CHANGE REPLICATION SOURCE TO" in dump.stdout or "SET @@GLOBAL.GTID_PURGED" in dump.stdout
    assert "INSERT INTO `backup_probe` VALUES (42)" in dump.stdout


def test_backup_account_cannot_write(lab):
    backup = {"user": "wandb_backup", "password": secret("wandb_backup")}
    result = sql(lab[PRIMARY], "INSERT INTO wandb_local.backup_probe VALUES (43)", **backup)
    assert result.rc != 0
    assert "denied" in result.stderr, result.stderr
