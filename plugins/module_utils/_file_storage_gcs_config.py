# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Google Cloud, what it wants: names, CORS rule, publisher binding, notification.

Pure functions over the JSON shapes of the Cloud Storage and Pub/Sub APIs. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    cors_rule,
    normalize,
    pubsub_queue_url,
)

PUBLISHER_ROLE = "roles/pubsub.publisher"
PAYLOAD_FORMAT = "JSON_API_V1"
EVENT_TYPES = ["OBJECT_FINALIZE"]


def subscription_name(queue):
    return "%s-sub" % queue


def topic_path(project, topic):
    return "projects/%s/topics/%s" % (project, topic)


def notification_topic(project, topic):
    """Cloud Storage names the topic of a notification with the Pub/Sub service prefix."""
    return "//pubsub.googleapis.com/" + topic_path(project, topic)


def same_topic(value, project, topic):
    wanted = topic_path(project, topic)
    return (value or "").split("pubsub.googleapis.com/")[-1] == wanted


def gcs_cors(host):
    rule = cors_rule(host)
    # responseHeader serves as both allowed request headers in preflight and exposed headers.
    return {
        "origin": rule["origins"],
        "method": rule["methods"],
        "responseHeader": rule["allowed_headers"] + ["Content-Type"] + rule["expose_headers"],
        "maxAgeSeconds": rule["max_age"],
    }


def merge_cors(existing, host):
    desired = gcs_cors(host)
    rules = [r for r in (existing or []) if normalize(r.get("origin")) != normalize(desired["origin"])]
    rules.append(desired)
    return rules


def cors_is_current(existing, host):
    desired = gcs_cors(host)
    ours = [r for r in (existing or []) if normalize(r.get("origin")) == normalize(desired["origin"])]
    return len(ours) == 1 and normalize(ours[0]) == normalize(desired)


def grant_publisher(policy, member):
    """The topic policy with `member` in the publisher binding, or None when it is already there."""
    policy = json.loads(json.dumps(policy or {}))
    bindings = policy.setdefault("bindings", [])
    for binding in bindings:
        if binding.get("role") == PUBLISHER_ROLE and not binding.get("condition"):
            if member in binding.get("members", []):
                return None
            binding.setdefault("members", []).append(member)
            return policy
    bindings.append({"role": PUBLISHER_ROLE, "members": [member]})
    return policy


def desired_notification(project, topic):
    return {
        "topic": notification_topic(project, topic),
        "payload_format": PAYLOAD_FORMAT,
        "event_types": list(EVENT_TYPES),
    }


def notification_matches(config, project, topic):
    return (
        same_topic(config.get("topic"), project, topic)
        and config.get("payload_format") == PAYLOAD_FORMAT
        and normalize(config.get("event_types") or []) == normalize(EVENT_TYPES)
        and not config.get("object_name_prefix")
        and not config.get("custom_attributes")
    )


def outputs(bucket, project, topic):
    env = {"BUCKET": "gs://%s" % bucket, "BUCKET_QUEUE": pubsub_queue_url(project, topic, subscription_name(topic))}
    return {"bucket": env["BUCKET"], "bucket_queue": env["BUCKET_QUEUE"], "env": env, "secret_env_keys": []}
