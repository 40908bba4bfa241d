# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""wandb_mysql_endpoint from one host's inputs: the MYSQL URL the role published before the contract,
the contract's shape, and errors that name the input and the host, never the password."""

from __future__ import annotations

import os

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_endpoint import INPUTS, mysql_endpoint
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    check_endpoint,
    external_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import compose_mysql_url, parse_url

PASSWORD = "p@ss/w0rd:%secret"
SIMPLE = "Abcdefghijklmnopqrstuvwxyz012345"


def inputs(**changes):
    """The role's defaults, as publish.yml lists them."""
    values = {
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
    assert set(values) == set(INPUTS)
    values.update(changes)
    return values


def test_standalone_without_tls():
    endpoint = mysql_endpoint(inputs(), "db1", SIMPLE)
    assert endpoint == {
        "env": {"MYSQL": "mysql://wandb_local:%s@db1:3306/wandb_local" % SIMPLE},
        "url": "mysql://db1:3306/wandb_local",
        "host": "db1",
        "port": 3306,
        "tls": False,
        "ca_file": "",
    }
    assert check_endpoint("mysql", endpoint) is endpoint


def test_the_url_is_the_one_the_role_published_before_the_contract():
    # tasks/publish.yml of the previous release composed exactly these parts.
    endpoint = mysql_endpoint(
        inputs(wandb_mysql_tls_mode="lab_ca", wandb_mysql_advertise_host="db1.example.net"), "db1", PASSWORD
    )
    before = compose_mysql_url(
        {
            "user": "wandb_local",
            "password": PASSWORD,
            "host": "db1.example.net",
            "port": 3306,
            "database": "wandb_local",
            "tls": "custom",
            "ssl_ca": "/etc/wandb/tls/mysql-ca.crt",
        }
    )
    assert endpoint["env"]["MYSQL"] == before
    assert before.endswith("@db1.example.net:3306/wandb_local?tls=custom&ssl-ca=/etc/wandb/tls/mysql-ca.crt")
    assert parse_url(before)["password"] == PASSWORD
    assert endpoint["ca_file"] == "/srv/secrets/ca/ca.crt"
    assert (endpoint["tls"], endpoint["url"], endpoint["host"]) == (
        True,
        "mysql://db1.example.net:3306/wandb_local",
        "db1.example.net",
    )


@pytest.mark.parametrize("url_tls", ["preferred", "true", "skip-verify"])
def test_tls_without_a_custom_ca_names_no_ca_in_the_url(url_tls):
    endpoint = mysql_endpoint(
        inputs(wandb_mysql_tls_mode="given", wandb_mysql_tls_ca_file="/pki/ca.pem", wandb_mysql_url_tls=url_tls),
        "db1",
        SIMPLE,
    )
    assert endpoint["env"]["MYSQL"].endswith("@db1:3306/wandb_local?tls=%s" % url_tls)
    assert endpoint["ca_file"] == "/pki/ca.pem"
    assert endpoint["tls"] is True


def test_a_relative_given_ca_is_read_from_the_controllers_working_directory():
    endpoint = mysql_endpoint(inputs(wandb_mysql_tls_mode="given", wandb_mysql_tls_ca_file="pki/ca.pem"), "db1", SIMPLE)
    assert endpoint["ca_file"] == os.path.join(os.getcwd(), "pki", "ca.pem")


def test_a_replica_names_its_primary_as_the_inventory_has_it():
    replica = inputs(wandb_mysql_replication_role="replica", wandb_mysql_replication_primary="db1")
    primary_vars = {"wandb_mysql_advertise_host": "10.0.0.1", "wandb_mysql_port": "3307"}
    endpoint = mysql_endpoint(replica, "db2", SIMPLE, primary_vars)
    assert endpoint["env"]["MYSQL"] == "mysql://wandb_local:%s@10.0.0.1:3307/wandb_local" % SIMPLE
    assert (endpoint["host"], endpoint["port"], endpoint["url"]) == (
        "10.0.0.1",
        3307,
        "mysql://10.0.0.1:3307/wandb_local",
    )


def test_a_replica_whose_primary_sets_nothing_names_the_primary_on_its_own_port():
    replica = inputs(
        wandb_mysql_replication_role="replica", wandb_mysql_replication_primary="db1", wandb_mysql_port=3310
    )
    endpoint = mysql_endpoint(replica, "db2", SIMPLE, {})
    assert (endpoint["host"], endpoint["port"]) == ("db1", 3310)


def test_the_primary_and_a_replica_publish_the_same_endpoint():
    primary = mysql_endpoint(inputs(wandb_mysql_replication_role="primary"), "db1", SIMPLE)
    replica = mysql_endpoint(
        inputs(wandb_mysql_replication_role="replica", wandb_mysql_replication_primary="db1"), "db2", SIMPLE, {}
    )
    assert primary == replica


def test_an_ipv6_address_is_bracketed_in_the_urls():
    endpoint = mysql_endpoint(inputs(wandb_mysql_advertise_host="fd00::1"), "db1", SIMPLE)
    assert endpoint["url"] == "mysql://[fd00::1]:3306/wandb_local"
    assert "@[fd00::1]:3306/" in endpoint["env"]["MYSQL"]
    assert endpoint["host"] == "fd00::1"


def test_the_endpoint_agrees_with_what_the_server_reads_from_the_url():
    endpoint = mysql_endpoint(inputs(wandb_mysql_tls_mode="lab_ca", wandb_mysql_port="3316"), "db1", PASSWORD)
    external = external_endpoint("mysql", {"env": endpoint["env"]}, "wandb_server_mysql")
    for field in ("url", "host", "port", "tls"):
        assert external[field] == endpoint[field], field


@pytest.mark.parametrize(
    "changes, host, message",
    [
        ({"wandb_mysql_port": 0}, "db1", "wandb_mysql_port of db1 must be a port number from 1 to 65535, got 0"),
        ({"wandb_mysql_port": 70000}, "db1", "wandb_mysql_port of db1 must be a port number"),
        ({"wandb_mysql_port": "33o6"}, "db1", "wandb_mysql_port of db1 must be a port number"),
        ({"wandb_mysql_port": True}, "db1", "wandb_mysql_port of db1 must be a port number"),
        ({"wandb_mysql_replication_role": "leader"}, "db1", "wandb_mysql_replication_role of db1 must be one of"),
        ({"wandb_mysql_tls_mode": "on"}, "db1", "wandb_mysql_tls_mode of db1 must be one of off, given, lab_ca"),
        (
            {"wandb_mysql_tls_mode": "lab_ca", "wandb_mysql_url_tls": "verify"},
            "db1",
            "wandb_mysql_url_tls of db1 must be one of",
        ),
        (
            {"wandb_mysql_tls_mode": "lab_ca", "wandb_mysql_url_ssl_ca": "ca.crt"},
            "db1",
            "wandb_mysql_url_ssl_ca of db1 must be an absolute path",
        ),
        (
            {"wandb_mysql_tls_mode": "given", "wandb_mysql_tls_ca_file": None},
            "db1",
            "wandb_mysql_tls_ca_file of db1 must be a path on the controller",
        ),
        ({"wandb_mysql_database": "wandb-local"}, "db1", "wandb_mysql_database of db1 must be up to 64 letters"),
        ({"wandb_mysql_wandb_user": ""}, "db1", "wandb_mysql_wandb_user of db1 must be up to 32 letters"),
        (
            {"wandb_mysql_advertise_host": "db/1"},
            "db1",
            "wandb_mysql_advertise_host of db1: 'db/1' is not a valid host",
        ),
        (
            {"wandb_mysql_replication_role": "replica"},
            "db2",
            "wandb_mysql_replication_primary of db2 must name the primary's inventory host",
        ),
    ],
)
def test_wrong_inputs_are_named_with_their_host_and_never_show_the_password(changes, host, message):
    with pytest.raises(FleetInputError) as error:
        mysql_endpoint(inputs(**changes), host, PASSWORD, {})
    assert message in str(error.value)
    assert PASSWORD not in str(error.value)
    assert "w0rd" not in str(error.value)


def test_a_replica_whose_primary_is_not_in_the_inventory():
    replica = inputs(wandb_mysql_replication_role="replica", wandb_mysql_replication_primary="db9")
    with pytest.raises(FleetInputError, match="wandb_mysql_replication_primary of db2 names 'db9', which is not in"):
        mysql_endpoint(replica, "db2", PASSWORD, None)


def test_a_wrong_port_of_the_primary_is_named_with_the_primary():
    replica = inputs(wandb_mysql_replication_role="replica", wandb_mysql_replication_primary="db1")
    with pytest.raises(FleetInputError, match="wandb_mysql_port of db1 must be a port number"):
        mysql_endpoint(replica, "db2", PASSWORD, {"wandb_mysql_port": "x"})


def test_a_missing_input_is_named():
    values = inputs()
    del values["wandb_mysql_database"]
    with pytest.raises(FleetInputError, match="wandb_mysql_database of db1 is missing from the inputs"):
        mysql_endpoint(values, "db1", PASSWORD)


@pytest.mark.parametrize("password", ["", None, 42])
def test_the_password_must_be_text(password):
    with pytest.raises(FleetInputError, match="the password of the W&B account of db1"):
        mysql_endpoint(inputs(), "db1", password)


def test_the_inputs_must_be_a_mapping():
    with pytest.raises(FleetInputError, match="the inputs of db1 must be a mapping"):
        mysql_endpoint(["wandb_mysql_port"], "db1", PASSWORD)
