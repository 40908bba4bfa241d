# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""wandb_redis_endpoint from one host's inputs: the REDIS URL the role published before the contract,
the contract's shape, and errors that name the input and the host, never the password."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._redis_endpoint import (
    CONFIG_DIRS,
    INPUTS,
    redis_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import (
    check_endpoint,
    external_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import compose_redis_url, parse_url

PASSWORD = "p@ss/w0rd:%secret"
SIMPLE = "Abcdefghijklmnopqrstuvwxyz012345"
ROLE_VARS = Path(__file__).resolve().parents[4] / "roles" / "redis" / "vars" / "main.yml"


def inputs(**changes):
    """The role's defaults, as publish.yml lists them."""
    values = {
        "wandb_redis_flavor": "redis",
        "wandb_redis_address": None,
        "wandb_redis_port": 6379,
        "wandb_redis_tls_port": 6380,
        "wandb_redis_tls_mode": "off",
        "wandb_redis_tls_ca_src": "",
        "wandb_redis_acl_user": "",
        "wandb_redis_password": None,
        "wandb_redis_sentinel_enabled": False,
        "wandb_redis_sentinels": ["r1", "r2", "r3"],
        "wandb_redis_sentinel_port": 26379,
        "wandb_redis_sentinel_tls_port": 26380,
        "wandb_redis_sentinel_master_name": "wandb",
        "wandb_redis_url_host": "",
        "wandb_redis_url_ca_cert_path": "",
        "wandb_redis_url_ttl_in_seconds": 0,
        "wandb_secrets_dir": "/srv/secrets",
    }
    assert set(values) == set(INPUTS)
    values.update(changes)
    return values


def test_a_standalone_server_without_tls():
    endpoint = redis_endpoint(inputs(), "r1", SIMPLE)
    assert endpoint == {
        "env": {"REDIS": "redis://:%s@r1:6379" % SIMPLE},
        "url": "redis://r1:6379",
        "host": "r1",
        "port": 6379,
        "tls": False,
        "ca_file": "",
    }
    assert check_endpoint("redis", endpoint) is endpoint


def test_the_url_is_the_one_the_role_published_before_the_contract():
    # tasks/facts.yml of the previous release composed exactly these parts.
    endpoint = redis_endpoint(
        inputs(wandb_redis_tls_mode="lab_ca", wandb_redis_address="10.0.0.5", wandb_redis_url_ttl_in_seconds="604800"),
        "r1",
        PASSWORD,
    )
    before = compose_redis_url(
        {
            "host": "10.0.0.5",
            "port": 6380,
            "username": None,
            "password": PASSWORD,
            "tls": True,
            "ca_cert_path": "/etc/redis/tls/ca.crt",
            "ttl_in_seconds": 604800,
            "sentinel_master": None,
        }
    )
    assert endpoint["env"]["REDIS"] == before
    assert before.endswith("@10.0.0.5:6380?tls=true&caCertPath=/etc/redis/tls/ca.crt&ttlInSeconds=604800")
    assert parse_url(before)["password"] == PASSWORD
    assert (endpoint["url"], endpoint["tls"], endpoint["ca_file"]) == (
        "redis://10.0.0.5:6380",
        True,
        "/srv/secrets/ca/ca.crt",
    )


def test_valkey_and_a_given_ca():
    endpoint = redis_endpoint(
        inputs(wandb_redis_flavor="valkey", wandb_redis_tls_mode="given", wandb_redis_tls_ca_src="/pki/ca.pem"),
        "r1",
        SIMPLE,
    )
    assert endpoint["env"]["REDIS"].endswith("@r1:6380?tls=true&caCertPath=/etc/valkey/tls/ca.crt")
    assert endpoint["ca_file"] == "/pki/ca.pem"


def test_the_url_may_name_another_host_and_ca_path():
    endpoint = redis_endpoint(
        inputs(
            wandb_redis_tls_mode="lab_ca",
            wandb_redis_url_host="redis.example.net",
            wandb_redis_url_ca_cert_path="/etc/wandb/tls/redis-ca.crt",
        ),
        "r1",
        SIMPLE,
    )
    assert endpoint["env"]["REDIS"] == (
        "redis://:%s@redis.example.net:6380?tls=true&caCertPath=/etc/wandb/tls/redis-ca.crt" % SIMPLE
    )
    assert endpoint["host"] == "redis.example.net"


def test_sentinel_names_the_first_sentinel_by_its_inventory_address():
    sentinel = inputs(wandb_redis_sentinel_enabled="true", wandb_redis_acl_user="wandb")
    endpoint = redis_endpoint(sentinel, "r3", SIMPLE, {"wandb_redis_address": "10.0.0.1"})
    assert endpoint["env"]["REDIS"] == "redis://wandb:%s@10.0.0.1:26379?master=wandb" % SIMPLE
    assert (endpoint["url"], endpoint["host"], endpoint["port"]) == ("redis://10.0.0.1:26379", "10.0.0.1", 26379)


def test_every_sentinel_host_publishes_the_same_endpoint():
    sentinel = inputs(wandb_redis_sentinel_enabled=True)
    published = [
        redis_endpoint(dict(sentinel, wandb_redis_address=host), host, SIMPLE, {}) for host in ("r1", "r2", "r3")
    ]
    assert published[0] == published[1] == published[2]
    assert published[0]["host"] == "r1"


def test_sentinel_with_tls_uses_the_sentinels_tls_port():
    sentinel = inputs(wandb_redis_sentinel_enabled=True, wandb_redis_tls_mode="lab_ca")
    endpoint = redis_endpoint(sentinel, "r2", SIMPLE, {})
    assert endpoint["env"]["REDIS"] == (
        "redis://:%s@r1:26380?tls=true&caCertPath=/etc/redis/tls/ca.crt&master=wandb" % SIMPLE
    )


def test_the_endpoint_agrees_with_what_the_server_reads_from_the_url():
    for changes in ({}, {"wandb_redis_tls_mode": "lab_ca"}, {"wandb_redis_sentinel_enabled": True}):
        endpoint = redis_endpoint(inputs(**changes), "r1", PASSWORD, {})
        external = external_endpoint("redis", {"env": endpoint["env"]}, "wandb_server_redis")
        for field in ("url", "host", "port", "tls"):
            assert external[field] == endpoint[field], (changes, field)


def test_the_config_dirs_are_the_roles_on_every_platform():
    platforms = yaml.safe_load(ROLE_VARS.read_text())["__wandb_redis_platforms"]
    for family, flavors in platforms.items():
        for flavor, settings in flavors.items():
            assert settings["config_dir"] == CONFIG_DIRS[flavor], (family, flavor)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"wandb_redis_flavor": "keydb"}, "wandb_redis_flavor of r2 must be one of redis, valkey"),
        ({"wandb_redis_port": 0}, "wandb_redis_port of r2 must be a port number from 1 to 65535, got 0"),
        ({"wandb_redis_tls_mode": "lab_ca", "wandb_redis_tls_port": "x"}, "wandb_redis_tls_port of r2 must be a port"),
        ({"wandb_redis_tls_mode": True}, "wandb_redis_tls_mode of r2 must be one of off, given, lab_ca"),
        ({"wandb_redis_sentinel_enabled": "maybe"}, "wandb_redis_sentinel_enabled of r2 must be a boolean"),
        (
            {"wandb_redis_sentinel_enabled": True, "wandb_redis_sentinels": []},
            "wandb_redis_sentinels of r2 must be a non-empty list",
        ),
        (
            {"wandb_redis_sentinel_enabled": True, "wandb_redis_sentinel_port": 65536},
            "wandb_redis_sentinel_port of r2 must be a port number",
        ),
        (
            {"wandb_redis_sentinel_enabled": True, "wandb_redis_sentinel_master_name": "my master"},
            "wandb_redis_sentinel_master_name of r2 must be letters",
        ),
        ({"wandb_redis_url_ttl_in_seconds": -1}, "wandb_redis_url_ttl_in_seconds of r2 must be a whole number"),
        ({"wandb_redis_url_ttl_in_seconds": "soon"}, "wandb_redis_url_ttl_in_seconds of r2 must be a whole number"),
        ({"wandb_redis_acl_user": "we b"}, "wandb_redis_acl_user of r2 must be empty or a user name"),
        ({"wandb_redis_url_host": 42}, "wandb_redis_url_host of r2 must be text"),
        ({"wandb_redis_url_host": "a/b"}, "wandb_redis_url_host of r2: 'a/b' is not a valid host name"),
        ({"wandb_redis_address": "a/b"}, "wandb_redis_address of r2: 'a/b' is not a valid host name"),
        (
            {"wandb_redis_tls_mode": "lab_ca", "wandb_redis_url_ca_cert_path": "ca.crt"},
            "the REDIS URL of r2: ca_cert_path: must be an absolute path",
        ),
        (
            {"wandb_redis_tls_mode": "given", "wandb_redis_tls_ca_src": ""},
            "wandb_redis_tls_ca_src of r2 must be a path",
        ),
    ],
)
def test_wrong_inputs_are_named_with_their_host_and_never_show_the_password(changes, message):
    with pytest.raises(FleetInputError) as error:
        redis_endpoint(inputs(**changes), "r2", PASSWORD, {})
    assert message in str(error.value)
    assert PASSWORD not in str(error.value)
    assert "w0rd" not in str(error.value)


