# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rules between the W&B server's environment variables, on the environment as it will be.

Each finding is (severity, variables involved, message); plan_settings decides from the variables a
task names whether an error stops the task or is only a warning (docs/settings.md, "Rules between
variables").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import (
    GO_TRUE,
    OIDC_SECRET_NAMES,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import (
    WandbUrlError,
    parse_bucket_url,
    parse_queue_url,
)


def _parsed(env, key, parser):
    value = env.get(key)
    if not value:
        return None
    try:
        return parser(value, kind=key)
    except WandbUrlError:
        return None


def cross_field_findings(env):
    """[(severity, keys involved, message)] for the whole environment."""
    findings = []

    def need(condition, severity, keys, message):
        if condition:
            findings.append((severity, keys, message))

    bucket = _parsed(env, "BUCKET", parse_bucket_url)
    bucket_queue = _parsed(env, "BUCKET_QUEUE", parse_queue_url)
    notifications = _parsed(env, "NOTIFICATIONS_QUEUE", parse_queue_url)
    bucket_scheme = bucket and bucket["scheme"]
    queue_scheme = bucket_queue and bucket_queue["scheme"]
    s3_compatible = bool(bucket and bucket_scheme == "s3" and bucket.get("endpoint"))

    need(
        bucket_scheme == "az" and not env.get("AZURE_STORAGE_KEY"),
        "error",
        ("BUCKET", "AZURE_STORAGE_KEY"),
        "BUCKET: an az:// bucket needs AZURE_STORAGE_KEY (the storage account's access key)",
    )
    need(
        queue_scheme == "az" and not env.get("AZURE_STORAGE_KEY"),
        "error",
        ("BUCKET_QUEUE", "AZURE_STORAGE_KEY"),
        "BUCKET_QUEUE: an az:// queue needs AZURE_STORAGE_KEY",
    )
    need(
        queue_scheme == "az" and bucket_scheme == "az" and bucket_queue["account"] != bucket["account"],
        "error",
        ("BUCKET_QUEUE", "BUCKET"),
        "BUCKET_QUEUE: the az:// queue must be in the bucket's storage account (one AZURE_STORAGE_KEY serves both)",
    )
    for key, queue in (("BUCKET_QUEUE", bucket_queue), ("NOTIFICATIONS_QUEUE", notifications)):
        need(
            bool(queue and queue["scheme"] == "sqs" and not env.get("AWS_REGION")),
            "error",
            (key, "AWS_REGION"),
            "%s: an sqs:// queue needs AWS_REGION" % key,
        )
    if queue_scheme and queue_scheme != "internal":
        pairs = {"sqs": "s3", "pubsub": "gs", "az": "az"}
        need(
            not bucket,
            "error",
            ("BUCKET_QUEUE", "BUCKET"),
            "BUCKET_QUEUE: a %s queue receives the bucket's events, so BUCKET must be set" % queue_scheme,
        )
        need(
            bool(bucket) and (pairs[queue_scheme] != bucket_scheme or s3_compatible),
            "error",
            ("BUCKET_QUEUE", "BUCKET"),
            "BUCKET_QUEUE: a %s queue cannot receive events from a %s bucket%s"
            % (
                queue_scheme,
                "S3-compatible (endpoint)" if s3_compatible else (bucket_scheme or "") + "://",
                "; use internal://" if s3_compatible else "",
            ),
        )
    need(
        bool(env.get("OIDC_ISSUER")) and not env.get("OIDC_CLIENT_ID"),
        "error",
        ("OIDC_ISSUER", "OIDC_CLIENT_ID"),
        "OIDC_ISSUER: needs OIDC_CLIENT_ID",
    )
    need(
        bool(env.get("OIDC_CLIENT_ID")) and not env.get("OIDC_ISSUER"),
        "error",
        ("OIDC_CLIENT_ID", "OIDC_ISSUER"),
        "OIDC_CLIENT_ID: needs OIDC_ISSUER",
    )
    need(
        bool(env.get("OIDC_AUTH_METHOD")) and not env.get("OIDC_ISSUER"),
        "error",
        ("OIDC_AUTH_METHOD", "OIDC_ISSUER"),
        "OIDC_AUTH_METHOD: needs OIDC_ISSUER",
    )
    oidc_secrets = [name for name in OIDC_SECRET_NAMES if env.get(name)]
    need(
        bool(oidc_secrets) and not env.get("OIDC_CLIENT_ID"),
        "error",
        (*oidc_secrets, "OIDC_CLIENT_ID"),
        "%s: an OIDC client secret needs OIDC_CLIENT_ID" % (oidc_secrets[0] if oidc_secrets else ""),
    )
    need(
        len(set(env[name] for name in oidc_secrets)) > 1,
        "error",
        tuple(oidc_secrets),
        "%s: these name the same OIDC client secret but hold different values; keep one" % ", ".join(oidc_secrets),
    )
    need(
        bool(env.get("SLACK_CLIENT_ID")) and not env.get("SLACK_SECRET"),
        "error",
        ("SLACK_CLIENT_ID", "SLACK_SECRET"),
        "SLACK_CLIENT_ID: needs SLACK_SECRET",
    )
    need(
        bool(env.get("SLACK_SECRET")) and not env.get("SLACK_CLIENT_ID"),
        "error",
        ("SLACK_SECRET", "SLACK_CLIENT_ID"),
        "SLACK_SECRET: needs SLACK_CLIENT_ID",
    )
    need(
        s3_compatible and not env.get("AWS_REGION"),
        "warning",
        ("BUCKET", "AWS_REGION"),
        "BUCKET: an S3-compatible store is usually reached with AWS_REGION=us-east-1; AWS_REGION is not set",
    )
    need(
        bucket_scheme == "s3" and not s3_compatible and not env.get("AWS_REGION"),
        "warning",
        ("BUCKET", "AWS_REGION"),
        "BUCKET: set AWS_REGION to the region the S3 bucket lives in",
    )
    need(
        bool(env.get("OIDC_ISSUER")) and not env.get("HOST"),
        "warning",
        ("OIDC_ISSUER", "HOST"),
        "OIDC_ISSUER: HOST is not set, but the identity provider calls back to HOST/oidc/callback",
    )
    need(
        bool(env.get("GORILLA_EMAIL_SINK")) and not env.get("GORILLA_EMAIL_FROM_ADDRESS"),
        "warning",
        ("GORILLA_EMAIL_SINK", "GORILLA_EMAIL_FROM_ADDRESS"),
        "GORILLA_EMAIL_SINK: GORILLA_EMAIL_FROM_ADDRESS is not set",
    )
    need(
        env.get("LOCAL_RESTORE") in GO_TRUE,
        "warning",
        ("LOCAL_RESTORE",),
        "LOCAL_RESTORE: restore mode is on (SSO off, temporary admin credentials in the logs); remove it when done",
    )
    return findings
