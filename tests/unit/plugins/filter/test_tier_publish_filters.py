# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mysql_endpoint and redis_endpoint as the publish tasks call them: another host is read by name
only (nothing else of it is templated), errors are filter errors naming the input, never a secret."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter import wandb_endpoints, wandb_mysql, wandb_redis

PASSWORD = "Sup3r-Secret:pass/word"


class RecordingHostVars(Mapping):
    """Like Ansible's hostvars: a host's variable is templated when read; this records the reads, and a
    variable whose value is an exception raises it (a lookup that must not run)."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.read = []

    def __getitem__(self, host):
        outer = self

        class Vars(Mapping):
            def __getitem__(self, name):
                outer.read.append((host, name))
                value = outer.hosts[host][name]
                if isinstance(value, Exception):
                    raise value
                return value

            def __iter__(self):
                return iter(outer.hosts[host])

            def __len__(self):
                return len(outer.hosts[host])

            def __contains__(self, name):
                return name in outer.hosts[host]

        return Vars()

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self):
        return len(self.hosts)


MYSQL_DEFAULTS = {
    "wandb_mysql_port": 3306,
    "wandb_mysql_advertise_host": None,
    "wandb_mysql_database": "wandb_local",
    "wandb_mysql_wandb_user": "wandb_local",
    "wandb_mysql_wandb_password": None,
    "wandb_mysql_replication_role": "none",
    "wandb_mysql_replication_primary": None,
    "wandb_mysql_tls_mode": "off",
    "wandb_mysql_tls_ca_file": None,
    "wandb_mysql_url_tls": "custom",
    "wandb_mysql_url_ssl_ca": "/etc/wandb/tls/mysql-ca.crt",
    "wandb_secrets_dir": "/srv/secrets",
}
REDIS_DEFAULTS = {
    "wandb_redis_flavor": "redis",
    "wandb_redis_address": None,
    "wandb_redis_port": 6379,
    "wandb_redis_tls_port": 6380,
    "wandb_redis_tls_mode": "off",
    "wandb_redis_tls_ca_src": "",
    "wandb_redis_acl_user": "",
    "wandb_redis_password": None,
    "wandb_redis_sentinel_enabled": False,
    "wandb_redis_sentinels": [],
    "wandb_redis_sentinel_port": 26379,
    "wandb_redis_sentinel_tls_port": 26380,
    "wandb_redis_sentinel_master_name": "wandb",
    "wandb_redis_url_host": "",
    "wandb_redis_url_ca_cert_path": "",
    "wandb_redis_url_ttl_in_seconds": 0,
    "wandb_secrets_dir": "/srv/secrets",
}


def test_a_replica_published_from_the_server_host_reads_its_inventory_and_the_primarys_address_only():
    hostvars = RecordingHostVars(
        {
            "db1": {
                "wandb_mysql_replication_role": "primary",
                "wandb_mysql_port": 3307,
                "wandb_mysql_backup_password": RuntimeError("a lookup ran"),
            },
            "db2": {"wandb_mysql_replication_role": "replica", "wandb_mysql_replication_primary": "db1"},
            "srv": {},
        }
    )
    # As publish.yml does on srv for db2: srv's defaults, db2's inventory values over them.
    inputs = wandb_endpoints.host_inputs(MYSQL_DEFAULTS, hostvars, "db2")
    endpoint = wandb_mysql.mysql_endpoint(inputs, hostvars, "db2", PASSWORD)
    endpoint = wandb_endpoints.tier_endpoint(endpoint, "mysql")
    assert (endpoint["host"], endpoint["port"], endpoint["url"]) == ("db1", 3307, "mysql://db1:3307/wandb_local")
    assert {name for host, name in hostvars.read if host == "db1"} <= {"wandb_mysql_advertise_host", "wandb_mysql_port"}


def test_mysql_endpoint_errors_are_filter_errors_without_the_password():
    inputs = dict(MYSQL_DEFAULTS, wandb_mysql_port=0)
    with pytest.raises(AnsibleFilterError) as error:
        wandb_mysql.mysql_endpoint(inputs, {}, "db1", PASSWORD)
    assert str(error.value) == (
        "wandb_local.fleet.mysql_endpoint: wandb_mysql_port of db1 must be a port number from 1 to 65535, got 0"
    )
    replica = dict(MYSQL_DEFAULTS, wandb_mysql_replication_role="replica", wandb_mysql_replication_primary="db9")
    with pytest.raises(AnsibleFilterError, match="wandb_mysql_replication_primary of db2 names 'db9', which is not"):
        wandb_mysql.mysql_endpoint(replica, {"db2": {}}, "db2", PASSWORD)


@pytest.mark.parametrize(
    "hostvars, host, message",
    [
        ([], "db1", "hostvars must be a mapping"),
        ({}, "", "host must be an inventory host name"),
        ({}, None, "host must be an inventory host name"),
    ],
)
def test_mysql_endpoint_arguments(hostvars, host, message):
    with pytest.raises(AnsibleFilterError, match=message):
        wandb_mysql.mysql_endpoint(MYSQL_DEFAULTS, hostvars, host, PASSWORD)


def test_a_sentinel_host_published_from_another_reads_only_the_first_sentinels_address():
    hostvars = RecordingHostVars(
        {
            "r1": {"wandb_redis_address": "10.0.0.1", "wandb_redis_password": RuntimeError("a lookup ran")},
            "r2": {},
            "r3": {},
        }
    )
    current = dict(REDIS_DEFAULTS, wandb_redis_sentinel_enabled=True, wandb_redis_sentinels=["r1", "r2", "r3"])
    inputs = wandb_endpoints.host_inputs(current, hostvars, "r2")
    endpoint = wandb_redis.redis_endpoint(inputs, hostvars, "r2", PASSWORD)
    endpoint = wandb_endpoints.tier_endpoint(endpoint, "redis")
    assert endpoint["url"] == "redis://10.0.0.1:26379"
    assert endpoint["env"]["REDIS"].endswith("@10.0.0.1:26379?master=wandb")
    assert {name for host, name in hostvars.read if host == "r1"} <= {"wandb_redis_address"}


def test_redis_endpoint_errors_are_filter_errors_without_the_password():
    inputs = dict(REDIS_DEFAULTS, wandb_redis_sentinel_enabled=True, wandb_redis_sentinels=["r9"])
    with pytest.raises(AnsibleFilterError) as error:
        wandb_redis.redis_endpoint(inputs, {"r1": {}}, "r1", PASSWORD)
    assert str(error.value) == (
        "wandb_local.fleet.redis_endpoint: wandb_redis_sentinels of r1 names 'r9' first, which is not in the inventory"
    )
    assert PASSWORD not in str(error.value)
    with pytest.raises(AnsibleFilterError, match="hostvars must be a mapping"):
        wandb_redis.redis_endpoint(REDIS_DEFAULTS, "r1", "r1", PASSWORD)
