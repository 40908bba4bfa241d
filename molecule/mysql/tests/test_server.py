"""The running servers carry the W&B settings (SHOW VARIABLES), not only the file."""

import pytest
from conftest import sql_ok

testinfra_hosts = ["ansible://wandb_mysql"]

# wandb-facts.md: vendor-validated settings plus those the vendor's cloud modules set, as MySQL
# reports them.
VENDOR_SETTINGS = {
    "binlog_format": "ROW",
    "binlog_row_image": "MINIMAL",
    "innodb_flush_log_at_trx_commit": "1",
    "innodb_online_alter_log_max_size": "268435456",
    "max_prepared_stmt_count": "1048576",
    "sort_buffer_size": "67108864",
    "sync_binlog": "1",
    "max_execution_time": "60000",
    "slow_query_log": "ON",
    "long_query_time": "4.000000",
    "innodb_lru_scan_depth": "128",
    "performance_schema": "ON",
}
ROLE_SETTINGS = {
    "character_set_server": "utf8mb4",
    "collation_server": "utf8mb4_general_ci",
    "port": "3306",
    "bind_address": "*",
    "max_connections": "500",
    # Accounts match by address: no connection waits for a reverse DNS lookup (wandb_mysql_skip_name_resolve).
    "skip_name_resolve": "ON",
    "log_bin": "ON",
    "gtid_mode": "ON",
    "enforce_gtid_consistency": "ON",
    "ssl_ca": "/etc/mysql/tls/ca.crt",
    "ssl_cert": "/etc/mysql/tls/mysql.crt",
    "ssl_key": "/etc/mysql/tls/mysql.key",
}


@pytest.fixture(scope="module")
def variables(host):
    rows = sql_ok(host, "SHOW GLOBAL VARIABLES").splitlines()
    return dict(row.split("\t", 1) if "\t" in row else (row, "") for row in rows)


def test_server_is_oracle_mysql(variables):
    assert "MariaDB" not in variables["version"] + variables["version_comment"]
    assert int(variables["version"].split(".")[0]) >= 8


@pytest.mark.parametrize("name", sorted(VENDOR_SETTINGS))
def test_vendor_setting_is_live(variables, name):
    assert variables[name] == VENDOR_SETTINGS[name]


@pytest.mark.parametrize("name", sorted(ROLE_SETTINGS))
def test_role_setting_is_live(variables, name):
    assert variables[name] == ROLE_SETTINGS[name]


def test_buffer_pool_is_sized_from_memory(host, variables):
    # molecule.yml asks for 2 % of the host's memory, rounded down to 128 MiB chunks.
    memtotal_kb = int(host.check_output("awk '/^MemTotal:/ {print $2}' /proc/meminfo"))
    memtotal_mb = memtotal_kb // 1024
    expected_mb = max(memtotal_mb * 2 // 100 // 128, 1) * 128
    assert int(variables["innodb_buffer_pool_size"]) == expected_mb * 1024 * 1024


def test_server_serves_the_lab_ca_certificate(host):
    certificate = "/etc/mysql/tls/mysql.crt"
    assert host.run(f"openssl verify -CAfile /etc/mysql/tls/ca.crt {certificate}").rc == 0
    details = host.check_output(f"openssl x509 -noout -issuer -enddate -ext subjectAltName -in {certificate}")
    assert "wandb_local.fleet CA" in details
    assert f"DNS:{host.backend.host}" in details, details
    # The certificate the running server loaded is this file (same expiry).
    not_after = sql_ok(host, "SHOW GLOBAL STATUS LIKE 'Ssl_server_not_after'").split("\t")[1].strip()
    assert f"notAfter={not_after}" in details


def test_wandb_database_is_utf8mb4_general_ci(host):
    row = sql_ok(
        host,
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
        "WHERE SCHEMA_NAME = 'wandb_local'",
    )
    assert row.split() == ["utf8mb4", "utf8mb4_general_ci"]


def test_config_file_is_not_world_writable(host):
    config = host.file("/etc/mysql/mysql.conf.d/zz-wandb.cnf")
    assert config.user == "root"
    assert config.mode == 0o644
    key = host.file("/etc/mysql/tls/mysql.key")
    assert key.user == "mysql"
    assert key.mode == 0o600
