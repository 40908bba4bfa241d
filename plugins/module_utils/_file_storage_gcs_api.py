# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Google Cloud: credentials, and the calls, each tied to the IAM permission it needs.

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
from urllib.parse import quote

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import FileStorageError, api_error

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
