# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Google Cloud: bucket, CORS, Pub/Sub topic and subscription, IAM, notification.

The configurations it wants are in _file_storage_gcs_config, credentials and calls in
_file_storage_gcs_api. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import uuid
from urllib.parse import quote

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    PROBE_PREFIX,
    FileStorageError,
    check_preflight,
    normalize,
    verify_probe,
    wait_until,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_gcs_api import GcsApi, signed_url
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_gcs_config import (
    PUBLISHER_ROLE,
    cors_is_current,
    desired_notification,
    gcs_cors,
    grant_publisher,
    merge_cors,
    notification_matches,
    outputs,
    same_topic,
    subscription_name,
    topic_path,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_provider import FileStorageProvider

try:
    import requests
except ImportError:  # then HAS_GOOGLE is false too, and the module says what is missing
    requests = None


class GcsStorage(FileStorageProvider):
    def __init__(self, params, changes, api=None):
        super(GcsStorage, self).__init__(params, changes)
        self.bucket = params["name"]
        self.project = params["project"]
        self.topic = params.get("queue")
        self.subscription = subscription_name(self.topic or "")
        self.location = params.get("location") or "US"
        self.host = params.get("host")
        self.api = api or GcsApi(params)

    # resource names as IAM spells them in errors
    def _bucket_res(self):
        return "projects/_/buckets/%s" % self.bucket

    def _topic_res(self):
        return topic_path(self.project, self.topic)

    def _sub_res(self):
        return "projects/%s/subscriptions/%s" % (self.project, self.subscription)

    def _get_bucket(self):
        return self.api.request(
            "storage",
            "GET",
            "/storage/v1/b/%s" % quote(self.bucket, safe=""),
            "storage.buckets.get",
            self._bucket_res(),
            missing=True,
        )

    # present ------------------------------------------------------------------------------------
    def present(self):
        if not self.topic:
            raise FileStorageError("provider gcs needs queue: the Pub/Sub topic (the subscription is <queue>-sub)")
        self._ensure_bucket()
        self._ensure_topic()
        self._ensure_subscription()
        self._ensure_publisher()
        self._ensure_notification()

    def _ensure_bucket(self):
        bucket = self._get_bucket()
        if bucket is None:
            body = {
                "name": self.bucket,
                "location": self.location,
                "storageClass": "STANDARD",
                "iamConfiguration": {
                    "uniformBucketLevelAccess": {"enabled": True},
                    "publicAccessPrevention": "enforced",
                },
                "cors": merge_cors([], self.host),
            }
            self.changes.record(
                "create bucket %s in %s (STANDARD, uniform access, public access prevented)"
                % (self.bucket, self.location),
                "bucket",
                None,
                self.bucket,
            )
            self.changes.record(
                "set CORS rule on bucket %s for %s" % (self.bucket, body["cors"][0]["origin"][0]),
                "cors",
                [],
                body["cors"],
            )
            if not self.changes.apply:
                return
            bucket = self.api.request(
                "storage",
                "POST",
                "/storage/v1/b?project=%s" % quote(self.project, safe=""),
                "storage.buckets.create",
                "projects/%s" % self.project,
                json=body,
            )
            # The created resource comes back; a server that dropped the CORS field on insert
            # (gcp-storage-emulator does) gets it with the PATCH below.
            if cors_is_current(bucket.get("cors"), self.host):
                return
            self._patch_cors(body["cors"])
            return
        current = bucket.get("cors") or []
        if cors_is_current(current, self.host):
            return
        rules = merge_cors(current, self.host)
        self.changes.record(
            "set CORS rule on bucket %s for %s (other origins kept)" % (self.bucket, rules[-1]["origin"][0]),
            "cors",
            current,
            rules,
        )
        if self.changes.apply:
            self._patch_cors(rules)

    def _patch_cors(self, rules):
        self.api.request(
            "storage",
            "PATCH",
            "/storage/v1/b/%s" % quote(self.bucket, safe=""),
            "storage.buckets.update",
            self._bucket_res(),
            json={"cors": rules},
        )

    def _ensure_topic(self):
        topic = self.api.request(
            "pubsub", "GET", "/v1/%s" % self._topic_res(), "pubsub.topics.get", self._topic_res(), missing=True
        )
        if topic is not None:
            return
        self.changes.record("create Pub/Sub topic %s" % self._topic_res(), "topic", None, self._topic_res())
        if self.changes.apply:
            self.api.request(
                "pubsub", "PUT", "/v1/%s" % self._topic_res(), "pubsub.topics.create", self._topic_res(), json={}
            )

    def _ensure_subscription(self):
        sub = self.api.request(
            "pubsub", "GET", "/v1/%s" % self._sub_res(), "pubsub.subscriptions.get", self._sub_res(), missing=True
        )
        if sub is None:
            self.changes.record(
                "create pull subscription %s on topic %s" % (self._sub_res(), self.topic),
                "subscription",
                None,
                self._sub_res(),
            )
            if self.changes.apply:
                self.api.request(
                    "pubsub",
                    "PUT",
                    "/v1/%s" % self._sub_res(),
                    "pubsub.subscriptions.create",
                    self._sub_res(),
                    json={"topic": self._topic_res(), "ackDeadlineSeconds": 60},
                )
            return
        if sub.get("topic") != self._topic_res():
            raise FileStorageError(
                "subscription %s exists but reads topic %s, not %s: a subscription cannot change topic; "
                "delete it or choose another queue name" % (self._sub_res(), sub.get("topic"), self._topic_res())
            )
        if (sub.get("pushConfig") or {}).get("pushEndpoint"):
            self.changes.record(
                "turn subscription %s into a pull subscription (W&B pulls)" % self._sub_res(),
                "subscription_push",
                sub["pushConfig"]["pushEndpoint"],
                None,
            )
            if self.changes.apply:
                self.api.request(
                    "pubsub",
                    "POST",
                    "/v1/%s:modifyPushConfig" % self._sub_res(),
                    "pubsub.subscriptions.update",
                    self._sub_res(),
                    json={"pushConfig": {}},
                )

    def service_agent(self):
        data = self.api.request(
            "storage",
            "GET",
            "/storage/v1/projects/%s/serviceAccount" % quote(self.project, safe=""),
            "resourcemanager.projects.get",
            "projects/%s" % self.project,
        )
        email = data.get("email_address")
        if not email:
            raise FileStorageError("Cloud Storage returned no service agent for project %s" % self.project)
        return email

    def _topic_policy(self):
        return self.api.request(
            "pubsub", "GET", "/v1/%s:getIamPolicy" % self._topic_res(), "pubsub.topics.getIamPolicy", self._topic_res()
        )

    def _ensure_publisher(self):
        member = "serviceAccount:%s" % self.service_agent()
        if not self.changes.apply and not self._topic_exists_now():
            self.changes.record(
                "grant %s on topic %s to %s" % (PUBLISHER_ROLE, self.topic, member), "topic_iam", None, [member]
            )
            return
        current = self._topic_policy()
        updated = grant_publisher(current, member)
        if updated is None:
            return
        self.changes.record(
            "grant %s on topic %s to %s" % (PUBLISHER_ROLE, self.topic, member), "topic_iam", current, updated
        )
        if self.changes.apply:
            self.api.request(
                "pubsub",
                "POST",
                "/v1/%s:setIamPolicy" % self._topic_res(),
                "pubsub.topics.setIamPolicy",
                self._topic_res(),
                json={"policy": updated},
            )

    def _topic_exists_now(self):
        return (
            self.api.request(
                "pubsub", "GET", "/v1/%s" % self._topic_res(), "pubsub.topics.get", self._topic_res(), missing=True
            )
            is not None
        )

    def _notifications(self):
        if self._get_bucket() is None:
            return []
        data = self.api.request(
            "storage",
            "GET",
            "/storage/v1/b/%s/notificationConfigs" % quote(self.bucket, safe=""),
            "storage.buckets.get",
            self._bucket_res(),
        )
        return data.get("items") or []

    def _delete_notification(self, config):
        self.api.request(
            "storage",
            "DELETE",
            "/storage/v1/b/%s/notificationConfigs/%s"
            % (quote(self.bucket, safe=""), quote(str(config["id"]), safe="")),
            "storage.buckets.update",
            self._bucket_res(),
        )

    def _ensure_notification(self):
        configs = self._notifications()
        ours = [c for c in configs if same_topic(c.get("topic"), self.project, self.topic)]
        good = [c for c in ours if notification_matches(c, self.project, self.topic)]
        stale = [c for c in ours if c not in good[:1]]
        desired = desired_notification(self.project, self.topic)
        if good and not stale:
            return
        for config in stale:
            self.changes.record(
                "delete notification %s of bucket %s (duplicate or not OBJECT_FINALIZE/JSON_API_V1)"
                % (config.get("id"), self.bucket),
                "notification_%s" % config.get("id"),
                config,
                None,
            )
            if self.changes.apply:
                self._delete_notification(config)
        if good:
            return
        self.changes.record(
            "create notification of bucket %s: OBJECT_FINALIZE as JSON_API_V1 to topic %s (other notifications kept)"
            % (self.bucket, self.topic),
            "notification",
            None,
            desired,
        )
        if self.changes.apply:
            self.api.request(
                "storage",
                "POST",
                "/storage/v1/b/%s/notificationConfigs" % quote(self.bucket, safe=""),
                "storage.buckets.update",
                self._bucket_res(),
                json=desired,
            )

    # absent -------------------------------------------------------------------------------------
    def absent(self, force=False):
        bucket = self._get_bucket()
        if bucket is not None and self.topic:
            for config in self._notifications():
                if same_topic(config.get("topic"), self.project, self.topic):
                    self.changes.record(
                        "delete notification %s of bucket %s" % (config.get("id"), self.bucket),
                        "notification",
                        config,
                        None,
                    )
                    if self.changes.apply:
                        self._delete_notification(config)
        if self.topic:
            for kind, res, perm in (
                ("subscription", self._sub_res(), "pubsub.subscriptions"),
                ("topic", self._topic_res(), "pubsub.topics"),
            ):
                found = self.api.request("pubsub", "GET", "/v1/%s" % res, perm + ".get", res, missing=True)
                if found is not None:
                    self.changes.record("delete Pub/Sub %s %s" % (kind, res), kind, res, None)
                    if self.changes.apply:
                        self.api.request("pubsub", "DELETE", "/v1/%s" % res, perm + ".delete", res, missing=True)
        if bucket is not None:
            self._delete_bucket(bucket, force)

    def _list_objects(self):
        data = self.api.request(
            "storage",
            "GET",
            "/storage/v1/b/%s/o?maxResults=1000" % quote(self.bucket, safe=""),
            "storage.objects.list",
            self._bucket_res(),
        )
        return [o["name"] for o in data.get("items") or []]

    def _delete_bucket(self, bucket, force):
        names = self._list_objects()
        if names and not force:
            self.changes.warn(
                "bucket %s is not empty: kept; set force: true to delete it and every object in it" % self.bucket
            )
            if self.host:
                current = bucket.get("cors") or []
                origin = gcs_cors(self.host)["origin"]
                remaining = [r for r in current if normalize(r.get("origin")) != normalize(origin)]
                if remaining != current:
                    self.changes.record(
                        "remove the W&B CORS rule from bucket %s" % self.bucket, "cors", current, remaining
                    )
                    if self.changes.apply:
                        self._patch_cors(remaining)
            return
        if names:
            self.changes.record("delete every object in bucket %s (force)" % self.bucket, "objects", "objects", None)
            while names and self.changes.apply:
                for name in names:
                    self.api.request(
                        "storage",
                        "DELETE",
                        "/storage/v1/b/%s/o/%s" % (quote(self.bucket, safe=""), quote(name, safe="")),
                        "storage.objects.delete",
                        self._bucket_res(),
                        missing=True,
                    )
                names = self._list_objects()
        self.changes.record("delete bucket %s" % self.bucket, "bucket", self.bucket, None)
        if self.changes.apply:
            self.api.request(
                "storage",
                "DELETE",
                "/storage/v1/b/%s" % quote(self.bucket, safe=""),
                "storage.buckets.delete",
                self._bucket_res(),
            )

    # verify -------------------------------------------------------------------------------------
    def verify(self, timeout=60):
        key = "%s%s" % (PROBE_PREFIX, uuid.uuid4().hex)
        body = b"wandb_local.fleet file_storage probe"
        origin = gcs_cors(self.host)["origin"][0]
        object_url = "%s/%s/%s" % (self.api.storage_url, self.bucket, quote(key, safe="/"))
        state = {}

        def put_probe():
            self.api.request(
                "storage",
                "POST",
                "/upload/storage/v1/b/%s/o?uploadType=media&name=%s"
                % (quote(self.bucket, safe=""), quote(key, safe="")),
                "storage.objects.create",
                self._bucket_res(),
                data=body,
                headers={"Content-Type": "text/plain"},
            )
            state["put"] = True
            return "wrote gs://%s/%s" % (self.bucket, key)

        def pull():
            data = self.api.request(
                "pubsub",
                "POST",
                "/v1/%s:pull" % self._sub_res(),
                "pubsub.subscriptions.consume",
                self._sub_res(),
                # A blocking pull could outlast verify_timeout; the loop around it retries instead.
                json={"maxMessages": 10, "returnImmediately": True},
            )
            found, others = None, []
            for received in data.get("receivedMessages") or []:
                attrs = (received.get("message") or {}).get("attributes") or {}
                if attrs.get("objectId") == key and attrs.get("eventType") == "OBJECT_FINALIZE":
                    found = received
                else:
                    others.append(received["ackId"])
            if others:
                # Hand back at once what is not ours: a W&B server may be reading the same subscription.
                self.api.request(
                    "pubsub",
                    "POST",
                    "/v1/%s:modifyAckDeadline" % self._sub_res(),
                    "pubsub.subscriptions.consume",
                    self._sub_res(),
                    json={"ackIds": others, "ackDeadlineSeconds": 0},
                )
            if found:
                self.api.request(
                    "pubsub",
                    "POST",
                    "/v1/%s:acknowledge" % self._sub_res(),
                    "pubsub.subscriptions.consume",
                    self._sub_res(),
                    json={"ackIds": [found["ackId"]]},
                )
                return found["message"]["attributes"]["eventType"]
            return None

        def notification():
            found = wait_until(pull, timeout, interval=1)
            if not found:
                raise FileStorageError(
                    "no OBJECT_FINALIZE message for %s reached subscription %s within %ss: check the bucket's "
                    "notification to topic %s and that the Cloud Storage service agent has %s on it"
                    % (key, self._sub_res(), timeout, self._topic_res(), PUBLISHER_ROLE)
                )
            return "subscription %s received %s for the probe" % (self.subscription, found)

        def cors():
            return check_preflight(requests.request, object_url + "-upload", origin, "PUT")

        def presigned():
            creds = self.api.credentials
            if creds is None or not hasattr(creds, "sign_bytes") or not hasattr(creds, "signer_email"):
                return ("skipped", "these credentials cannot sign URLs (use a service account key to check this step)")
            url = signed_url(creds, self.api.storage_url, self.bucket, key)
            resp = requests.get(url, timeout=30)
            if resp.status_code != 200 or resp.content != body:
                raise FileStorageError("GET of a signed URL for the probe answered HTTP %s" % resp.status_code)
            return "signed-URL GET returned the probe (HTTP 200)"

        def delete_probe():
            if not state.get("put"):
                return ("skipped", "no probe was written")
            self.api.request(
                "storage",
                "DELETE",
                "/storage/v1/b/%s/o/%s" % (quote(self.bucket, safe=""), quote(key, safe="")),
                "storage.objects.delete",
                self._bucket_res(),
            )
            return "deleted the probe"

        return verify_probe(put_probe, notification, cors, presigned, delete_probe)

    def outputs(self):
        return outputs(self.bucket, self.project, self.topic)
