"""A training host next to the all-in-one, judged by the real wandb SDK (molecule/_shared/tests/client_contract.py):
its run's file arrives in the bucket (TLS on the host's name) with its sha256 and its history at the stand-in; a
wrong CA, a blocked bucket port and a wrong key get nothing in; CORS answers the HOST origin only; wandb verify's
deployment checks pass; the SDK removed is installed again from the wheels."""

import client_contract
import pytest
from client_contract import ClientSite
from lab_playbook import run_playbook

test_a_real_run_arrives = client_contract.test_a_real_run_arrives
test_wandb_status_shows_the_site = client_contract.test_wandb_status_shows_the_site
test_a_wrong_ca_gets_nothing_in = client_contract.test_a_wrong_ca_gets_nothing_in
test_a_blocked_bucket_port_gets_no_file_in = client_contract.test_a_blocked_bucket_port_gets_no_file_in
test_a_wrong_api_key_gets_nothing_in = client_contract.test_a_wrong_api_key_gets_nothing_in
test_cors_preflight_allows_the_host_origin_only = client_contract.test_cors_preflight_allows_the_host_origin_only
test_wandb_verify_deployment_checks_pass = client_contract.test_wandb_verify_deployment_checks_pass


@pytest.fixture(scope="module")
def client_site():
    return ClientSite(client="all-in-one-client", minio="all-in-one", proxy="all-in-one")


WHEELS = "/var/cache/wandb-client/wheels"


def test_an_sdk_removed_is_installed_again_from_the_wheels(client_site):
    """A converged host's wheels are not compared file by file on every run (roles/client/tasks/sdk.yml): the SDK's
    version decides. Without the virtualenv, a run copies the missing wheel back and installs the SDK again."""
    host = client_site.host
    wheels = sorted(host.file(WHEELS).listdir())
    gone = next(name for name in wheels if name.startswith("wandb-"))
    assert host.run(f"rm -rf /opt/wandb-sdk {WHEELS}/{gone}").rc == 0
    run = run_playbook("converge.yml", "--limit", client_site.client)
    assert run.returncode == 0, run.tail()
    assert run.changed.get(client_site.client), run.tail()
    assert sorted(host.file(WHEELS).listdir()) == wheels
    version = host.run("/opt/wandb-sdk/bin/python -c \"import importlib.metadata as m; print(m.version('wandb'))\"")
    assert version.stdout.strip() == "0.31.0", version.stderr
    assert client_site.sdk(f"{client_contract.SDK}/wandb --version").stdout.strip().endswith("0.31.0")
