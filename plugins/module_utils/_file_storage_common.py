# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provider-neutral pieces of the file_storage module.

Private to this collection: the interface may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import time
from urllib.parse import quote, urlsplit

# The W&B web app uploads with PUT, reads with GET and checks existence with HEAD; it reads the
# ETag of multipart parts, so ETag must be exposed to the browser.
CORS_METHODS = ("GET", "PUT", "HEAD")
CORS_ALLOWED_HEADERS = ("*",)
CORS_EXPOSE_HEADERS = ("ETag",)
CORS_MAX_AGE = 3000

# Names the module gives to the things it owns inside shared configurations (notification lists,
# policy statements): re-runs find and replace them instead of adding duplicates.
OWNER_ID = "wandb-local-fleet"
PROBE_PREFIX = "wandb-fleet-probe/"

# Error codes that mean "the caller lacks a permission", across the providers' APIs.
PERMISSION_CODES = frozenset(
    (
        "AccessDenied",
        "AccessDeniedException",
        "AllAccessDisabled",
        "AuthorizationFailed",
        "AuthorizationFailure",
        "AuthorizationPermissionMismatch",
        "AuthorizationResourceTypeMismatch",
        "Forbidden",
        "InsufficientAccountPermissions",
        "LinkedAuthorizationFailed",
        "PERMISSION_DENIED",
        "UnauthorizedOperation",
        "XMinioAdminNotAllowed",
        "forbidden",
        "insufficientPermissions",
    )
)


class FileStorageError(Exception):
    """An error to report to the user as is; `step` names the verification step that broke."""

    def __init__(self, msg, step=None, details=None):
        super(FileStorageError, self).__init__(msg)
        self.msg = msg
        self.step = step
        self.details = details or {}


class PermissionDeniedError(FileStorageError):
    def __init__(self, permission, resource, provider_message=None, step=None):
        msg = "missing permission %s on resource %s" % (permission, resource)
        if provider_message:
            msg += " (provider said: %s)" % provider_message
        super(PermissionDeniedError, self).__init__(msg, step=step)
        self.permission = permission
        self.resource = resource


def api_error(action, permission, resource, status=None, code=None, message=None, step=None):
    """Turn one failed API call into the error the user sees.

    A permission failure names the permission and the resource, because that is what the
    caller has to add to their role; anything else says which call failed and why.
    """
    if status in (401, 403) or (code is not None and code in PERMISSION_CODES):
        return PermissionDeniedError(permission, resource, provider_message=message or code, step=step)
    detail = ", ".join(str(p) for p in (status, code) if p not in (None, ""))
    msg = "%s on %s failed" % (action, resource)
    if detail:
        msg += " (%s)" % detail
    if message:
        msg += ": %s" % message
    return FileStorageError(msg, step=step)


class Changes(object):
    """What a run changed (or, in check mode, would change), for `changes`, `changed` and diff."""

    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.actions = []
        self.before = {}
        self.after = {}
        self.notes = []
        self.warnings = []

    def record(self, action, key=None, before=None, after=None):
        self.actions.append(action)
        if key is not None:
            # The first 'before' is the state at the start of the run; later records only move 'after'.
            self.before.setdefault(key, copy.deepcopy(before))
            self.after[key] = copy.deepcopy(after)

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def warn(self, text):
        if text not in self.warnings:
            self.warnings.append(text)

    @property
    def changed(self):
        return bool(self.actions)

    @property
    def apply(self):
        """True when changes must really be made."""
        return not self.check_mode

    def diff(self):
        return {"before": self.before, "after": self.after}


def cors_origin(host):
    """The CORS origin of the W&B HOST URL: scheme://host[:port], no path, no trailing slash."""
    if not host:
        raise FileStorageError("host is required: it is the W&B HOST URL, used as the CORS origin")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FileStorageError(
            "host must be the W&B HOST URL with its scheme, e.g. https://wandb.example.net, not %r" % host
        )
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    default_port = {"http": ":80", "https": ":443"}[parts.scheme]
    if netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    return "%s://%s" % (parts.scheme, netloc)


def cors_rule(host):
    """The one CORS rule W&B needs, in a provider-neutral shape."""
    return {
        "origins": [cors_origin(host)],
        "methods": list(CORS_METHODS),
        "allowed_headers": list(CORS_ALLOWED_HEADERS),
        "expose_headers": list(CORS_EXPOSE_HEADERS),
        "max_age": CORS_MAX_AGE,
    }


