# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The contract filters as Ansible calls them: errors are filter errors naming the field."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter import wandb_endpoints

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
