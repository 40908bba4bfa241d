"""The contract between tiers, as a scenario's verifier checks it.

A scenario's converge writes each host's published `wandb_<role>_endpoint` as JSON to a 0600 file
of the scenario's ephemeral directory (`endpoint-<host>.json`, see molecule/_shared/dump-endpoint.yml);
the verifier reads it back here and checks it against the one shape every tier publishes."""

import json
import os
import stat
from pathlib import Path

from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import TIERS, check_endpoint, fact_name

TIER_FACTS = {fact_name(tier): tier for tier in TIERS}


def endpoint_file(host, suffix=""):
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"endpoint-{host}{suffix}.json"


def published_endpoints(host):
    """{fact: endpoint} of every fact a host handed over with a suffix (see dump-endpoints.yml)."""
    return {
        fact: published_endpoint(tier, host, "-" + fact)
        for fact, tier in TIER_FACTS.items()
        if endpoint_file(host, "-" + fact).exists()
    }


def published_endpoint(tier, host, suffix=""):
    """The endpoint `host` published, checked against the contract (raises naming the field)."""
    path = endpoint_file(host, suffix)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"{path}: {oct(mode)} (it holds the tier's credentials)"
    endpoint = json.loads(path.read_text(encoding="utf-8"))
    return check_endpoint(tier, endpoint, f"{host}: wandb endpoint")
