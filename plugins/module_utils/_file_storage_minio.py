# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on MinIO: bucket plus a user whose policy only reaches that bucket. Private to this collection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import importlib.util
import json
import os
import uuid
from urllib.parse import urlsplit

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    PROBE_PREFIX,
    FileStorageError,
    api_error,
    check_preflight,
    cors_origin,
    minio_bucket_url,
    normalize,
    verify_probe,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_provider import FileStorageProvider
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_s3_api import (
    HAS_BOTO3,
    NO_BUCKET,
    is_error_code,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_s3_config import bucket_arn

# The minio package is imported where it is used (its import loads a crypto stack): a run for
# another provider does not pay for it.
HAS_MINIO_LIB = importlib.util.find_spec("minio") is not None
IMPORT_TRACEBACK = None if HAS_MINIO_LIB else "missing Python package: minio"

if HAS_BOTO3:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

try:
    import requests

    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False

HAS_MINIO = HAS_MINIO_LIB and HAS_BOTO3

CORS_NOTE = (
    "MinIO applies CORS server-wide (MINIO_API_CORS_ALLOW_ORIGIN, default '*'), not per bucket: this module did "
    "not change it. Set it to the W&B host on the MinIO server if '*' is too wide."
)
QUEUE_NOTE = "MinIO has no queue W&B can read: BUCKET_QUEUE is internal://, the server tracks uploads itself."
# A secret the module cannot read back must be reproducible, or every run would rotate it.
SECRET_CONTEXT = b"wandb_local.fleet/file_storage/minio/v1\0"


def user_name(bucket):
    return "wandb-%s" % bucket


def policy_name(bucket):
    return "wandb-%s" % bucket


def derive_secret(admin_secret, endpoint_url, bucket):
    """The user's secret key: an HMAC of the bucket under the admin secret (40 characters, MinIO's maximum).

    Re-runs derive the same key, so the BUCKET setting stays stable; rotating the admin secret
    rotates it (reported as a change).
    """
    host = (urlsplit(endpoint_url).netloc or "").lower()
    message = SECRET_CONTEXT + host.encode("utf-8") + b"\0" + bucket.encode("utf-8")
    return hmac.new((admin_secret or "").encode("utf-8"), message, hashlib.sha256).hexdigest()[:40]


def bucket_policy(bucket):
    """The vendor's node policy, s3:* on the bucket and its objects, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:*"],
                "Resource": [bucket_arn(bucket), bucket_arn(bucket) + "/*"],
            }
        ],
    }


def parse_policy_info(text):
    """MinIO's canned-policy info: newer servers wrap the document, older ones return it bare."""
    data = json.loads(text or "{}")
    if isinstance(data, dict) and "Policy" in data and "Statement" not in data:
        data = data["Policy"]
        if isinstance(data, str):
            data = json.loads(data)
    return data


def _norm_policy(policy):
    policy = json.loads(json.dumps(policy))
    for statement in policy.get("Statement", []):
        for field in ("Action", "Resource"):
            if isinstance(statement.get(field), str):
                statement[field] = [statement[field]]
    return normalize(policy)


def policies_of(user_info_text):
    info = json.loads(user_info_text or "{}")
    names = info.get("policyName") or ""
    return [n for n in names.split(",") if n], info.get("status")


def outputs(access_key, secret_key, endpoint_url, bucket, region):
    env = {
        "BUCKET": minio_bucket_url(access_key, secret_key, endpoint_url, bucket),
        "BUCKET_QUEUE": "internal://",
        "AWS_REGION": region,
    }
    return {
        "bucket": env["BUCKET"],
        "bucket_queue": env["BUCKET_QUEUE"],
        "env": env,
        "secret_env_keys": ["BUCKET"],
    }


class MinioApi(object):
    """S3 calls (boto3) and admin calls (MinioAdmin), each tied to the permission it needs."""

    def __init__(self, endpoint_url, access_key, secret_key, region):
        from minio.credentials import StaticProvider
        from minio.minioadmin import MinioAdmin

        parts = urlsplit(endpoint_url)
        self.endpoint_url = endpoint_url
        self.region = region
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"})
        self._config = config
        self.s3 = self.s3_client(access_key, secret_key)
        self.admin = MinioAdmin(
            endpoint=parts.netloc,
            credentials=StaticProvider(access_key, secret_key),
            region=region,
            secure=parts.scheme == "https",
        )

    def s3_client(self, access_key, secret_key):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=self._config,
        )

    def s3_call(self, operation, permission, bucket, missing=(), client=None, **kwargs):
        try:
            return getattr(client or self.s3, operation)(**kwargs)
        except ClientError as exc:
            if missing and is_error_code(exc, missing):
                return None
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise api_error(
                operation, permission, bucket_arn(bucket), status, error.get("Code"), error.get("Message")
            ) from exc
        except BotoCoreError as exc:
            raise FileStorageError("%s on %s failed: %s" % (operation, bucket_arn(bucket), exc)) from exc

    def admin_call(self, operation, permission, resource, missing=(), **kwargs):
        from minio.error import MinioAdminException

        try:
            return getattr(self.admin, operation)(**kwargs)
        except MinioAdminException as exc:
            status = int(exc._code) if str(exc._code).isdigit() else None
            try:
                body = json.loads(exc._body or "{}")
            except ValueError:
                body = {"Message": exc._body}
            code = body.get("Code")
            if code in missing:
                return None
            raise api_error(operation, permission, resource, status, code, body.get("Message")) from exc
        except Exception as exc:  # urllib3 connection errors and the like
            raise FileStorageError("MinIO admin %s on %s failed: %s" % (operation, resource, exc)) from exc


