# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role filters as Ansible calls them: hostvars read by name only, errors as filter errors."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter import wandb_minio, wandb_mysql, wandb_redis, wandb_servers


class RecordingHostVars(Mapping):
    """Like Ansible's hostvars: each host's variables are templated when read; this records the reads."""

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

            def __contains__(self, name):  # as HostVarsVars: no templating to tell what is defined
                return name in outer.hosts[host]

            def __iter__(self):
                return iter(outer.hosts[host])

            def __len__(self):
                return len(outer.hosts[host])

        return Vars()

    def __contains__(self, host):
        return host in self.hosts

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self):
        return len(self.hosts)


class Facts(dict):
    """ansible_facts whose other entries must not be read (each read may template)."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if isinstance(value, Exception):
            raise value
        return value

    def items(self):
        return [(key, self[key]) for key in self]


FILTERS = {
    **wandb_minio.FilterModule().filters(),
    **wandb_mysql.FilterModule().filters(),
    **wandb_redis.FilterModule().filters(),
    **wandb_servers.FilterModule().filters(),
}
MINE = {
    "wandb_minio_node_name": "minio1",
    "wandb_minio_drives": "/data{1...2}",
    "wandb_minio_port": 9000,
    "wandb_minio_tls_mode": "lab_ca",
}


def test_minio_layout_reads_only_the_layout_settings_of_the_other_nodes():
    hostvars = RecordingHostVars(
        {
            "m1": {"wandb_minio_root_password": RuntimeError("a password lookup ran")},
            "m2": {"wandb_minio_node_name": "minio2", "wandb_minio_root_password": RuntimeError("ran")},
            "m3": {"wandb_minio_node_name": "minio3", "wandb_minio_port": 9100},
        }
    )
    layout = FILTERS["minio_layout"](["m1", "m2", "m3"], hostvars, "m1", MINE, "https")
    assert layout["volumes"] == "https://minio{1...3}:9000/data{1...2}"
    assert layout["not_uniform"] == ["wandb_minio_port of m3"]
    assert sorted(hostvars.read) == [
        ("m2", "wandb_minio_node_name"),
        ("m3", "wandb_minio_node_name"),
        ("m3", "wandb_minio_port"),
    ]


def test_minio_layout_errors_are_filter_errors_naming_the_filter():
    with pytest.raises(AnsibleFilterError, match=r"wandb_local\.fleet\.minio_layout: .*wandb_minio__nodes"):
        FILTERS["minio_layout"]("m1", {}, "m1", MINE, "https")
    with pytest.raises(AnsibleFilterError, match="hostvars must be a mapping"):
        FILTERS["minio_layout"](["m1", "m2"], ["m1"], "m1", MINE, "https")


def test_minio_policy_statements_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"minio_policy_statements: the output of mc .* not JSON"):
        FILTERS["minio_policy_statements"]("mc: <ERROR>")


def test_redis_primary_reads_only_the_topology_facts_and_addresses():
    facts = Facts({"all_ipv4_addresses": ["10.0.0.2"], "all_ipv6_addresses": [], "env": RuntimeError("all facts read")})
    hostvars = RecordingHostVars(
        {
            "r1": {"__wandb_redis_said_primary": "10.0.0.2 6379", "wandb_redis_password": RuntimeError("lookup ran")},
            "r2": {"__wandb_redis_said_primary": "10.0.0.2 6379", "ansible_facts": facts},
            "r3": {"__wandb_redis_node_address": "r3"},
        }
    )
    primary = FILTERS["redis_primary"](["r2", "r3"], hostvars, ["r1", "r2", "r3"], "2", "6390")
    assert (primary["source"], primary["host"], primary["port"]) == ("sentinels", "r2", 6390)
    assert {read[1] for read in hostvars.read} <= {
        "__wandb_redis_said_primary",
        "ansible_facts",
        "__wandb_redis_node_address",
    }


def test_redis_primary_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"redis_primary: __wandb_redis_node_address of r1 is not known"):
        FILTERS["redis_primary"](["r1", "r2"], {}, ["r1", "r2", "r3"], 2, 6379)
    with pytest.raises(
        AnsibleFilterError, match=r"redis_primary: the sentinels \(wandb_redis_sentinels\) must be a list"
    ):
        FILTERS["redis_primary"](["r1", "r2"], {}, "r1", 2, 6379)


def test_redis_config_state_errors_never_show_the_files():
    secret = "masterauth s3cr3t-pass"
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["redis_config_state"]([secret], "requirepass s3cr3t-pass", "# marker:", "wandb", "redis-cli", "/ca")
    assert "redis_config_state: the data node configuration must be the text" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_mysql_server_ids_reads_only_the_server_ids():
    hostvars = RecordingHostVars(
        {"db1": {"wandb_mysql_login_password": RuntimeError("lookup ran")}, "db2": {"wandb_mysql_server_id": "5"}}
    )
    assert FILTERS["mysql_server_ids"](["db1", "db2"], hostvars) == [1, 5]
    assert hostvars.read == [("db2", "wandb_mysql_server_id")]


def test_mysql_filter_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"mysql_server_ids: the hosts of the group .* must be a list"):
        FILTERS["mysql_server_ids"]("db1", {})
    with pytest.raises(AnsibleFilterError, match=r"mysql_server_candidate: mysql_installed must be a boolean"):
        FILTERS["mysql_server_candidate"]({}, "perhaps", False)


def test_server_filters_read_only_their_variables():
    hostvars = RecordingHostVars(
        {
            "w1": {"wandb_server_license": RuntimeError("license read"), "wandb_server_port": 8081},
            "w2": {"wandb_server_standby": "yes", "wandb_server_endpoint": {"host": "10.0.0.2", "port": 8080}},
        }
    )
    assert FILTERS["active_servers"](["w1", "w2"], hostvars) == ["w1"]
    assert FILTERS["server_upstreams"](["w2", "w1"], hostvars) == [
        {"address": "w1:8081", "backup": False},
        {"address": "10.0.0.2:8080", "backup": True},
    ]
    assert "wandb_server_license" not in {read[1] for read in hostvars.read}


def test_server_filter_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"active_servers: wandb_server_standby of w1 must be a boolean"):
        FILTERS["active_servers"](["w1"], {"w1": {"wandb_server_standby": "perhaps"}})
    with pytest.raises(AnsibleFilterError, match=r"server_upstreams: the server hosts .* must be a list"):
        FILTERS["server_upstreams"](None, {})
