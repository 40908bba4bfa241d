# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Azure: storage account, private container, CORS, queue, Event Grid subscription.

Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import datetime
import importlib.util
import json
import re
import traceback
import uuid

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    PROBE_PREFIX,
    FileStorageError,
    api_error,
    check_preflight,
    cors_rule,
    normalize,
    verify_probe,
    wait_until,
)

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

    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
EVENT_SCHEMA = "EventGridSchema"
# Known clouds: Resource Manager endpoint and Entra ID authority host.
CLOUDS = {
    "AzureCloud": ("https://management.azure.com/", "https://login.microsoftonline.com/"),
    "AzurePublicCloud": ("https://management.azure.com/", "https://login.microsoftonline.com/"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn/"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net/", "https://login.microsoftonline.us/"),
}
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


class AzureStorage(object):
    def __init__(self, params, changes, api=None):
        self.params = params
        self.changes = changes
        self.container = params["name"]
        self.queue_name = params.get("queue")
        self.account = params["storage_account"]
        self.resource_group = params["resource_group"]
        self.location = params.get("location")
        self.host = params.get("host")
        self.api = api or AzureApi(params)
        self.account_id = account_id(params["subscription_id"], self.resource_group, self.account)
        self.es_name = event_subscription_name(self.container)
        self.key = None

    # helpers ------------------------------------------------------------------------------------
    def _get_account(self):
        return self.api.call(
            self.api.storage.storage_accounts.get_properties,
            "read storage account",
            "Microsoft.Storage/storageAccounts/read",
            self.account_id,
            missing=True,
            resource_group_name=self.resource_group,
            account_name=self.account,
        )

    def _attach(self, account):
        keys = self.api.call(
            self.api.storage.storage_accounts.list_keys,
            "list storage account keys",
            "Microsoft.Storage/storageAccounts/listkeys/action",
            self.account_id,
            resource_group_name=self.resource_group,
            account_name=self.account,
        )
        self.key = keys.keys[0].value
        endpoints = account.primary_endpoints
        self.api.connect_data_plane(endpoints.blob, endpoints.queue, self.account, self.key)

    def _data(self, fn, action, permission, resource, missing=False, **kwargs):
        return self.api.call(fn, action, permission, resource, missing=missing, **kwargs)

    def _container_id(self):
        return self.account_id + "/blobServices/default/containers/" + self.container

    def _queue_id(self):
        return self.account_id + "/queueServices/default/queues/" + self.queue_name

    def _event_subscription_id(self):
        return self.account_id + "/providers/Microsoft.EventGrid/eventSubscriptions/" + self.es_name

    # present ------------------------------------------------------------------------------------
    def present(self):
        if not self.queue_name:
            raise FileStorageError("provider azure needs queue: the storage queue that receives BlobCreated events")
        account = self._get_account()
        if account is None:
            if not self.location:
                raise FileStorageError(
                    "storage account %s does not exist in resource group %s; set location to have it created"
                    % (self.account, self.resource_group)
                )
            self.changes.record(
                "create storage account %s in %s (StorageV2, Standard_LRS, HTTPS only, no public blob access)"
                % (self.account, self.location),
                "storage_account",
                None,
                self.account,
            )
            self.changes.record("create private blob container %s" % self.container, "container", None, self.container)
            self.changes.record(
                "set the Blob service CORS rule for %s" % self.host, "cors", [], merge_cors([], self.host)
            )
            self.changes.record("create storage queue %s" % self.queue_name, "queue", None, self.queue_name)
            desired = desired_event_subscription(self.account_id, self.container, self.queue_name)
            self.changes.record(
                "create Event Grid subscription %s (BlobCreated in %s -> queue %s)"
                % (self.es_name, self.container, self.queue_name),
                "event_subscription",
                None,
                desired,
            )
            if not self.changes.apply:
                return
            account = self._create_account()
            self._attach(account)
            self._ensure_data_plane(record=False)
            self._ensure_event_subscription(record=False)
            return
        self._attach(account)
        self._ensure_data_plane()
        self._ensure_event_subscription()

    def _create_account(self):
        from azure.mgmt.storage import models as st_models

        params = st_models.StorageAccountCreateParameters(
            sku=st_models.Sku(name="Standard_LRS"),
            kind="StorageV2",
            location=self.location,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
        )
        return self.api.call(
            self.api.storage.storage_accounts.begin_create,
            "create storage account",
            "Microsoft.Storage/storageAccounts/write",
            self.account_id,
            resource_group_name=self.resource_group,
            account_name=self.account,
            parameters=params,
        )

    def _ensure_data_plane(self, record=True):
        apply = self.changes.apply
        container = self.api.blob.get_container_client(self.container)
        props = self._container_properties(container)
        if props is None:
            if record:
                self.changes.record(
                    "create private blob container %s" % self.container, "container", None, self.container
                )
            if apply:
                self._data(
                    container.create_container,
                    "create container",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/write",
                    self._container_id(),
                )
        elif props.public_access:
            self.changes.record(
                "make blob container %s private (was public access %s)" % (self.container, props.public_access),
                "container_public_access",
                props.public_access,
                None,
            )
            if apply:
                policy = container.get_container_access_policy()
                self._data(
                    container.set_container_access_policy,
                    "set container access policy",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/write",
                    self._container_id(),
                    signed_identifiers=dict((i.id, i.access_policy) for i in policy.get("signed_identifiers") or []),
                    public_access=None,
                )
        self._ensure_cors(record)
        queue = self.api.queue.get_queue_client(self.queue_name)
        qprops = self._data(
            queue.get_queue_properties,
            "read queue",
            "Microsoft.Storage/storageAccounts/queueServices/queues/read",
            self._queue_id(),
            missing=True,
        )
        if qprops is None:
            if record:
                self.changes.record("create storage queue %s" % self.queue_name, "queue", None, self.queue_name)
            if apply:
                self._data(
                    queue.create_queue,
                    "create queue",
                    "Microsoft.Storage/storageAccounts/queueServices/queues/write",
                    self._queue_id(),
                )

    def _cors_rules(self):
        props = self._data(
            self.api.blob.get_service_properties,
            "read Blob service properties",
            "Microsoft.Storage/storageAccounts/blobServices/read",
            self.account_id + "/blobServices/default",
        )
        return [cors_state(r) for r in props.get("cors") or []]

    def _set_cors(self, states):
        from azure.storage.blob import CorsRule as BlobCorsRule

        rules = [
            BlobCorsRule(
                r["allowed_origins"],
                r["allowed_methods"],
                allowed_headers=r["allowed_headers"],
                exposed_headers=r["exposed_headers"],
                max_age_in_seconds=r["max_age_in_seconds"],
            )
            for r in states
        ]
        self._data(
            self.api.blob.set_service_properties,
            "set Blob service CORS",
            "Microsoft.Storage/storageAccounts/blobServices/write",
            self.account_id + "/blobServices/default",
            cors=rules,
        )

    def _ensure_cors(self, record=True):
        current = self._cors_rules()
        if cors_is_current(current, self.host):
            return
        desired = merge_cors(current, self.host)
        if record:
            self.changes.record(
                "set the Blob service CORS rule for %s (GET, PUT, HEAD; expose ETag; other origins kept)"
                % desired[-1]["allowed_origins"][0],
                "cors",
                current,
                desired,
            )
        if self.changes.apply:
            self._set_cors(desired)

    def _get_event_subscription(self):
        return self.api.call(
            self.api.eventgrid.event_subscriptions.get,
            "read Event Grid subscription",
            "Microsoft.EventGrid/eventSubscriptions/read",
            self._event_subscription_id(),
            missing=True,
            scope=self.account_id,
            event_subscription_name=self.es_name,
        )

    def _ensure_event_subscription(self, record=True):
        desired = desired_event_subscription(self.account_id, self.container, self.queue_name)
        current = event_subscription_state(self._get_event_subscription())
        if event_subscription_matches(current, desired):
            return
        if record:
            self.changes.record(
                "%s Event Grid subscription %s (BlobCreated in %s -> queue %s)"
                % ("update" if current else "create", self.es_name, self.container, self.queue_name),
                "event_subscription",
                current,
                desired,
            )
        if not self.changes.apply:
            return
        from azure.mgmt.eventgrid import models as eg_models

        body = eg_models.EventSubscription(
            destination=eg_models.StorageQueueEventSubscriptionDestination(
                resource_id=self.account_id, queue_name=self.queue_name
            ),
            filter=eg_models.EventSubscriptionFilter(
                included_event_types=[BLOB_CREATED], subject_begins_with=subject_prefix(self.container)
            ),
            event_delivery_schema=EVENT_SCHEMA,
        )
        self.api.call(
            self.api.eventgrid.event_subscriptions.begin_create_or_update,
            "write Event Grid subscription",
            "Microsoft.EventGrid/eventSubscriptions/write",
            self._event_subscription_id(),
            scope=self.account_id,
            event_subscription_name=self.es_name,
            event_subscription_info=body,
        )

    # absent -------------------------------------------------------------------------------------
    def absent(self, force=False):
        account = self._get_account()
        if account is None:
            return
        if self._get_event_subscription() is not None:
            self.changes.record(
                "delete Event Grid subscription %s" % self.es_name, "event_subscription", self.es_name, None
            )
            if self.changes.apply:
                self.api.call(
                    self.api.eventgrid.event_subscriptions.begin_delete,
                    "delete Event Grid subscription",
                    "Microsoft.EventGrid/eventSubscriptions/delete",
                    self._event_subscription_id(),
                    scope=self.account_id,
                    event_subscription_name=self.es_name,
                )
        self._attach(account)
        if self.queue_name:
            queue = self.api.queue.get_queue_client(self.queue_name)
            if (
                self._data(
                    queue.get_queue_properties,
                    "read queue",
                    "Microsoft.Storage/storageAccounts/queueServices/queues/read",
                    self._queue_id(),
                    missing=True,
                )
                is not None
            ):
                self.changes.record("delete storage queue %s" % self.queue_name, "queue", self.queue_name, None)
                if self.changes.apply:
                    self._data(
                        queue.delete_queue,
                        "delete queue",
                        "Microsoft.Storage/storageAccounts/queueServices/queues/delete",
                        self._queue_id(),
                    )
        if self.host:
            current = self._cors_rules()
            origins = desired_cors(self.host)["allowed_origins"]
            remaining = [r for r in current if normalize(r["allowed_origins"]) != normalize(origins)]
            if remaining != current:
                self.changes.record("remove the Blob service CORS rule for %s" % origins[0], "cors", current, remaining)
                if self.changes.apply:
                    self._set_cors(remaining)
        container_gone = self._delete_container(force)
        if container_gone and self.location:
            self._delete_account_if_empty()

    def _container_properties(self, container):
        """The container's properties, or None when it does not exist."""
        return self._data(
            container.get_container_properties,
            "read container",
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            self._container_id(),
            missing=True,
        )

    def _delete_container(self, force):
        container = self.api.blob.get_container_client(self.container)
        props = self._container_properties(container)
        if props is None:
            return True
        blobs = self._data(
            lambda: list(container.list_blobs(results_per_page=1).by_page().next()),
            "list blobs",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            self._container_id(),
        )
        if blobs and not force:
            self.changes.warn(
                "blob container %s is not empty: kept; set force: true to delete it and every blob in it"
                % self.container
            )
            return False
        self.changes.record(
            "delete blob container %s%s" % (self.container, " and every blob in it (force)" if blobs else ""),
            "container",
            self.container,
            None,
        )
        if self.changes.apply:
            self._data(
                container.delete_container,
                "delete container",
                "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
                self._container_id(),
            )
        return True

    def _delete_account_if_empty(self):
        containers = [c.name for c in self.api.blob.list_containers() if c.name != self.container]
        queues = [q.name for q in self.api.queue.list_queues() if q.name != self.queue_name]
        if containers or queues:
            self.changes.warn(
                "storage account %s still holds other containers or queues (%s): kept"
                % (self.account, ", ".join(containers + queues))
            )
            return
        self.changes.record("delete storage account %s" % self.account, "storage_account", self.account, None)
        if self.changes.apply:
            self.api.call(
                self.api.storage.storage_accounts.delete,
                "delete storage account",
                "Microsoft.Storage/storageAccounts/delete",
                self.account_id,
                resource_group_name=self.resource_group,
                account_name=self.account,
            )

    # verify -------------------------------------------------------------------------------------
    def verify(self, timeout=60):
        if not HAS_REQUESTS:
            raise FileStorageError("verify needs the Python library requests")
        key = "%s%s" % (PROBE_PREFIX, uuid.uuid4().hex)
        body = b"wandb_local.fleet file_storage probe"
        blob = self.api.blob.get_blob_client(self.container, key)
        queue = self.api.queue.get_queue_client(self.queue_name)
        origin = desired_cors(self.host)["allowed_origins"][0]
        state = {}

        def put_probe():
            self._data(
                blob.upload_blob,
                "upload probe",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                self._container_id(),
                data=body,
                overwrite=True,
            )
            state["put"] = True
            return "wrote %s/%s" % (self.container, key)

        def receive():
            for message in queue.receive_messages(max_messages=32, visibility_timeout=1):
                event = probe_event(message.content, key)
                if event:
                    queue.delete_message(message)
                    return event
            return None

        def notification():
            found = wait_until(receive, timeout, interval=1)
            if not found:
                raise FileStorageError(
                    "no %s event for %s reached queue %s within %ss: check Event Grid subscription %s on storage "
                    "account %s (destination queue %s, subject filter %s)"
                    % (
                        BLOB_CREATED,
                        key,
                        self.queue_name,
                        timeout,
                        self.es_name,
                        self.account,
                        self.queue_name,
                        subject_prefix(self.container),
                    )
                )
            return "queue %s received %s for the probe" % (self.queue_name, found)

        def cors():
            return check_preflight(requests.request, blob.url + "-upload", origin, "PUT")

        def presigned():
            from azure.storage.blob import BlobSasPermissions, generate_blob_sas

            expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
            sas = generate_blob_sas(
                self.account,
                self.container,
                key,
                account_key=self.key,
                permission=BlobSasPermissions(read=True),
                expiry=expiry,
            )
            resp = requests.get(blob.url + "?" + sas, timeout=30)
            if resp.status_code != 200 or resp.content != body:
                raise FileStorageError("GET of a SAS URL for the probe answered HTTP %s" % resp.status_code)
            return "SAS GET returned the probe (HTTP 200)"

        def delete_probe():
            if not state.get("put"):
                return ("skipped", "no probe was written")
            self._data(
                blob.delete_blob,
                "delete probe",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                self._container_id(),
            )
            return "deleted the probe"

        return verify_probe(put_probe, notification, cors, presigned, delete_probe)

    def outputs(self):
        return outputs(self.account, self.container, self.queue_name, self.key)
