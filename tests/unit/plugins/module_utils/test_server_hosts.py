# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._server_hosts import active_servers, server_upstreams

HOSTS = ["wandb1", "wandb2", "wandb3"]


@pytest.mark.parametrize(
    ("host_vars", "active"),
    [
        ({}, HOSTS),
        ({"wandb2": {"wandb_server_standby": True}}, ["wandb1", "wandb3"]),
        ({"wandb1": {"wandb_server_standby": "yes"}, "wandb3": {"wandb_server_standby": "On"}}, ["wandb2"]),
        ({"wandb1": {"wandb_server_standby": "false"}, "wandb2": {"wandb_server_standby": 0}}, HOSTS),
        ({h: {"wandb_server_standby": 1} for h in HOSTS}, []),
    ],
)
def test_active_servers(host_vars, active):
    assert active_servers(HOSTS, host_vars) == active


def test_upstreams_put_the_standby_hosts_last_as_backups():
    host_vars = {
        "wandb1": {"wandb_server_standby": True, "wandb_server_endpoint": {"host": "10.0.0.1", "port": 8080}},
        "wandb2": {"ansible_host": "10.0.0.2", "wandb_server_port": 9090},
        "wandb3": {"wandb_server_standby": "true"},
    }
    assert server_upstreams(HOSTS, host_vars) == [
        {"address": "10.0.0.2:9090", "backup": False},
        {"address": "10.0.0.1:8080", "backup": True},
        {"address": "wandb3:8080", "backup": True},
    ]


def test_no_hosts_no_upstreams():
    assert server_upstreams([], {}) == []
    assert active_servers([], {}) == []


@pytest.mark.parametrize("function", [active_servers, server_upstreams])
@pytest.mark.parametrize("value", ["maybe", None, 2, [True]])
def test_a_standby_that_is_no_boolean_is_refused_naming_the_host(function, value):
    with pytest.raises(FleetInputError, match="wandb_server_standby of wandb2 must be a boolean"):
        function(HOSTS, {"wandb2": {"wandb_server_standby": value}})
