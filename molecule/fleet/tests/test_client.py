"""A training host next to the fleet, judged by the real wandb SDK (molecule/_shared/tests/client_contract.py):
its run's file arrives in the MinIO host's bucket (TLS from the site CA) with its sha256, and its history at
the stand-in behind HAProxy; with the MinIO host's port blocked no file gets in (uploads go to the bucket
directly, not through the proxy); CORS answers the proxy's HOST origin only; wandb verify's deployment checks
pass. The wrong-CA and wrong-key cases test the training host and the server's key check, which are the same
in every topology: the all-in-one's test_client.py runs them."""

import client_contract
import pytest
from client_contract import ClientSite

test_a_real_run_arrives = client_contract.test_a_real_run_arrives
test_wandb_status_shows_the_site = client_contract.test_wandb_status_shows_the_site
test_a_blocked_bucket_port_gets_no_file_in = client_contract.test_a_blocked_bucket_port_gets_no_file_in
test_cors_preflight_allows_the_host_origin_only = client_contract.test_cors_preflight_allows_the_host_origin_only
test_wandb_verify_deployment_checks_pass = client_contract.test_wandb_verify_deployment_checks_pass


@pytest.fixture(scope="module")
def client_site():
    return ClientSite(client="fleet-client", minio="fleet-minio", proxy="fleet-proxy")
