# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The endpoint the minio role publishes (`wandb_minio_endpoint`, tier `bucket`), from its inputs.

The role's main entry point and its `publish` entry point (run from another host, for example the
W&B server's under --limit) compute it here from the same inputs, so both publish the same fact.
Messages name the input and the rule, never the secret key.

Private to the collection: used by the minio_endpoint filter plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError, strict_int
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import (
    WandbUrlError,
    compose_bucket_url,
    compose_queue_url,
    validate_host,
    validate_port,
)

# The role's inputs the endpoint depends on (the publish entry point reads them with host_inputs).
INPUTS = (
    "wandb_minio_bucket",
    "wandb_minio_access_key",
    "wandb_minio_port",
    "wandb_minio_tls_mode",
    "wandb_minio_tls_ca_src",
    "wandb_minio_bucket_endpoint",
    "wandb_minio_client_endpoint",
)
TLS_MODES = ("off", "given", "lab_ca")
# MinIO's default region; W&B signs its requests for it.
REGION = "us-east-1"


def _text(inputs, name, required=True):
    value = inputs.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FleetInputError("%s must be text, got %s" % (name, type(value).__name__))
    if required and not value:
        raise FleetInputError("%s must not be empty" % name)
    return value


def split_endpoint(value, name):
    """(host, port) of HOST:PORT, else an error naming the input."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise FleetInputError("%s must be HOST:PORT (such as minio.example.net:9000), got %r" % (name, value))
    try:
        validate_host(host, "%s host" % name)
        validate_port(int(port), "%s port" % name)
    except WandbUrlError as exc:
        raise FleetInputError(str(exc)) from None
    return host, int(port)


def _controller_path(path):
    return os.path.abspath(os.path.expanduser(path)) if path else ""


def minio_endpoint(inputs, first_node, secret_key, secrets_dir):
    """The bucket tier's endpoint of a MinIO deployment whose first node is reached as `first_node`.

    `inputs` holds the role variables named in INPUTS (as the publishing host has them);
    `secret_key` is the W&B key's secret (given or generated); `secrets_dir` the controller's
    secrets directory, which holds the CA of lab_ca certificates.
    """
    if not isinstance(inputs, dict):
        raise FleetInputError("the inputs must be a mapping of the role's variables, got %s" % type(inputs).__name__)
    missing = [name for name in INPUTS if name not in inputs]
    if missing:
        raise FleetInputError("the inputs lack %s" % ", ".join(missing))
    bucket = _text(inputs, "wandb_minio_bucket")
    access_key = _text(inputs, "wandb_minio_access_key")
    tls_mode = _text(inputs, "wandb_minio_tls_mode")
    if tls_mode not in TLS_MODES:
        raise FleetInputError("wandb_minio_tls_mode must be one of %s, got %r" % (", ".join(TLS_MODES), tls_mode))
    port = strict_int(inputs["wandb_minio_port"], "wandb_minio_port")
    if not isinstance(first_node, str) or not first_node:
        raise FleetInputError("the first node's name (wandb_minio_node_name) must be a host name")
    if not isinstance(secret_key, str) or not secret_key:
        raise FleetInputError("the secret of wandb_minio_access_key (wandb_minio_secret_key) must be non-empty text")
    tls = tls_mode != "off"
    scheme = "https" if tls else "http"

    server = _text(inputs, "wandb_minio_bucket_endpoint", required=False) or "%s:%d" % (first_node, port)
    host, server_port = split_endpoint(server, "wandb_minio_bucket_endpoint")
    client = _text(inputs, "wandb_minio_client_endpoint", required=False) or server
    client_host, client_port = split_endpoint(client, "wandb_minio_client_endpoint")

    if tls_mode == "lab_ca":
        if not isinstance(secrets_dir, str) or not secrets_dir:
            raise FleetInputError("wandb_secrets_dir must be set: it holds the CA of lab_ca certificates")
        ca_file = _controller_path(os.path.join(secrets_dir, "ca", "ca.crt"))
    elif tls_mode == "given":
        ca_file = _controller_path(_text(inputs, "wandb_minio_tls_ca_src", required=False))
    else:
        ca_file = ""

    try:
        bucket_url = compose_bucket_url(
            {
                "scheme": "s3",
                "bucket": bucket,
                "access_key": access_key,
                "secret_key": secret_key,
                "endpoint": "%s:%d" % (host, server_port),
                "tls": tls,
            }
        )
    except WandbUrlError as exc:
        # The composer's messages name the part and never repeat the secret.
        raise FleetInputError("the BUCKET URL cannot be composed: %s" % exc) from None
    return {
        "env": {
            "BUCKET": bucket_url,
            "AWS_REGION": REGION,
            # MinIO has no notification queue W&B reads: the server tracks uploads itself.
            "BUCKET_QUEUE": compose_queue_url({"scheme": "internal"}),
        },
        "url": "%s://%s:%d" % (scheme, host, server_port),
        "host": host,
        "port": server_port,
        "tls": tls,
        "ca_file": ca_file,
        "client_url": "%s://%s:%d" % (scheme, client_host, client_port),
    }
