# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Google Cloud: bucket, CORS, Pub/Sub topic and subscription, IAM, notification.

Talks to the Cloud Storage JSON API and the Pub/Sub REST API through google-auth's
AuthorizedSession. Honours Google's emulator variables STORAGE_EMULATOR_HOST and
PUBSUB_EMULATOR_HOST the way Google's own client libraries do (plain HTTP, no credentials).
Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import json
import os
import traceback
import uuid
from urllib.parse import quote

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    PROBE_PREFIX,
    FileStorageError,
    api_error,
    check_preflight,
    cors_rule,
    normalize,
    pubsub_queue_url,
    verify_probe,
    wait_until,
)

try:
    import google.auth
    import google.auth.exceptions
    import requests
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    HAS_GOOGLE = True
    IMPORT_TRACEBACK = None
except ImportError:
    HAS_GOOGLE = False
    IMPORT_TRACEBACK = traceback.format_exc()

STORAGE_URL = "https://storage.googleapis.com"
PUBSUB_URL = "https://pubsub.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
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


def _same_topic(value, project, topic):
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
        _same_topic(config.get("topic"), project, topic)
        and config.get("payload_format") == PAYLOAD_FORMAT
        and normalize(config.get("event_types") or []) == normalize(EVENT_TYPES)
        and not config.get("object_name_prefix")
        and not config.get("custom_attributes")
    )


def outputs(bucket, project, topic):
    env = {"BUCKET": "gs://%s" % bucket, "BUCKET_QUEUE": pubsub_queue_url(project, topic, subscription_name(topic))}
    return {"bucket": env["BUCKET"], "bucket_queue": env["BUCKET_QUEUE"], "env": env, "secret_env_keys": []}


def load_credentials(params):
    """google-auth credentials from credentials_file, credentials (dict or JSON) or ADC; None for emulators."""
    info = params.get("credentials")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError as exc:
            raise FileStorageError("credentials must be a dict or the JSON content of a credentials file") from exc
    try:
        if params.get("credentials_file"):
            return google.auth.load_credentials_from_file(params["credentials_file"], scopes=SCOPES)[0]
        if info:
            if info.get("type") == "service_account":
                return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
            return google.auth.load_credentials_from_dict(info, scopes=SCOPES)[0]
        if os.environ.get("STORAGE_EMULATOR_HOST") and os.environ.get("PUBSUB_EMULATOR_HOST"):
            return None
        return google.auth.default(scopes=SCOPES)[0]
    except google.auth.exceptions.GoogleAuthError as exc:
        raise FileStorageError("could not load Google credentials: %s" % exc) from exc


def _emulator_base(variable):
    value = os.environ.get(variable)
    if not value:
        return None
    return value.rstrip("/") if "://" in value else "http://" + value.rstrip("/")


class GcsApi(object):
    """Cloud Storage JSON API and Pub/Sub REST calls, each tied to the IAM permission it needs."""

    def __init__(self, params):
        self.credentials = load_credentials(params)
        self.storage_url = _emulator_base("STORAGE_EMULATOR_HOST")
        self.pubsub_url = _emulator_base("PUBSUB_EMULATOR_HOST")
        authed = AuthorizedSession(self.credentials) if self.credentials is not None else None
        plain = requests.Session()
        self.storage_http = plain if self.storage_url else authed
        self.pubsub_http = plain if self.pubsub_url else authed
        self.storage_url = self.storage_url or STORAGE_URL
        self.pubsub_url = self.pubsub_url or PUBSUB_URL
        if self.storage_http is None or self.pubsub_http is None:
            raise FileStorageError(
                "no Google credentials: set credentials_file, credentials or Application Default Credentials"
            )

    def request(self, service, method, path, permission, resource, missing=False, **kwargs):
        http, base = (
            (self.storage_http, self.storage_url) if service == "storage" else (self.pubsub_http, self.pubsub_url)
        )
        try:
            resp = http.request(method, base + path, timeout=60, **kwargs)
        except requests.RequestException as exc:
            raise FileStorageError("%s %s failed: %s" % (method, base + path, exc)) from exc
        if resp.status_code == 404 and missing:
            return None
        if resp.status_code >= 400:
            try:
                error = resp.json().get("error") or {}
            except ValueError:
                error = {"message": resp.text[:300]}
            if isinstance(error, str):
                error = {"message": error}
            code = error.get("status") or next((e.get("reason") for e in error.get("errors") or []), None)
            raise api_error(
                "%s %s" % (method, path), permission, resource, resp.status_code, code, error.get("message")
            )
        if not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError:
            return {"_raw": resp.content}


class GcsStorage(object):
    def __init__(self, params, changes, api=None):
        self.params = params
        self.changes = changes
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
        ours = [c for c in configs if _same_topic(c.get("topic"), self.project, self.topic)]
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
                if _same_topic(config.get("topic"), self.project, self.topic):
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


def signed_url(credentials, endpoint, bucket, key, expires=300, now=None):
    """A V4 signed GET URL (Google's GOOG4-RSA-SHA256 scheme), signed locally with the credentials' key."""
    import hashlib
    from urllib.parse import urlsplit

    now = now or datetime.datetime.now(datetime.timezone.utc)
    host = urlsplit(endpoint).netloc
    datestamp = now.strftime("%Y%m%d")
    timestamp = now.strftime("%Y%m%dT%H%M%SZ")
    scope = "%s/auto/storage/goog4_request" % datestamp
    path = "/%s/%s" % (bucket, quote(key, safe="/~"))
    query = {
        "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
        "X-Goog-Credential": "%s/%s" % (credentials.signer_email, scope),
        "X-Goog-Date": timestamp,
        "X-Goog-Expires": str(expires),
        "X-Goog-SignedHeaders": "host",
    }
    canonical_query = "&".join("%s=%s" % (quote(k, safe="~"), quote(v, safe="~")) for k, v in sorted(query.items()))
    canonical_request = "\n".join(["GET", path, canonical_query, "host:%s\n" % host, "host", "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(
        ["GOOG4-RSA-SHA256", timestamp, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    signature = base64.b16encode(credentials.sign_bytes(to_sign.encode("utf-8"))).decode("ascii").lower()
    return "%s%s?%s&X-Goog-Signature=%s" % (endpoint, path, canonical_query, signature)