def normalize(value):
    """Order-insensitive canonical form of JSON-like data, to compare desired and actual state."""
    if isinstance(value, dict):
        return dict((k, normalize(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        items = [normalize(v) for v in value]
        try:
            return sorted(items, key=_sort_key)
        except TypeError:  # mixed incomparable types keep their order
            return items
    return value


def _sort_key(value):
    return json.dumps(value, sort_keys=True, default=str)


def url_quote(value):
    """Percent-encode a credential for the userinfo part of a W&B BUCKET URL."""
    return quote(value or "", safe="")


def minio_bucket_url(access_key, secret_key, endpoint_url, bucket):
    """BUCKET for an S3-compatible store: s3://AK:SK@HOST:PORT/BUCKET (?tls=true over HTTPS)."""
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FileStorageError("endpoint_url must be http(s)://HOST[:PORT], not %r" % endpoint_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    if ":" in host:
        host = "[%s]" % host
    url = "s3://%s:%s@%s:%d/%s" % (url_quote(access_key), url_quote(secret_key), host, port, bucket)
    if parts.scheme == "https":
        url += "?tls=true"
    return url


def pubsub_queue_url(project, topic, subscription):
    # One slash after the scheme: that is the form W&B parses.
    return "pubsub:/%s/%s/%s" % (project, topic, subscription)


def wait_until(probe, timeout, interval=1.0, clock=time.monotonic, sleep=time.sleep):
    """Call probe() until it returns a true value or `timeout` seconds pass; return its last value."""
    deadline = clock() + timeout
    while True:
        value = probe()
        if value or clock() >= deadline:
            return value
        sleep(interval)


def check_preflight(http_get, url, origin, method="PUT", step="cors"):
    """Send a CORS preflight the way a browser would and check that the origin may `method`.

    `http_get` is requests' `request` function (or a stand-in in tests).
    """
    try:
        resp = http_get(
            "OPTIONS",
            url,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=30,
        )
    except Exception as exc:  # any transport failure is this step's failure
        raise FileStorageError("CORS preflight to %s failed: %s" % (url, exc), step=step) from exc
    allow_origin = resp.headers.get("Access-Control-Allow-Origin")
    allow_methods = [m.strip().upper() for m in (resp.headers.get("Access-Control-Allow-Methods") or "").split(",")]
    if resp.status_code >= 400 or allow_origin not in (origin, "*"):
        raise FileStorageError(
            "CORS preflight from origin %s was refused (HTTP %s, Access-Control-Allow-Origin: %s): "
            "the CORS rule for the W&B host is missing or wrong" % (origin, resp.status_code, allow_origin),
            step=step,
        )
    if method not in allow_methods and "*" not in allow_methods:
        raise FileStorageError(
            "CORS preflight from origin %s does not allow %s (allowed: %s)"
            % (origin, method, ", ".join(m for m in allow_methods if m)),
            step=step,
        )
    return "origin %s may %s (HTTP %s)" % (origin, method, resp.status_code)


class VerifyLog(object):
    """The steps of `verify: true`, in order, each with what it saw."""

    def __init__(self):
        self.steps = []

    def ok(self, step, detail):
        self.steps.append({"step": step, "status": "ok", "detail": detail})

    def skipped(self, step, detail):
        self.steps.append({"step": step, "status": "skipped", "detail": detail})

    def failed(self, step, detail):
        self.steps.append({"step": step, "status": "failed", "detail": detail})


def run_verify(steps, log=None):
    """Run (name, fn) pairs in order; the first failure names its step and stops the run.

    `fn` returns a detail string, or raises FileStorageError. Cleanup steps (named 'delete-probe')
    still run after a failure so a failed verification leaves no probe object behind.
    """
    log = log or VerifyLog()
    failure = None
    for name, fn in steps:
        if failure is not None and name != "delete-probe":
            continue
        try:
            detail = fn()
        except FileStorageError as exc:
            exc.step = exc.step or name
            log.failed(exc.step, exc.msg)
            if failure is None:
                failure = exc
            continue
        if isinstance(detail, tuple) and detail and detail[0] == "skipped":
            log.skipped(name, detail[1])
        else:
            log.ok(name, detail)
    if failure is not None:
        failure.details["verify"] = log.steps
        failure.msg = "verify failed at step '%s': %s" % (failure.step, failure.msg)
        raise failure
    return log.steps


def verify_probe(put_probe, notification, cors, presigned_url, delete_probe):
    """The end-to-end check every provider runs, in the documented order of its steps."""
    return run_verify(
        [
            ("put-probe", put_probe),
            ("notification", notification),
            ("cors", cors),
            ("presigned-url", presigned_url),
            ("delete-probe", delete_probe),
        ]
    )


def run(storage, params, changes):
    """Apply `state` with a provider object and build the module result (without `diff`)."""
    verify_steps = None
    if params["state"] == "present":
        storage.present()
        if params.get("verify"):
            if changes.check_mode:
                changes.note("verify was not run: check mode writes nothing, and verify writes a probe object")
            else:
                verify_steps = storage.verify(timeout=params.get("verify_timeout") or 60)
    else:
        storage.absent(force=bool(params.get("force")))
    result = {"changed": changes.changed, "changes": list(changes.actions), "notes": list(changes.notes)}
    if params["state"] == "present":
        out = storage.outputs()
        result.update(out)
        result["secret_env_keys"] = sorted(out.get("secret_env_keys", []))
    if verify_steps is not None:
        result["verify"] = verify_steps
    return result
