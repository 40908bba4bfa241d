# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on AWS: S3 bucket, SQS queue, bucket notification, CORS. Private to this collection.

The configurations it wants are in _file_storage_s3_config, the boto3 calls in _file_storage_s3_api.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import uuid

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    PROBE_PREFIX,
    Changes,
    FileStorageError,
    check_preflight,
    normalize,
    verify_probe,
    wait_until,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_provider import FileStorageProvider
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_s3_api import (
    NO_BUCKET,
    NO_CORS,
    NO_ENCRYPTION,
    NO_PUBLIC_ACCESS_BLOCK,
    NO_QUEUE,
    connect,
    is_error_code,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_s3_config import (
    PUBLIC_ACCESS_BLOCK,
    bucket_arn,
    build_queue_policy,
    clean_notification,
    cors_is_current,
    cors_is_ours,
    encryption_rules,
    merge_cors,
    merge_notification,
    notification_is_current,
    outputs,
    probe_event,
    remove_notification,
    s3_cors_rule,
)

try:
    import requests

    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False


class S3Storage(FileStorageProvider):
    def __init__(self, params, changes, api=None):
        super(S3Storage, self).__init__(params, changes or Changes())
        self.api = api or connect(params)
        self.bucket = params["name"]
        self.queue = params.get("queue")
        if not self.queue:
            raise FileStorageError("provider s3 needs queue: the SQS queue that receives object-created events")
        self.region = self.api.region
        self.kms_key_id = params.get("kms_key_id")
        self.host = params.get("host")
        self.queue_url = None
        self.queue_arn = None

    # present ------------------------------------------------------------------------------------
    def present(self):
        exists = self._bucket_exists()
        self._ensure_bucket(exists)
        self._ensure_public_access_block(exists)
        if self.kms_key_id:
            self._ensure_encryption(exists)
        self._ensure_cors(exists)
        queue_exists = self._ensure_queue()
        self._ensure_notification(exists, queue_exists)

    def _bucket_exists(self):
        try:
            self.api.call(self.api.s3, "head_bucket", "s3:ListBucket", bucket_arn(self.bucket), Bucket=self.bucket)
            return True
        except FileStorageError as exc:
            if is_error_code(exc.__cause__, NO_BUCKET):
                return False
            if is_error_code(exc.__cause__, ("403",)):
                raise FileStorageError(
                    "bucket %s exists but this caller may not use it: it belongs to another account, or "
                    "the caller lacks s3:ListBucket on %s" % (self.bucket, bucket_arn(self.bucket))
                ) from exc
            raise

    def _ensure_bucket(self, exists):
        if exists:
            return
        self.changes.record("create bucket %s in %s" % (self.bucket, self.region), "bucket", None, self.bucket)
        if self.changes.apply:
            kwargs = {"Bucket": self.bucket}
            if self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self.api.s3_call("create_bucket", "s3:CreateBucket", self.bucket, **kwargs)

    def _ensure_public_access_block(self, exists):
        current = None
        if exists:
            resp = self.api.s3_call(
                "get_public_access_block",
                "s3:GetBucketPublicAccessBlock",
                self.bucket,
                missing=NO_PUBLIC_ACCESS_BLOCK,
                Bucket=self.bucket,
            )
            current = (resp or {}).get("PublicAccessBlockConfiguration")
        if current == PUBLIC_ACCESS_BLOCK:
            return
        self.changes.record(
            "block all public access to bucket %s" % self.bucket, "public_access_block", current, PUBLIC_ACCESS_BLOCK
        )
        if self.changes.apply:
            self.api.s3_call(
                "put_public_access_block",
                "s3:PutBucketPublicAccessBlock",
                self.bucket,
                Bucket=self.bucket,
                PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK,
            )

    def _ensure_encryption(self, exists):
        desired = encryption_rules(self.kms_key_id)
        current = None
        if exists:
            resp = self.api.s3_call(
                "get_bucket_encryption",
                "s3:GetEncryptionConfiguration",
                self.bucket,
                missing=NO_ENCRYPTION,
                Bucket=self.bucket,
            )
            current = ((resp or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules")
        if current is not None and normalize(current) == normalize(desired):
            return
        self.changes.record(
            "set default encryption of bucket %s to KMS key %s" % (self.bucket, self.kms_key_id),
            "encryption",
            current,
            desired,
        )
        if self.changes.apply:
            self.api.s3_call(
                "put_bucket_encryption",
                "s3:PutEncryptionConfiguration",
                self.bucket,
                Bucket=self.bucket,
                ServerSideEncryptionConfiguration={"Rules": desired},
            )

    def _current_cors(self, exists):
        if not exists:
            return []
        resp = self.api.s3_call("get_bucket_cors", "s3:GetBucketCORS", self.bucket, missing=NO_CORS, Bucket=self.bucket)
        return (resp or {}).get("CORSRules") or []

    def _ensure_cors(self, exists):
        current = self._current_cors(exists)
        if cors_is_current(current, self.host):
            return
        rules = merge_cors(current, self.host)
        self.changes.record(
            "set CORS rule on bucket %s for origin %s (GET, PUT, HEAD; expose ETag)"
            % (self.bucket, rules[-1]["AllowedOrigins"][0]),
            "cors",
            current,
            rules,
        )
        if self.changes.apply:
            self.api.s3_call(
                "put_bucket_cors",
                "s3:PutBucketCORS",
                self.bucket,
                Bucket=self.bucket,
                CORSConfiguration={"CORSRules": rules},
            )

    def _lookup_queue(self):
        resp = self.api.sqs_call("get_queue_url", "sqs:GetQueueUrl", self.queue, missing=NO_QUEUE, QueueName=self.queue)
        if not resp:
            return False
        self.queue_url = resp["QueueUrl"]
        attrs = self.api.sqs_call(
            "get_queue_attributes",
            "sqs:GetQueueAttributes",
            self.queue,
            QueueUrl=self.queue_url,
            AttributeNames=["QueueArn", "Policy"],
        )["Attributes"]
        self.queue_arn = attrs["QueueArn"]
        return attrs

    def _placeholder_queue_arn(self):
        return "arn:aws:sqs:%s:<account>:%s" % (self.region, self.queue)

    def _ensure_queue(self):
        attrs = self._lookup_queue()
        if attrs is False:
            self.changes.record("create SQS queue %s" % self.queue, "queue", None, self.queue)
            if not self.changes.apply:
                self.queue_arn = self._placeholder_queue_arn()
                self.changes.record(
                    "allow sqs:SendMessage on queue %s from %s only" % (self.queue, bucket_arn(self.bucket)),
                    "queue_policy",
                    None,
                    build_queue_policy(None, self.queue_arn, bucket_arn(self.bucket)),
                )
                return False
            self.api.sqs_call("create_queue", "sqs:CreateQueue", self.queue, QueueName=self.queue)
            attrs = self._lookup_queue()
            attrs.pop("Policy", None)
        current = json.loads(attrs["Policy"]) if attrs.get("Policy") else None
        desired = build_queue_policy(current, self.queue_arn, bucket_arn(self.bucket))
        if current is not None and normalize(current) == normalize(desired):
            return True
        self.changes.record(
            "allow sqs:SendMessage on queue %s from %s only" % (self.queue, bucket_arn(self.bucket)),
            "queue_policy",
            current,
            desired,
        )
        if self.changes.apply:
            self.api.sqs_call(
                "set_queue_attributes",
                "sqs:SetQueueAttributes",
                self.queue,
                QueueUrl=self.queue_url,
                Attributes={"Policy": json.dumps(desired)},
            )
        return True

    def _ensure_notification(self, bucket_exists, queue_exists):
        current = {}
        if bucket_exists:
            current = clean_notification(
                self.api.s3_call(
                    "get_bucket_notification_configuration", "s3:GetBucketNotification", self.bucket, Bucket=self.bucket
                )
            )
        if queue_exists and notification_is_current(current, self.queue_arn):
            return
        desired = merge_notification(current, self.queue_arn)
        self.changes.record(
            "send s3:ObjectCreated:* events of bucket %s to queue %s (other notifications kept)"
            % (self.bucket, self.queue),
            "notification",
            current,
            desired,
        )
        if not self.changes.apply:
            return
        try:
            self.api.s3_call(
                "put_bucket_notification_configuration",
                "s3:PutBucketNotification",
                self.bucket,
                Bucket=self.bucket,
                NotificationConfiguration=desired,
            )
        except FileStorageError as exc:
            if not is_error_code(exc.__cause__, ("InvalidArgument",)):
                raise
            raise self._explain_notification_error(exc) from exc.__cause__

    def _explain_notification_error(self, exc):
        """S3 answers InvalidArgument both for an overlapping entry and for a queue it may not send to."""
        text = exc.__cause__.response.get("Error", {}).get("Message", "")
        if "overlap" in text.lower():
            return FileStorageError(
                "bucket %s already sends object-created events elsewhere with an overlapping filter; S3 allows "
                "one destination per event and prefix (%s)" % (self.bucket, text)
            )
        return FileStorageError(
            "S3 refused queue %s as a notification destination: its policy must allow sqs:SendMessage from %s "
            "(%s)" % (self.queue, bucket_arn(self.bucket), text)
        )

    # absent -------------------------------------------------------------------------------------
    def absent(self, force=False):
        attrs = self._lookup_queue()
        exists = self._bucket_exists()
        bucket_deleted = False
        if exists:
            current = clean_notification(
                self.api.s3_call(
                    "get_bucket_notification_configuration", "s3:GetBucketNotification", self.bucket, Bucket=self.bucket
                )
            )
            remaining = remove_notification(current, self.queue_arn)
            if remaining != current:
                self.changes.record(
                    "remove the notification to queue %s from bucket %s" % (self.queue, self.bucket),
                    "notification",
                    current,
                    remaining,
                )
                if self.changes.apply:
                    self.api.s3_call(
                        "put_bucket_notification_configuration",
                        "s3:PutBucketNotification",
                        self.bucket,
                        Bucket=self.bucket,
                        NotificationConfiguration=remaining,
                    )
            bucket_deleted = self._delete_bucket(force)
            if not bucket_deleted:
                self._remove_cors()
        if attrs is not False:
            self.changes.record("delete SQS queue %s" % self.queue, "queue", self.queue, None)
            if self.changes.apply:
                self.api.sqs_call(
                    "delete_queue", "sqs:DeleteQueue", self.queue, missing=NO_QUEUE, QueueUrl=self.queue_url
                )

    def _remove_cors(self):
        current = self._current_cors(True)
        origin = s3_cors_rule(self.host)["AllowedOrigins"][0] if self.host else None
        remaining = [r for r in current if not cors_is_ours(r, origin)]
        if remaining == current:
            return
        self.changes.record("remove the W&B CORS rule from bucket %s" % self.bucket, "cors", current, remaining)
        if not self.changes.apply:
            return
        if remaining:
            self.api.s3_call(
                "put_bucket_cors",
                "s3:PutBucketCORS",
                self.bucket,
                Bucket=self.bucket,
                CORSConfiguration={"CORSRules": remaining},
            )
        else:
            self.api.s3_call("delete_bucket_cors", "s3:PutBucketCORS", self.bucket, Bucket=self.bucket)

    def _list_keys(self, limit=1000):
        """Up to `limit` object versions and delete markers: deleting them all empties a versioned bucket too."""
        resp = self.api.s3_call(
            "list_object_versions", "s3:ListBucketVersions", self.bucket, Bucket=self.bucket, MaxKeys=limit
        )
        return [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in (resp.get("Versions") or []) + (resp.get("DeleteMarkers") or [])
        ]

    def _delete_bucket(self, force):
        items = self._list_keys()
        if items and not force:
            self.changes.warn(
                "bucket %s is not empty: kept (with its CORS rule removed); set force: true to delete it and "
                "every object in it" % self.bucket
            )
            return False
        if items:
            self.changes.record(
                "delete every object in bucket %s (force)" % self.bucket, "objects", "%d+ objects" % len(items), None
            )
            while items and self.changes.apply:
                self.api.s3_call(
                    "delete_objects",
                    "s3:DeleteObject",
                    self.bucket,
                    Bucket=self.bucket,
                    Delete={"Objects": items, "Quiet": True},
                )
                items = self._list_keys()
        self.changes.record("delete bucket %s" % self.bucket, "bucket", self.bucket, None)
        if self.changes.apply:
            self.api.s3_call("delete_bucket", "s3:DeleteBucket", self.bucket, Bucket=self.bucket)
        return True

    # verify -------------------------------------------------------------------------------------
    def verify(self, timeout=60):
        if not HAS_REQUESTS:
            raise FileStorageError("verify needs the Python library requests")
        if self.queue_url is None:
            self._lookup_queue()
        key = "%s%s" % (PROBE_PREFIX, uuid.uuid4().hex)
        body = b"wandb_local.fleet file_storage probe"
        origin = s3_cors_rule(self.host)["AllowedOrigins"][0]
        state = {}

        def put_probe():
            self.api.s3_call(
                "put_object",
                "s3:PutObject",
                self.bucket,
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="text/plain",
            )
            state["put"] = True
            return "wrote s3://%s/%s" % (self.bucket, key)

        def notification():
            if self.queue_url is None:
                raise FileStorageError("queue %s does not exist" % self.queue)
            found = wait_until(lambda: self._receive_probe(key), timeout, interval=0)
            if not found:
                raise FileStorageError(
                    "no s3:ObjectCreated message for %s reached queue %s within %ss: check that the queue policy "
                    "allows sqs:SendMessage from %s and that the bucket notification targets the queue"
                    % (key, self.queue, timeout, bucket_arn(self.bucket))
                )
            return "queue %s received %s for the probe" % (self.queue, found)

        def cors():
            # The browser preflights the upload of a new object, so ask about a key that does not exist.
            url = self.api.s3.generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket, "Key": key + "-upload"}, ExpiresIn=300
            )
            return check_preflight(requests.request, url.split("?", 1)[0], origin, "PUT")

        def presigned():
            url = self.api.s3.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=300
            )
            resp = requests.get(url, timeout=30)
            if resp.status_code != 200 or resp.content != body:
                raise FileStorageError("GET of a pre-signed URL for the probe answered HTTP %s" % resp.status_code)
            return "pre-signed GET returned the probe (HTTP 200)"

        def delete_probe():
            if not state.get("put"):
                return ("skipped", "no probe was written")
            self.api.s3_call("delete_object", "s3:DeleteObject", self.bucket, Bucket=self.bucket, Key=key)
            return "deleted the probe"

        return verify_probe(put_probe, notification, cors, presigned, delete_probe)

    def _receive_probe(self, key):
        # A short visibility timeout hands back at once any message that is not ours, so a W&B
        # server reading the same queue loses nothing.
        resp = self.api.sqs_call(
            "receive_message",
            "sqs:ReceiveMessage",
            self.queue,
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=2,
            VisibilityTimeout=1,
        )
        for message in resp.get("Messages") or []:
            event = probe_event(message.get("Body"), key)
            if event:
                self.api.sqs_call(
                    "delete_message",
                    "sqs:DeleteMessage",
                    self.queue,
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                )
                return event
        return None

    def outputs(self):
        return outputs(self.bucket, self.queue, self.region, self.kms_key_id)