class MinioStorage(FileStorageProvider):
    def __init__(self, params, changes, api=None):
        super(MinioStorage, self).__init__(params, changes)
        self.bucket = params["name"]
        self.endpoint_url = (params.get("endpoint_url") or "").rstrip("/")
        self.region = params.get("region") or "us-east-1"
        self.host = params.get("host")
        admin_key = params.get("access_key") or os.environ.get("MINIO_ROOT_USER")
        admin_secret = params.get("secret_key") or os.environ.get("MINIO_ROOT_PASSWORD")
        if not admin_key or not admin_secret:
            raise FileStorageError(
                "provider minio needs access_key and secret_key of a MinIO admin (or MINIO_ROOT_USER/PASSWORD)"
            )
        self.api = api or MinioApi(self.endpoint_url, admin_key, admin_secret, self.region)
        self.user = user_name(self.bucket)
        self.policy = policy_name(self.bucket)
        self.user_secret = derive_secret(admin_secret, self.endpoint_url, self.bucket)
        changes.note(CORS_NOTE)
        changes.note(QUEUE_NOTE)

    def _bucket_exists(self):
        try:
            self.api.s3_call("head_bucket", "s3:ListBucket", self.bucket, Bucket=self.bucket)
            return True
        except FileStorageError as exc:
            if is_error_code(exc.__cause__, NO_BUCKET):
                return False
            raise

    def present(self):
        if not self._bucket_exists():
            self.changes.record("create bucket %s" % self.bucket, "bucket", None, self.bucket)
            if self.changes.apply:
                self.api.s3_call("create_bucket", "s3:CreateBucket", self.bucket, Bucket=self.bucket)
        self._ensure_policy()
        self._ensure_user()

    def _policy_info(self):
        """The bucket policy as MinIO returns it, or None when it does not exist."""
        return self.api.admin_call(
            "policy_info",
            "admin:GetPolicy",
            "policy %s" % self.policy,
            missing=("XMinioAdminNoSuchPolicy",),
            policy_name=self.policy,
        )

    def _ensure_policy(self):
        desired = bucket_policy(self.bucket)
        info = self._policy_info()
        current = parse_policy_info(info) if info else None
        if current is not None and _norm_policy(current) == _norm_policy(desired):
            return
        self.changes.record(
            "%s policy %s (s3:* on bucket %s only)" % ("update" if current else "create", self.policy, self.bucket),
            "policy",
            current,
            desired,
        )
        if self.changes.apply:
            self.api.admin_call(
                "policy_add", "admin:CreatePolicy", "policy %s" % self.policy, policy_name=self.policy, policy=desired
            )

    def _user_info(self):
        return self.api.admin_call(
            "user_info",
            "admin:GetUser",
            "user %s" % self.user,
            missing=("XMinioAdminNoSuchUser",),
            access_key=self.user,
        )

    def _secret_works(self):
        client = self.api.s3_client(self.user, self.user_secret)
        try:
            client.head_bucket(Bucket=self.bucket)
            return True
        except ClientError as exc:
            if is_error_code(exc, ("InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "AccessDenied")):
                return False
            raise

    def _ensure_user(self):
        info = self._user_info()
        if info is None:
            self.changes.record("create user %s for bucket %s" % (self.user, self.bucket), "user", None, self.user)
            if self.changes.apply:
                self.api.admin_call(
                    "user_add",
                    "admin:CreateUser",
                    "user %s" % self.user,
                    access_key=self.user,
                    secret_key=self.user_secret,
                )
            policies, status = [], "enabled"
        else:
            policies, status = policies_of(info)
        if status and status != "enabled":
            self.changes.record("enable user %s" % self.user, "user_status", status, "enabled")
            if self.changes.apply:
                self.api.admin_call("user_enable", "admin:EnableUser", "user %s" % self.user, access_key=self.user)
        if self.policy not in policies:
            self.changes.record(
                "attach policy %s to user %s" % (self.policy, self.user),
                "user_policies",
                policies,
                [*policies, self.policy],
            )
            if self.changes.apply:
                self.api.admin_call(
                    "attach_policy",
                    "admin:AttachUserOrGroupPolicy",
                    "user %s" % self.user,
                    policies=[self.policy],
                    user=self.user,
                )
        others = [p for p in policies if p != self.policy]
        if others:
            self.changes.warn(
                "user %s also has policies %s, which may reach beyond bucket %s"
                % (self.user, ", ".join(others), self.bucket)
            )
        if info is not None and self.changes.apply and not self._secret_works():
            self.changes.record(
                "reset the secret key of user %s (it no longer matched the key derived from the admin credentials)"
                % self.user,
                "user_secret",
                "(differs)",
                "(derived)",
            )
            self.api.admin_call(
                "user_add", "admin:CreateUser", "user %s" % self.user, access_key=self.user, secret_key=self.user_secret
            )

    def absent(self, force=False):
        info = self._user_info()
        if info is not None:
            self.changes.record("delete user %s" % self.user, "user", self.user, None)
            if self.changes.apply:
                self.api.admin_call("user_remove", "admin:DeleteUser", "user %s" % self.user, access_key=self.user)
        policy = self._policy_info()
        if policy:
            self.changes.record("delete policy %s" % self.policy, "policy", parse_policy_info(policy), None)
            if self.changes.apply:
                self.api.admin_call(
                    "policy_remove", "admin:DeletePolicy", "policy %s" % self.policy, policy_name=self.policy
                )
        if self._bucket_exists():
            self._delete_bucket(force)

    def _delete_bucket(self, force):
        listing = self.api.s3_call("list_objects_v2", "s3:ListBucket", self.bucket, Bucket=self.bucket, MaxKeys=1000)
        keys = [{"Key": o["Key"]} for o in listing.get("Contents") or []]
        if keys and not force:
            self.changes.warn(
                "bucket %s is not empty: kept; set force: true to delete it and every object in it" % self.bucket
            )
            return
        if keys:
            self.changes.record("delete every object in bucket %s (force)" % self.bucket, "objects", "objects", None)
            while keys and self.changes.apply:
                self.api.s3_call(
                    "delete_objects",
                    "s3:DeleteObject",
                    self.bucket,
                    Bucket=self.bucket,
                    Delete={"Objects": keys, "Quiet": True},
                )
                listing = self.api.s3_call(
                    "list_objects_v2", "s3:ListBucket", self.bucket, Bucket=self.bucket, MaxKeys=1000
                )
                keys = [{"Key": o["Key"]} for o in listing.get("Contents") or []]
        self.changes.record("delete bucket %s" % self.bucket, "bucket", self.bucket, None)
        if self.changes.apply:
            self.api.s3_call("delete_bucket", "s3:DeleteBucket", self.bucket, Bucket=self.bucket)

    def verify(self, timeout=60):
        if not HAS_REQUESTS:
            raise FileStorageError("verify needs the Python library requests")
        # Everything runs with the generated user's key: that is the key the W&B server gets.
        client = self.api.s3_client(self.user, self.user_secret)
        key = "%s%s" % (PROBE_PREFIX, uuid.uuid4().hex)
        body = b"wandb_local.fleet file_storage probe"
        origin = cors_origin(self.host)
        state = {}

        def put_probe():
            self.api.s3_call(
                "put_object", "s3:PutObject", self.bucket, client=client, Bucket=self.bucket, Key=key, Body=body
            )
            state["put"] = True
            return "user %s wrote s3://%s/%s" % (self.user, self.bucket, key)

        def notification():
            return ("skipped", "MinIO uses internal:// (no queue)")

        def cors():
            url = "%s/%s/%s-upload" % (self.endpoint_url, self.bucket, key)
            try:
                return check_preflight(requests.request, url, origin, "PUT")
            except FileStorageError as exc:
                exc.msg += (
                    "; MinIO's CORS is server-wide: set MINIO_API_CORS_ALLOW_ORIGIN on the server to include %s"
                    % origin
                )
                raise

        def presigned():
            url = client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=300)
            resp = requests.get(url, timeout=30)
            if resp.status_code != 200 or resp.content != body:
                raise FileStorageError("GET of a pre-signed URL for the probe answered HTTP %s" % resp.status_code)
            return "pre-signed GET returned the probe (HTTP 200)"

        def delete_probe():
            if not state.get("put"):
                return ("skipped", "no probe was written")
            self.api.s3_call(
                "delete_object", "s3:DeleteObject", self.bucket, client=client, Bucket=self.bucket, Key=key
            )
            return "deleted the probe"

        return verify_probe(put_probe, notification, cors, presigned, delete_probe)

    def outputs(self):
        return outputs(self.user, self.user_secret, self.endpoint_url, self.bucket, self.region)
