# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The contract filters as Ansible calls them: errors are filter errors naming the field."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter import wandb_deprecations, wandb_endpoints

PASSWORD = "pw-9f8e7d"


def test_host_inputs_take_the_hosts_own_values_and_read_nothing_else():
    hostvars = {"db1": {"wandb_mysql_port": 3307, "wandb_mysql_wandb_password": PASSWORD}, "srv": {}}
    defaults = {"wandb_mysql_port": 3306, "wandb_mysql_database": "wandb_local"}
    inputs = wandb_endpoints.host_inputs(defaults, hostvars, "db1")
    assert inputs == {"wandb_mysql_port": 3307, "wandb_mysql_database": "wandb_local"}


@pytest.mark.parametrize(
    "current, host, message",
    [
        ({}, "nowhere", "host 'nowhere' is not in the inventory"),
        ([], "db1", "the inputs must be a mapping"),
        ({}, "", "host must be an inventory host name"),
    ],
)
def test_host_inputs_errors_name_the_input(current, host, message):
    with pytest.raises(AnsibleFilterError, match=message):
        wandb_endpoints.host_inputs(current, {"db1": {}}, host)


def test_tier_endpoint_errors_are_filter_errors_without_the_secret():
    endpoint = {"env": {"REDIS": "redis://:%s@r1:6379" % PASSWORD}, "url": "redis://r1:6379", "host": "r1"}
    with pytest.raises(AnsibleFilterError) as error:
        wandb_endpoints.tier_endpoint(endpoint, "redis")
    assert "wandb_local.fleet.tier_endpoint: wandb_redis_endpoint lacks port, tls, ca_file" in str(error.value)
    assert PASSWORD not in str(error.value)


def test_external_endpoint_names_the_variable():
    with pytest.raises(AnsibleFilterError, match=r"wandb_server_redis\.env must set REDIS"):
        wandb_endpoints.external_endpoint({"env": {}}, "redis", "wandb_server_redis")
    complete = wandb_endpoints.external_endpoint(
        {"env": {"REDIS": "redis://:%s@r1:6379" % PASSWORD}}, "redis", "wandb_server_redis"
    )
    assert complete["url"] == "redis://r1:6379" and complete["tls"] is False


def endpoint(tier, **env):
    value = {"env": env, "url": "x://h:1", "host": "h", "port": 1, "tls": False, "ca_file": ""}
    if tier == "bucket":
        value["client_url"] = "http://h:1"
    return value


MYSQL = endpoint("mysql", MYSQL="mysql://wandb:%s@db1:3306/wandb_local" % PASSWORD)
PROXY = endpoint("proxy", HOST="https://wandb.example.net")


def test_unpublished_hosts_are_those_without_the_fact():
    hostvars = {"db1": {"wandb_mysql_endpoint": MYSQL}, "db2": {}}
    assert wandb_endpoints.unpublished_hosts(["db1", "db2"], hostvars, "mysql") == ["db2"]
    assert wandb_endpoints.unpublished_hosts(["p1"], {"p1": {}}, "proxy") == ["p1"]
    with pytest.raises(AnsibleFilterError, match="role must be one of mysql, redis, minio, server, proxy"):
        wandb_endpoints.unpublished_hosts(["db1"], hostvars, "postgres")


def test_site_endpoints_read_each_groups_first_host():
    groups = {"wandb_mysql": ["db1", "db2"], "wandb_redis": [], "wandb_proxy": ["p1"], "all": ["db1", "db2", "p1"]}
    hostvars = {"db1": {"wandb_mysql_endpoint": MYSQL}, "db2": {}, "p1": {"wandb_proxy_endpoint": PROXY}}
    assert wandb_endpoints.site_endpoints(groups, hostvars) == {"mysql": MYSQL, "proxy": PROXY}


def test_site_endpoints_name_the_host_that_did_not_publish():
    groups = {"wandb_minio": ["m1"]}
    with pytest.raises(AnsibleFilterError, match="m1 did not publish wandb_minio_endpoint"):
        wandb_endpoints.site_endpoints(groups, {"m1": {}})
    wrong = dict(MYSQL, port="3306")
    with pytest.raises(AnsibleFilterError, match=r"wandb_mysql_endpoint of db1\.port must be an integer"):
        wandb_endpoints.site_endpoints({"wandb_mysql": ["db1"]}, {"db1": {"wandb_mysql_endpoint": wrong}})


def test_server_endpoints_prefer_the_site_then_the_external_then_the_deprecated(monkeypatch):
    warned = []
    monkeypatch.setattr(wandb_deprecations.Display, "deprecated", lambda self, msg, **kw: warned.append((msg, kw)))
    monkeypatch.setattr(wandb_deprecations, "_warned", set())
    external = {
        "wandb_server_mysql": {"env": {"MYSQL": "mysql://other:%s@db9/x" % PASSWORD}},
        "wandb_server_redis": {"env": {"REDIS": "redis://:%s@cache:6379" % PASSWORD}},
        "wandb_server_bucket": {},
    }
    legacy = {"wandb_server_bucket_url": "gs://wandb-files", "wandb_server_redis_url": "redis://old:6379"}
    endpoints = wandb_endpoints.server_endpoints({"mysql": MYSQL}, external, legacy)
    assert endpoints["mysql"] == MYSQL
    assert endpoints["redis"]["host"] == "cache"
    assert endpoints["bucket"]["env"] == {"BUCKET": "gs://wandb-files"}
    assert [msg for msg, _kw in warned] == [
        "wandb_server_bucket_url is deprecated: give the service as wandb_server_bucket (see the server role's README)"
    ]
    assert warned[0][1] == {"version": "0.3.0", "collection_name": "wandb_local.fleet"}


def test_server_endpoints_leave_out_a_tier_nobody_gave():
    assert wandb_endpoints.server_endpoints({}, {"wandb_server_mysql": {}}, {"wandb_server_mysql_url": ""}) == {}


def test_server_endpoints_errors_name_the_variable_and_never_the_password():
    external = {"wandb_server_mysql": {"env": {"MYSQL": "mysql://u:%s@db9" % PASSWORD}}}
    with pytest.raises(AnsibleFilterError) as error:
        wandb_endpoints.server_endpoints({}, external, {})
    assert "wandb_server_mysql.env.MYSQL is not a URL the server reads" in str(error.value)
    assert PASSWORD not in str(error.value)


def test_server_environment_merges_every_env_and_takes_host_from_the_proxy():
    bucket = endpoint("bucket", BUCKET="s3://k:%s@m1:9000/wandb" % PASSWORD, AWS_REGION="us-east-1")
    endpoints = {"mysql": MYSQL, "bucket": bucket, "proxy": PROXY}
    env = wandb_endpoints.server_environment(endpoints, "", "")
    assert env == {
        "MYSQL": MYSQL["env"]["MYSQL"],
        "BUCKET": bucket["env"]["BUCKET"],
        "AWS_REGION": "us-east-1",
        "HOST": "https://wandb.example.net",
    }
    given = wandb_endpoints.server_environment(endpoints, "https://given.example.net", "lic")
    assert given["HOST"] == "https://given.example.net" and given["LICENSE"] == "lic"


def test_a_string_left_from_the_old_minio_input_is_not_a_published_endpoint():
    hostvars = {"m1": {"wandb_minio_endpoint": "m1:9000"}}
    assert wandb_endpoints.unpublished_hosts(["m1"], hostvars, "minio") == ["m1"]
