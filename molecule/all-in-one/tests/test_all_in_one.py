"""An all-in-one W&B installation answers through its TLS proxy."""

import json

import proxy_contract
import pytest
from endpoint_contract import published_endpoints
from lab_playbook import run_playbook
from proxy_contract import ProxySite

testinfra_hosts = ["ansible://all-in-one"]

CA = "/etc/nginx/wandb-tls/ca.crt"


# The shared proxy checks, run here against nginx.
test_ready_through_the_proxy_with_every_tier = proxy_contract.test_ready_through_the_proxy_with_every_tier
test_http_redirects_to_https = proxy_contract.test_http_redirects_to_https
test_proxy_sets_forwarding_headers_and_hsts = proxy_contract.test_proxy_sets_forwarding_headers_and_hsts
test_websocket_upgrade_passes_the_proxy = proxy_contract.test_websocket_upgrade_passes_the_proxy
test_large_upload_passes_the_proxy = proxy_contract.test_large_upload_passes_the_proxy


@pytest.fixture
def proxy_site(host):
    return ProxySite(host, "all-in-one", CA)


def test_server_port_is_loopback_only(host):
    listeners = host.check_output("ss -Htln")
    assert "127.0.0.1:8080" in listeners
    assert "0.0.0.0:8080" not in listeners


def container_started_at(host):
    (container,) = json.loads(host.check_output("docker inspect wandb-local"))
    return container["State"]["StartedAt"]


def test_settings_change_restarts_the_server_once(host):
    before = container_started_at(host)
    changed = run_playbook(extra_vars={"wandb_server_settings": {"LOGGING_ENABLED": True}})
    assert changed.returncode == 0, changed.tail()
    after_change = container_started_at(host)
    assert after_change != before, "the container was not recreated for a new setting"
    assert "LOGGING_ENABLED=true" in host.file("/etc/wandb/wandb.env").content_string

    again = run_playbook(extra_vars={"wandb_server_settings": {"LOGGING_ENABLED": True}})
    assert again.returncode == 0, again.tail()
    # Every host of the scenario (the training host too) is in the recap, none changed.
    assert "all-in-one" in again.changed and not any(again.changed.values()), again.tail()
    assert container_started_at(host) == after_change, "an unchanged run restarted the server"

    restored = run_playbook()
    assert restored.returncode == 0, restored.tail()
    assert "LOGGING_ENABLED" not in host.file("/etc/wandb/wandb.env").content_string


def test_one_host_of_every_tier_publishes_every_endpoint_of_the_contracts_shape():
    facts = set(published_endpoints("all-in-one"))
    assert facts == {
        "wandb_mysql_endpoint",
        "wandb_redis_endpoint",
        "wandb_minio_endpoint",
        "wandb_server_endpoint",
        "wandb_proxy_endpoint",
    }
