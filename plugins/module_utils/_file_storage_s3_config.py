# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on AWS, what it wants: queue policy, notification and CORS entries, merged with others'.

Pure functions over the shapes boto3 returns and takes. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from urllib.parse import unquote_plus

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    OWNER_ID,
    cors_rule,
    normalize,
)

NOTIFICATION_ID = OWNER_ID + "-object-created"
POLICY_SID = OWNER_ID + "-bucket-notifications"
CORS_RULE_ID = OWNER_ID
OBJECT_CREATED = "s3:ObjectCreated:*"
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
NOTIFICATION_KINDS = ("QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations")


def bucket_arn(bucket):
    return "arn:aws:s3:::%s" % bucket


def queue_policy_statement(queue_arn, source_bucket_arn):
    """The statement that lets exactly this bucket, and nothing else, send to the queue."""
    return {
        "Sid": POLICY_SID,
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_bucket_arn}},
    }


def build_queue_policy(existing_policy, queue_arn, source_bucket_arn):
    """The queue policy with our statement added or replaced; statements of others survive."""
    if existing_policy:
        policy = json.loads(existing_policy) if isinstance(existing_policy, str) else dict(existing_policy)
    else:
        policy = {"Version": "2012-10-17"}
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    statements = [s for s in statements if s.get("Sid") != POLICY_SID]
    statements.append(queue_policy_statement(queue_arn, source_bucket_arn))
    policy["Statement"] = statements
    policy.setdefault("Version", "2012-10-17")
    return policy


def remove_policy_statement(existing_policy):
    """The queue policy without our statement, or None when nothing else is left in it."""
    if not existing_policy:
        return None
    policy = json.loads(existing_policy) if isinstance(existing_policy, str) else dict(existing_policy)
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    policy["Statement"] = [s for s in statements if s.get("Sid") != POLICY_SID]
    return policy if policy["Statement"] else None


def notification_entry(queue_arn):
    return {"Id": NOTIFICATION_ID, "QueueArn": queue_arn, "Events": [OBJECT_CREATED]}


def clean_notification(config):
    """Only the parts of GetBucketNotificationConfiguration that PutBucketNotificationConfiguration takes."""
    config = dict(config or {})
    config.pop("ResponseMetadata", None)
    clean = {}
    for kind in NOTIFICATION_KINDS:
        if config.get(kind):
            clean[kind] = [dict(e) for e in config[kind]]
    if "EventBridgeConfiguration" in config:
        clean["EventBridgeConfiguration"] = config["EventBridgeConfiguration"]
    return clean


def _is_ours(entry, queue_arn):
    return entry.get("Id") == NOTIFICATION_ID or (queue_arn is not None and entry.get("QueueArn") == queue_arn)


def merge_notification(existing, queue_arn):
    """Existing notification configuration with our queue entry put in place.

    Entries of others (other queues, topics, Lambda functions, EventBridge) are kept as they are.
    Our entry is found by its Id or by its queue ARN and replaced, never duplicated.
    """
    merged = clean_notification(existing)
    queues = [e for e in merged.get("QueueConfigurations", []) if not _is_ours(e, queue_arn)]
    queues.append(notification_entry(queue_arn))
    merged["QueueConfigurations"] = queues
    return merged


def remove_notification(existing, queue_arn=None):
    merged = clean_notification(existing)
    queues = [e for e in merged.get("QueueConfigurations", []) if not _is_ours(e, queue_arn)]
    if queues:
        merged["QueueConfigurations"] = queues
    else:
        merged.pop("QueueConfigurations", None)
    return merged


def notification_is_current(existing, queue_arn):
    """True when the configuration holds exactly our entry, once, and nothing would change."""
    clean = clean_notification(existing)
    ours = [e for e in clean.get("QueueConfigurations", []) if _is_ours(e, queue_arn)]
    if len(ours) != 1:
        return False
    entry = ours[0]
    return (
        entry.get("Id") == NOTIFICATION_ID
        and entry.get("QueueArn") == queue_arn
        and normalize(entry.get("Events")) == [OBJECT_CREATED]
        and not entry.get("Filter")
    )


def s3_cors_rule(host):
    rule = cors_rule(host)
    return {
        "ID": CORS_RULE_ID,
        "AllowedOrigins": rule["origins"],
        "AllowedMethods": rule["methods"],
        "AllowedHeaders": rule["allowed_headers"],
        "ExposeHeaders": rule["expose_headers"],
        "MaxAgeSeconds": rule["max_age"],
    }


def cors_is_ours(rule, origin):
    return rule.get("ID") == CORS_RULE_ID or normalize(rule.get("AllowedOrigins")) == [origin]


def merge_cors(existing_rules, host):
    desired = s3_cors_rule(host)
    origin = desired["AllowedOrigins"][0]
    rules = [r for r in (existing_rules or []) if not cors_is_ours(r, origin)]
    rules.append(desired)
    return rules


def cors_is_current(existing_rules, host):
    desired = s3_cors_rule(host)
    origin = desired["AllowedOrigins"][0]
    ours = [r for r in (existing_rules or []) if cors_is_ours(r, origin)]
    return len(ours) == 1 and normalize(ours[0]) == normalize(desired)


def encryption_rules(kms_key_id):
    return [
        {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id},
            "BucketKeyEnabled": True,
        }
    ]


def outputs(bucket, queue, region, kms_key_id=None):
    env = {"BUCKET": "s3://%s" % bucket, "BUCKET_QUEUE": "sqs://%s" % queue, "AWS_REGION": region}
    if kms_key_id:
        env["AWS_S3_KMS_ID"] = kms_key_id
    return {"bucket": env["BUCKET"], "bucket_queue": env["BUCKET_QUEUE"], "env": env}


def probe_event(body, key):
    """The event name when an SQS message body is an S3 ObjectCreated event for `key`."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return None
    for record in data.get("Records") or []:
        obj = (record.get("s3") or {}).get("object") or {}
        # S3 URL-encodes the key in events (a space becomes '+').
        if unquote_plus(obj.get("key") or "") == key and str(record.get("eventName", "")).startswith("ObjectCreated"):
            return record["eventName"]
    return None
