# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Azure, what it wants: names, the Event Grid subscription, the Blob service CORS rule.

Pure functions over plain data and the SDK's models. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import json
import re

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import cors_rule, normalize

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
EVENT_SCHEMA = "EventGridSchema"
_NAME_RE = re.compile(r"[^a-zA-Z0-9-]")


def subject_prefix(container):
    return "/blobServices/default/containers/%s/blobs/" % container


def event_subscription_name(container):
    """Event Grid names: 3-64 letters, digits and hyphens."""
    return (_NAME_RE.sub("-", "wandb-%s" % container))[:64]


def account_id(subscription_id, resource_group, account):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s" % (
        subscription_id,
        resource_group,
        account,
    )


def desired_event_subscription(account_resource_id, container, queue):
    return {
        "destination": {"endpointType": "StorageQueue", "resourceId": account_resource_id, "queueName": queue},
        "filter": {"includedEventTypes": [BLOB_CREATED], "subjectBeginsWith": subject_prefix(container)},
        "eventDeliverySchema": EVENT_SCHEMA,
    }


def event_subscription_model(account_resource_id, container, queue):
    """desired_event_subscription as the azure-mgmt-eventgrid model that creates it."""
    from azure.mgmt.eventgrid import models as eg_models

    return eg_models.EventSubscription(
        destination=eg_models.StorageQueueEventSubscriptionDestination(
            resource_id=account_resource_id, queue_name=queue
        ),
        filter=eg_models.EventSubscriptionFilter(
            included_event_types=[BLOB_CREATED], subject_begins_with=subject_prefix(container)
        ),
        event_delivery_schema=EVENT_SCHEMA,
    )


def event_subscription_state(sub):
    """The parts of an EventSubscription model this module manages, in desired_event_subscription's shape."""
    if sub is None:
        return None
    dest = sub.destination
    flt = sub.filter
    return {
        "destination": {
            "endpointType": getattr(dest, "endpoint_type", None),
            "resourceId": getattr(dest, "resource_id", None),
            "queueName": getattr(dest, "queue_name", None),
        },
        "filter": {
            "includedEventTypes": list((flt.included_event_types if flt else None) or []),
            "subjectBeginsWith": flt.subject_begins_with if flt else None,
        },
        "eventDeliverySchema": sub.event_delivery_schema,
    }


def event_subscription_matches(current, desired):
    if current is None:
        return False
    cur = json.loads(json.dumps(current))
    want = json.loads(json.dumps(desired))
    # Azure spells resource ids with varying case; they are case-insensitive.
    cur["destination"]["resourceId"] = (cur["destination"]["resourceId"] or "").lower()
    want["destination"]["resourceId"] = want["destination"]["resourceId"].lower()
    return normalize(cur) == normalize(want)


def _split(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v.strip() for v in value if v.strip()]
    return [v.strip() for v in value.split(",") if v.strip()]


def cors_state(rule):
    """A CORS rule of azure-storage-blob (comma-joined strings) as comparable lists."""
    return {
        "allowed_origins": _split(rule.allowed_origins),
        "allowed_methods": [m.upper() for m in _split(rule.allowed_methods)],
        "allowed_headers": _split(rule.allowed_headers),
        "exposed_headers": _split(rule.exposed_headers),
        "max_age_in_seconds": int(rule.max_age_in_seconds or 0),
    }


def desired_cors(host):
    rule = cors_rule(host)
    return {
        "allowed_origins": rule["origins"],
        "allowed_methods": rule["methods"],
        "allowed_headers": rule["allowed_headers"],
        "exposed_headers": rule["expose_headers"],
        "max_age_in_seconds": rule["max_age"],
    }


def blob_cors_rules(states):
    """CORS rules in cors_state's shape as the azure-storage-blob models that set them."""
    from azure.storage.blob import CorsRule as BlobCorsRule

    return [
        BlobCorsRule(
            r["allowed_origins"],
            r["allowed_methods"],
            allowed_headers=r["allowed_headers"],
            exposed_headers=r["exposed_headers"],
            max_age_in_seconds=r["max_age_in_seconds"],
        )
        for r in states
    ]


def merge_cors(current_states, host):
    """Blob service CORS rules with ours in place; rules for other origins survive (Azure rules have no id)."""
    desired = desired_cors(host)
    rules = [r for r in current_states if normalize(r["allowed_origins"]) != normalize(desired["allowed_origins"])]
    rules.append(desired)
    return rules


def cors_is_current(current_states, host):
    desired = desired_cors(host)
    ours = [r for r in current_states if normalize(r["allowed_origins"]) == normalize(desired["allowed_origins"])]
    return len(ours) == 1 and normalize(ours[0]) == normalize(desired)


def storage_account_parameters(location):
    """A new storage account: StorageV2, Standard_LRS, HTTPS and TLS 1.2 only, no public blob access."""
    from azure.mgmt.storage import models as st_models

    return st_models.StorageAccountCreateParameters(
        sku=st_models.Sku(name="Standard_LRS"),
        kind="StorageV2",
        location=location,
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
    )


def outputs(account, container, queue, key):
    env = {"BUCKET": "az://%s/%s" % (account, container), "BUCKET_QUEUE": "az://%s/%s" % (account, queue)}
    env["AZURE_STORAGE_KEY"] = key
    return {
        "bucket": env["BUCKET"],
        "bucket_queue": env["BUCKET_QUEUE"],
        "env": env,
        "secret_env_keys": ["AZURE_STORAGE_KEY"],
    }


def probe_event(text, key):
    """The event type when a queue message is an Event Grid BlobCreated event for blob `key`."""
    candidates = [text or ""]
    # Event Grid writes base64 to storage queues; accept plain JSON too.
    with contextlib.suppress(ValueError, TypeError):
        candidates.append(base64.b64decode(text or "", validate=True).decode("utf-8"))
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        for event in data if isinstance(data, list) else [data]:
            if (
                isinstance(event, dict)
                and event.get("eventType") == BLOB_CREATED
                and str(event.get("subject", "")).endswith("/blobs/" + key)
            ):
                return event["eventType"]
    return None
