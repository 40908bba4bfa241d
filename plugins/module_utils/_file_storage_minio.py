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
import shutil
import subprocess
import tempfile
import uuid
from urllib.parse import quote, urlsplit

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

    # The S3 side as the provider uses it (the mc client below offers the same methods).
    def bucket_exists(self, bucket):
        try:
            self.s3_call("head_bucket", "s3:ListBucket", bucket, Bucket=bucket)
            return True
        except FileStorageError as exc:
            if is_error_code(exc.__cause__, NO_BUCKET):
                return False
            raise

    def create_bucket(self, bucket):
        self.s3_call("create_bucket", "s3:CreateBucket", bucket, Bucket=bucket)

    def credentials_work(self, access_key, secret_key, bucket):
        client = self.s3_client(access_key, secret_key)
        try:
            client.head_bucket(Bucket=bucket)
            return True
        except ClientError as exc:
            if is_error_code(exc, ("InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "AccessDenied")):
                return False
            raise

    def list_keys(self, bucket):
        listing = self.s3_call("list_objects_v2", "s3:ListBucket", bucket, Bucket=bucket, MaxKeys=1000)
        return [o["Key"] for o in listing.get("Contents") or []]

    def delete_keys(self, bucket, keys):
        self.s3_call(
            "delete_objects",
            "s3:DeleteObject",
            bucket,
            Bucket=bucket,
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
        )

    def delete_bucket(self, bucket):
        self.s3_call("delete_bucket", "s3:DeleteBucket", bucket, Bucket=bucket)


# What MinIO answers a key that may not do something, or a wrong key: a permission to name.
DENIED_CODES = ("AccessDenied", "XMinioAccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId")


def _mc_error(lines):
    """(code, message) of the error mc printed as JSON lines: the first error code any line carries
    (a missing bucket has none, only its words), and the last line's message."""
    errors = [line.get("error") or {} for line in lines if line.get("status") == "error"]
    if not errors:
        return None, None
    code = message = None
    for error in errors:
        cause = error.get("cause") or {}
        detail = cause.get("error") if isinstance(cause.get("error"), dict) else {}
        if detail.get("Code") and not code:
            code, message = detail["Code"], cause.get("message") or error.get("message")
    if code:
        return code, message
    words = " ".join(str((e.get("cause") or {}).get("message") or e.get("message") or "") for e in errors)
    last = errors[-1]
    message = (last.get("cause") or {}).get("message") or last.get("message")
    return ("NoSuchBucket" if "does not exist" in words else None), message


def _run_mc(argv, env, stdin):
    # argv is mc's path (a module option) and arguments the client composes, never a shell line.
    proc = subprocess.run(  # noqa: S603
        argv, input=stdin, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


class McApi(object):
    """The same calls as MinioApi, made with MinIO's own client `mc` (O(mc_path)), for hosts without the
    Python libraries: the collection's minio role runs the module on a MinIO node, where mc is installed.

    Credentials reach mc through MC_HOST_<alias> in its environment, a secret key it sets through its
    standard input, never on a command line; mc's messages are returned with every secret masked.
    """

    ALIAS = "fleet"

    def __init__(self, mc_path, endpoint_url, access_key, secret_key, region, ca_file=None, run_mc=None):
        self.mc_path = mc_path
        self.endpoint_url = endpoint_url
        self.region = region
        self.ca_file = ca_file
        self._keys = {self.ALIAS: (access_key, secret_key)}
        self._secrets = [secret_key]
        self._run = run_mc or _run_mc

    def _alias_url(self, access_key, secret_key):
        parts = urlsplit(self.endpoint_url)
        return "%s://%s:%s@%s" % (parts.scheme, quote(access_key, safe=""), quote(secret_key, safe=""), parts.netloc)

    def _mask(self, text):
        for secret in sorted(set(s for s in self._secrets if s), key=len, reverse=True):
            text = text.replace(secret, "********")
        return text

    def mc(self, args, alias=ALIAS, stdin=None):
        """Run mc; return its exit code and the JSON lines it printed."""
        config_dir = tempfile.mkdtemp(prefix="wandb-fleet-mc-")
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("MC_HOST_"))
        access_key, secret_key = self._keys[alias]
        env["MC_HOST_%s" % alias] = self._alias_url(access_key, secret_key)
        if self.ca_file:
            env["SSL_CERT_FILE"] = self.ca_file
        argv = [self.mc_path, "--config-dir", config_dir, "--json", "--no-color", "--quiet", *args]
        try:
            rc, stdout, stderr = self._run(argv, env, stdin)
        except (OSError, subprocess.SubprocessError) as exc:
            raise FileStorageError("could not run %s: %s" % (self.mc_path, self._mask(str(exc)))) from None
        finally:
            shutil.rmtree(config_dir, ignore_errors=True)
        lines = []
        for text in stdout.splitlines():
            try:
                lines.append(json.loads(text))
            except ValueError:
                if text.strip():
                    lines.append({"status": "error", "error": {"message": text.strip()}})
        if rc != 0 and not any(line.get("status") == "error" for line in lines):
            lines.append({"status": "error", "error": {"message": (stderr or "mc exited %d" % rc).strip()}})
        return rc, lines

    def _call(self, operation, permission, resource, args, missing=(), stdin=None, alias=ALIAS):
        rc, lines = self.mc(args, alias=alias, stdin=stdin)
        if rc == 0:
            return lines
        code, message = _mc_error(lines)
        if code in missing:
            return None
        status = 403 if code in DENIED_CODES else None
        raise api_error(operation, permission, resource, status, code, self._mask(message or "mc failed"))

    def admin_call(self, operation, permission, resource, missing=(), **kwargs):
        target = self.ALIAS
        if operation == "policy_info":
            lines = self._call(
                operation, permission, resource, ["admin", "policy", "info", target, kwargs["policy_name"]], missing
            )
            return None if lines is None else json.dumps((lines[-1] if lines else {}).get("policyInfo") or {})
        if operation == "policy_add":
            handle, path = tempfile.mkstemp(prefix="wandb-fleet-policy-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(kwargs["policy"], out)
                args = ["admin", "policy", "create", target, kwargs["policy_name"], path]
                return self._call(operation, permission, resource, args, missing)
            finally:
                os.unlink(path)
        if operation == "user_info":
            lines = self._call(
                operation, permission, resource, ["admin", "user", "info", target, kwargs["access_key"]], missing
            )
            if lines is None:
                return None
            info = lines[-1] if lines else {}
            return json.dumps({"policyName": info.get("policyName") or "", "status": info.get("userStatus")})
        if operation == "user_add":
            self._secrets.append(kwargs["secret_key"])
            stdin = "%s\n%s\n" % (kwargs["access_key"], kwargs["secret_key"])
            self._call(operation, permission, resource, ["admin", "user", "add", target], missing, stdin=stdin)
            return None
        simple = {
            "user_enable": ["admin", "user", "enable", target, kwargs.get("access_key")],
            "user_remove": ["admin", "user", "remove", target, kwargs.get("access_key")],
            "policy_remove": ["admin", "policy", "remove", target, kwargs.get("policy_name")],
        }
        if operation in simple:
            return self._call(operation, permission, resource, simple[operation], missing)
        if operation in ("attach_policy", "detach_policy"):
            verb = operation.split("_")[0]
            args = ["admin", "policy", verb, target, *kwargs["policies"], "--user", kwargs["user"]]
            return self._call(operation, permission, resource, args, missing)
        raise FileStorageError("mc client: unknown admin call %s" % operation)

    def bucket_exists(self, bucket):
        args = ["stat", "%s/%s" % (self.ALIAS, bucket)]
        return self._call("stat", "s3:ListBucket", bucket_arn(bucket), args, NO_BUCKET) is not None

    def create_bucket(self, bucket):
        self._call("mb", "s3:CreateBucket", bucket_arn(bucket), ["mb", "%s/%s" % (self.ALIAS, bucket)])

    def credentials_work(self, access_key, secret_key, bucket):
        self._keys["user"] = (access_key, secret_key)
        self._secrets.append(secret_key)
        rc, lines = self.mc(["ls", "user/%s" % bucket], alias="user")
        if rc == 0:
            return True
        code, message = _mc_error(lines)
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
            return False
        raise api_error("ls", "s3:ListBucket", bucket_arn(bucket), None, code, self._mask(message or "mc failed"))

    def list_keys(self, bucket):
        args = ["ls", "--recursive", "%s/%s" % (self.ALIAS, bucket)]
        lines = self._call("ls", "s3:ListBucket", bucket_arn(bucket), args)
        return [line["key"] for line in lines if line.get("status") == "success" and line.get("key")][:1000]

    def delete_keys(self, bucket, keys):
        # mc deletes a whole prefix in one call; the provider lists again afterwards.
        args = ["rm", "--recursive", "--force", "%s/%s" % (self.ALIAS, bucket)]
        self._call("rm", "s3:DeleteObject", bucket_arn(bucket), args)

    def delete_bucket(self, bucket):
        self._call("rb", "s3:DeleteBucket", bucket_arn(bucket), ["rb", "%s/%s" % (self.ALIAS, bucket)])


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
        if api is None and params.get("mc_path"):
            ca_file = params.get("ca_file")
            api = McApi(params["mc_path"], self.endpoint_url, admin_key, admin_secret, self.region, ca_file)
        elif api is None and params.get("ca_file"):
            raise FileStorageError("ca_file is used only with mc_path")
        self.api = api or MinioApi(self.endpoint_url, admin_key, admin_secret, self.region)
        self.user = params.get("user") or user_name(self.bucket)
        self.policy = policy_name(self.bucket)
        self.secret_given = bool(params.get("user_secret_key"))
        self.user_secret = params.get("user_secret_key") or derive_secret(admin_secret, self.endpoint_url, self.bucket)
        self.exclusive_policy = bool(params.get("exclusive_policy"))
        if self.user == admin_key:
            raise FileStorageError("user %s is the admin access key: W&B needs a user of its own" % self.user)
        if not 8 <= len(self.user_secret) <= 40:
            raise FileStorageError("user_secret_key must be 8 to 40 characters (MinIO's limits)")
        changes.note(CORS_NOTE)
        changes.note(QUEUE_NOTE)

    def _bucket_exists(self):
        return self.api.bucket_exists(self.bucket)

    def present(self):
        self._bucket_existed = self._bucket_exists()
        if not self._bucket_existed:
            self.changes.record("create bucket %s" % self.bucket, "bucket", None, self.bucket)
            if self.changes.apply:
                self.api.create_bucket(self.bucket)
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
        return self.api.credentials_work(self.user, self.user_secret, self.bucket)

    def _put_user(self):
        # MinIO's AddUser creates the user, or sets the secret key of one that exists.
        self.api.admin_call(
            "user_add", "admin:CreateUser", "user %s" % self.user, access_key=self.user, secret_key=self.user_secret
        )

    def _ensure_user(self):
        info = self._user_info()
        if info is None:
            self.changes.record("create user %s for bucket %s" % (self.user, self.bucket), "user", None, self.user)
            if self.changes.apply:
                self._put_user()
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
        if others and self.exclusive_policy:
            self.changes.record(
                "detach policies %s from user %s (its only policy is %s)" % (", ".join(others), self.user, self.policy),
                "user_policies",
                policies,
                [self.policy],
            )
            if self.changes.apply:
                self.api.admin_call(
                    "detach_policy",
                    "admin:AttachUserOrGroupPolicy",
                    "user %s" % self.user,
                    policies=others,
                    user=self.user,
                )
        elif others:
            self.changes.warn(
                "user %s also has policies %s, which may reach beyond bucket %s"
                % (self.user, ", ".join(others), self.bucket)
            )
        # The key is tried once it can work: after the changes above, or (check mode) when nothing was
        # missing that it needs, so --check tells a secret that no longer signs requests too.
        ready = self.changes.apply or (
            getattr(self, "_bucket_existed", True) and status in (None, "enabled") and self.policy in policies
        )
        if info is not None and ready and not self._secret_works():
            self.changes.record(
                "reset the secret key of user %s (it no longer matched %s)"
                % (self.user, "user_secret_key" if self.secret_given else "the key derived from the admin credentials"),
                "user_secret",
                "(differs)",
                "(derived)",
            )
            if self.changes.apply:
                self._put_user()

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
        keys = self.api.list_keys(self.bucket)
        if keys and not force:
            self.changes.warn(
                "bucket %s is not empty: kept; set force: true to delete it and every object in it" % self.bucket
            )
            return
        if keys:
            self.changes.record("delete every object in bucket %s (force)" % self.bucket, "objects", "objects", None)
            while keys and self.changes.apply:
                self.api.delete_keys(self.bucket, keys)
                keys = self.api.list_keys(self.bucket)
        self.changes.record("delete bucket %s" % self.bucket, "bucket", self.bucket, None)
        if self.changes.apply:
            self.api.delete_bucket(self.bucket)

    def verify(self, timeout=60):
        if not HAS_REQUESTS:
            raise FileStorageError("verify needs the Python library requests")
        if isinstance(self.api, McApi):
            raise FileStorageError("verify needs the Python libraries boto3 and minio: it does not run with mc_path")
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