def test_a_first_sentinel_outside_the_inventory():
    with pytest.raises(FleetInputError, match="wandb_redis_sentinels of r2 names 'r1' first, which is not in the inv"):
        redis_endpoint(inputs(wandb_redis_sentinel_enabled=True), "r2", PASSWORD, None)


def test_a_wrong_address_of_the_first_sentinel_is_named_with_it():
    with pytest.raises(FleetInputError, match="wandb_redis_address of r1: must not contain whitespace"):
        redis_endpoint(inputs(wandb_redis_sentinel_enabled=True), "r2", PASSWORD, {"wandb_redis_address": "a b"})


def test_a_missing_input_is_named():
    values = inputs()
    del values["wandb_redis_port"]
    with pytest.raises(FleetInputError, match="wandb_redis_port of r1 is missing from the inputs"):
        redis_endpoint(values, "r1", PASSWORD)


@pytest.mark.parametrize("password", ["", None, 42])
def test_the_password_must_be_text(password):
    with pytest.raises(FleetInputError, match="the data password of r1"):
        redis_endpoint(inputs(), "r1", password)


def test_the_inputs_must_be_a_mapping():
    with pytest.raises(FleetInputError, match="the inputs of r1 must be a mapping"):
        redis_endpoint("wandb_redis_port", "r1", PASSWORD)
