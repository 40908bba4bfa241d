"""An all-in-one W&B installation answers through its TLS proxy."""

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


def server_starts_during(host, playbook_run):
    """Run the playbook; return it and how many times the server container started meanwhile (Docker's events)."""
    since = host.check_output("date +%s")
    run = playbook_run()
    until = host.check_output("date +%s")
    starts = host.check_output(
        f"docker events --since {since} --until {until} --filter container=wandb-local --filter event=start"
        " --format '{{.ID}}'"
    )
    return run, len(starts.split())


# A run that changes nothing does not restart the server either: the scenario's idempotence step and the
# --check run in the execution environment prove that (a restart is a changed task).
def test_settings_change_restarts_the_server_once(host):
    # Through the server's configure phase alone (docs/role-conventions.md: a phase run alone has the checks, the
    # wiring and the published endpoints a full run has), as an operator applies a settings change.
    changed, starts = server_starts_during(
        host,
        lambda: run_playbook(
            "converge.yml",
            "--tags",
            "wandb_server_configure",
            extra_vars={"wandb_server_settings": {"LOGGING_ENABLED": True}},
        ),
    )
    assert changed.returncode == 0, changed.tail()
    assert starts == 1, f"the server started {starts} times for one new setting"
    assert "LOGGING_ENABLED=true" in host.file("/etc/wandb/wandb.env").content_string

    # Back with a full run, which also stages the server's files for the backups again (the tagged run left them).
    restored, starts = server_starts_during(host, run_playbook)
    assert restored.returncode == 0, restored.tail()
    assert starts == 1, f"the server started {starts} times for a setting removed"
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
