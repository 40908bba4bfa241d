"""A training host next to the all-in-one, judged by the real wandb SDK (molecule/_shared/tests/client_contract.py):
its run's file arrives in the bucket (TLS on the host's name) with its sha256 and its history at the stand-in; a
wrong CA, a blocked bucket port and a wrong key get nothing in; CORS answers the HOST origin only; wandb verify's
deployment checks pass."""

import client_contract
import pytest
from client_contract import ClientSite

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
