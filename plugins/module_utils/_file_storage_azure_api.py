# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Azure: the cloud, the credential, and the management and data plane clients.

Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import traceback

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import FileStorageError, api_error

# Only the exceptions are imported here; the SDK clients and models are imported where they are
# used, so that a run for another provider does not pay a second for loading them.
SDK_PACKAGES = (
    "azure.identity",
    "azure.mgmt.storage",
    "azure.mgmt.eventgrid",
    "azure.storage.blob",
    "azure.storage.queue",
)
try:
    from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

    MISSING = [name for name in SDK_PACKAGES if importlib.util.find_spec(name) is None]
    HAS_AZURE = not MISSING
    IMPORT_TRACEBACK = None if HAS_AZURE else "missing Python packages: %s" % ", ".join(MISSING)
except ImportError:
    HAS_AZURE = False
    IMPORT_TRACEBACK = traceback.format_exc()
    AzureError = HttpResponseError = ResourceNotFoundError = None

try:
    import requests
except ImportError:  # resolve_cloud needs it only for a cloud given by its metadata URL
    requests = None

# Known clouds: Resource Manager endpoint and Entra ID authority host.
CLOUDS = {
    "AzureCloud": ("https://management.azure.com/", "https://login.microsoftonline.com/"),
    "AzurePublicCloud": ("https://management.azure.com/", "https://login.microsoftonline.com/"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn/"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net/", "https://login.microsoftonline.us/"),
}


def resolve_cloud(cloud_environment, http_get=None):
    """(Resource Manager URL, authority host, token scope) for a cloud name or a metadata endpoint URL."""
    name = cloud_environment or "AzureCloud"
    if name in CLOUDS:
        arm, login = CLOUDS[name]
        return arm, login, arm.rstrip("/") + "/.default"
    if not name.startswith("https://") and not name.startswith("http://"):
        raise FileStorageError(
            "cloud_environment must be one of %s or the https:// URL of a Resource Manager, not %r"
            % (", ".join(sorted(CLOUDS)), name)
        )
    http_get = http_get or requests.get
    url = name.rstrip("/") + "/metadata/endpoints?api-version=2022-09-01"
    try:
        resp = http_get(url, timeout=30)
        resp.raise_for_status()
        data = resp.json()
    except Exception as exc:  # any failure to read the metadata is reported the same way
        raise FileStorageError("could not read the Azure cloud metadata at %s: %s" % (url, exc)) from exc
    if isinstance(data, list):
        matching = [c for c in data if (c.get("resourceManager") or "").rstrip("/") == name.rstrip("/")]
        data = (matching or data)[0]
    auth = data.get("authentication") or {}
    arm = data.get("resourceManager") or name
    audiences = auth.get("audiences") or [arm]
    login = auth.get("loginEndpoint")
    if not login:
        raise FileStorageError("the Azure cloud metadata at %s names no authentication.loginEndpoint" % url)
    return arm, login, audiences[0].rstrip("/") + "/.default"


def build_credential(params, authority):
    from azure.identity import (
        AzureCliCredential,
        ClientSecretCredential,
        DefaultAzureCredential,
        EnvironmentCredential,
        ManagedIdentityCredential,
    )

    kwargs = {"authority": authority}
    if params.get("disable_instance_discovery"):
        kwargs["disable_instance_discovery"] = True
    if params.get("client_id") and params.get("secret") and params.get("tenant"):
        return ClientSecretCredential(params["tenant"], params["client_id"], params["secret"], **kwargs)
    source = params.get("auth_source") or "auto"
    if source == "env":
        return EnvironmentCredential(**kwargs)
    if source == "cli":
        return AzureCliCredential()
    if source == "msi":
        return ManagedIdentityCredential(client_id=params.get("client_id"))
    return DefaultAzureCredential(exclude_interactive_browser_credential=True, **kwargs)


class AzureApi(object):
    """Management and data plane clients; every call names the Azure RBAC action it needs."""

    def __init__(self, params):
        from azure.mgmt.eventgrid import EventGridManagementClient
        from azure.mgmt.storage import StorageManagementClient

        arm, authority, scope = resolve_cloud(params.get("cloud_environment"))
        self.credential = build_credential(params, authority)
        self.subscription_id = params["subscription_id"]
        common = {"base_url": arm, "credential_scopes": [scope]}
        self.storage = StorageManagementClient(self.credential, self.subscription_id, **common)
        self.eventgrid = EventGridManagementClient(self.credential, self.subscription_id, **common)
        self.blob = None
        self.queue = None

    def connect_data_plane(self, blob_url, queue_url, account, key):
        from azure.storage.blob import BlobServiceClient
        from azure.storage.queue import QueueServiceClient

        cred = {"account_name": account, "account_key": key}
        self.blob = BlobServiceClient(account_url=blob_url.rstrip("/"), credential=cred)
        self.queue = QueueServiceClient(account_url=queue_url.rstrip("/"), credential=cred)

    def call(self, fn, action, permission, resource, missing=False, **kwargs):
        try:
            result = fn(**kwargs)
            if hasattr(result, "result") and hasattr(result, "done"):  # long-running operation poller
                result = result.result()
            return result
        except ResourceNotFoundError:
            if missing:
                return None
            raise FileStorageError("%s: %s not found" % (action, resource)) from None
        except HttpResponseError as exc:
            code = getattr(exc, "error_code", None) or getattr(getattr(exc, "error", None), "code", None)
            status = getattr(exc, "status_code", None)
            raise api_error(action, permission, resource, status, code, exc.message) from exc
        except AzureError as exc:
            raise FileStorageError("%s on %s failed: %s" % (action, resource, exc)) from exc
