# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on Azure: storage account, private container, CORS, queue, Event Grid subscription.

The configurations it wants are in _file_storage_azure_config, the SDK clients in
_file_storage_azure_api. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import uuid

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_azure_api import AzureApi
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_azure_config import (
    BLOB_CREATED,
    account_id,
    blob_cors_rules,
    cors_is_current,
    cors_state,
    desired_cors,
    desired_event_subscription,
    event_subscription_matches,
    event_subscription_model,
    event_subscription_name,
    event_subscription_state,
    merge_cors,
    outputs,
    probe_event,
    storage_account_parameters,
    subject_prefix,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    PROBE_PREFIX,
    FileStorageError,
    check_preflight,
    normalize,
    verify_probe,
    wait_until,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_provider import FileStorageProvider

try:
    import requests

    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False


class AzureStorage(FileStorageProvider):
    def __init__(self, params, changes, api=None):
        super(AzureStorage, self).__init__(params, changes)
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
        return self.api.call(
            self.api.storage.storage_accounts.begin_create,
            "create storage account",
            "Microsoft.Storage/storageAccounts/write",
            self.account_id,
            resource_group_name=self.resource_group,
            account_name=self.account,
            parameters=storage_account_parameters(self.location),
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
        self._data(
            self.api.blob.set_service_properties,
            "set Blob service CORS",
            "Microsoft.Storage/storageAccounts/blobServices/write",
            self.account_id + "/blobServices/default",
            cors=blob_cors_rules(states),
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
        self.api.call(
            self.api.eventgrid.event_subscriptions.begin_create_or_update,
            "write Event Grid subscription",
            "Microsoft.EventGrid/eventSubscriptions/write",
            self._event_subscription_id(),
            scope=self.account_id,
            event_subscription_name=self.es_name,
            event_subscription_info=event_subscription_model(self.account_id, self.container, self.queue_name),
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
