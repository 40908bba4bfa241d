"""Azure provider: Event Grid subscription shape, CORS merge, cloud metadata, error paths, outputs."""

import base64
import json
import re
from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.mgmt.eventgrid import models as eg

from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_azure as az
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_azure_api as azapi
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_azure_config as azconfig
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    Changes,
    FileStorageError,
    PermissionDeniedError,
)

ACCOUNT_ID = azconfig.account_id("sub", "rg", "acct")


def test_names():
    assert ACCOUNT_ID == "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
    assert azconfig.subject_prefix("files") == "/blobServices/default/containers/files/blobs/"
    assert azconfig.event_subscription_name("files") == "wandb-files"
    assert len(azconfig.event_subscription_name("x" * 80)) == 64


def sdk_subscription(resource_id=ACCOUNT_ID, queue="q", prefix="/blobServices/default/containers/c/blobs/", types=None):
    return eg.EventSubscription(
        destination=eg.StorageQueueEventSubscriptionDestination(resource_id=resource_id, queue_name=queue),
        filter=eg.EventSubscriptionFilter(
            included_event_types=types or [azconfig.BLOB_CREATED], subject_begins_with=prefix
        ),
        event_delivery_schema="EventGridSchema",
    )


def test_event_subscription_matching():
    desired = azconfig.desired_event_subscription(ACCOUNT_ID, "c", "q")
    assert azconfig.event_subscription_matches(azconfig.event_subscription_state(sdk_subscription()), desired)
    # Resource ids come back with other casing from ARM.
    assert azconfig.event_subscription_matches(
        azconfig.event_subscription_state(sdk_subscription(resource_id=ACCOUNT_ID.lower())), desired
    )
    for drifted in (
        sdk_subscription(queue="other"),
        sdk_subscription(prefix="/blobServices/default/containers/other/blobs/"),
        sdk_subscription(types=[azconfig.BLOB_CREATED, "Microsoft.Storage.BlobDeleted"]),
    ):
        assert not azconfig.event_subscription_matches(azconfig.event_subscription_state(drifted), desired)
    assert not azconfig.event_subscription_matches(None, desired)


def rule(origins, methods="GET", headers="", exposed="", age=0):
    return SimpleNamespace(
        allowed_origins=origins,
        allowed_methods=methods,
        allowed_headers=headers,
        exposed_headers=exposed,
        max_age_in_seconds=age,
    )


def test_cors_merge_keeps_other_origins():
    current = [azconfig.cors_state(rule("https://other")), azconfig.cors_state(rule("https://w.example", "GET,PUT"))]
    merged = azconfig.merge_cors(current, "https://w.example")
    assert merged[0] == current[0]
    assert merged[1] == {
        "allowed_origins": ["https://w.example"],
        "allowed_methods": ["GET", "PUT", "HEAD"],
        "allowed_headers": ["*"],
        "exposed_headers": ["ETag"],
        "max_age_in_seconds": 3000,
    }
    assert azconfig.cors_is_current(merged, "https://w.example")
    assert not azconfig.cors_is_current(current, "https://w.example")
    same = [azconfig.cors_state(rule("https://w.example", "head,put,get", "*", "ETag", 3000))]
    assert azconfig.cors_is_current(same, "https://w.example")


def test_probe_event_plain_and_base64():
    event = {
        "eventType": azconfig.BLOB_CREATED,
        "subject": "/blobServices/default/containers/c/blobs/wandb-fleet-probe/x",
    }
    assert azconfig.probe_event(json.dumps(event), "wandb-fleet-probe/x") == azconfig.BLOB_CREATED
    assert (
        azconfig.probe_event(base64.b64encode(json.dumps([event]).encode()).decode(), "wandb-fleet-probe/x")
        == azconfig.BLOB_CREATED
    )
    assert azconfig.probe_event(json.dumps(event), "wandb-fleet-probe/y") is None
    assert (
        azconfig.probe_event(json.dumps(dict(event, eventType="Microsoft.Storage.BlobDeleted")), "wandb-fleet-probe/x")
        is None
    )
    assert azconfig.probe_event("garbage", "k") is None


def test_outputs_mark_the_key_secret():
    out = azconfig.outputs("acct", "files", "events", "KEY==")
    assert out["env"] == {"BUCKET": "az://acct/files", "BUCKET_QUEUE": "az://acct/events", "AZURE_STORAGE_KEY": "KEY=="}
    assert out["secret_env_keys"] == ["AZURE_STORAGE_KEY"]


def test_resolve_cloud_names_and_metadata():
    assert azapi.resolve_cloud("AzureCloud") == (
        "https://management.azure.com/",
        "https://login.microsoftonline.com/",
        "https://management.azure.com/.default",
    )
    assert azapi.resolve_cloud("AzureChinaCloud")[1] == "https://login.chinacloudapi.cn/"
    with pytest.raises(FileStorageError, match="cloud_environment must be one of"):
        azapi.resolve_cloud("Mars")

    def metadata(doc):
        return lambda url, timeout: SimpleNamespace(raise_for_status=lambda: None, json=lambda: doc)

    single = {
        "resourceManager": "https://arm.stack/",
        "authentication": {"loginEndpoint": "https://login.stack/adfs/", "audiences": ["https://aud.stack/"]},
    }
    assert azapi.resolve_cloud("https://arm.stack", metadata(single)) == (
        "https://arm.stack/",
        "https://login.stack/adfs/",
        "https://aud.stack/.default",
    )
    listed = [dict(single, resourceManager="https://elsewhere/"), single]
    assert azapi.resolve_cloud("https://arm.stack/", metadata(listed))[0] == "https://arm.stack/"
    with pytest.raises(FileStorageError, match=re.escape("names no authentication.loginEndpoint")):
        azapi.resolve_cloud("https://arm.stack", metadata({"resourceManager": "https://arm.stack/"}))

    def unreachable(url, timeout):
        raise OSError("refused")

    with pytest.raises(FileStorageError, match="could not read the Azure cloud metadata"):
        azapi.resolve_cloud("https://arm.stack", unreachable)


def http_error(status, code, message):
    exc = HttpResponseError(message=message)
    exc.status_code = status
    exc.error_code = code
    return exc


class Api(azapi.AzureApi):
    """AzureApi.call with clients made of plain functions."""

    def __init__(self, storage=None, eventgrid=None, blob=None, queue=None):
        self.storage, self.eventgrid, self.blob, self.queue = storage, eventgrid, blob, queue

    def connect_data_plane(self, blob_url, queue_url, account, key):
        self.connected = (blob_url, queue_url, account, key)


def raises(exc):
    def fn(**kwargs):
        raise exc

    return fn


def test_call_maps_errors():
    api = Api()
    with pytest.raises(PermissionDeniedError) as exc:
        api.call(
            raises(http_error(403, "AuthorizationFailed", "does not have authorization")),
            "write Event Grid subscription",
            "Microsoft.EventGrid/eventSubscriptions/write",
            "/sub/x",
        )
    assert exc.value.msg.startswith(
        "missing permission Microsoft.EventGrid/eventSubscriptions/write on resource /sub/x"
    )
    assert api.call(raises(ResourceNotFoundError("gone")), "read", "p", "r", missing=True) is None
    with pytest.raises(FileStorageError, match="read: r not found"):
        api.call(raises(ResourceNotFoundError("gone")), "read", "p", "r")
    with pytest.raises(FileStorageError, match=r"create container on r failed \(409, ContainerBeingDeleted\)"):
        api.call(raises(http_error(409, "ContainerBeingDeleted", "later")), "create container", "p", "r")
    with pytest.raises(FileStorageError, match="set CORS on r failed: connection refused"):
        api.call(raises(ServiceRequestError("connection refused")), "set CORS", "p", "r")


def test_data_plane_permission_error_names_the_rbac_action():
    container = SimpleNamespace(
        get_container_properties=raises(http_error(403, "AuthorizationPermissionMismatch", "no"))
    )
    blob = SimpleNamespace(get_container_client=lambda name: container)
    account = SimpleNamespace(primary_endpoints=SimpleNamespace(blob="http://b/", queue="http://q/"))
    storage_ops = SimpleNamespace(
        get_properties=lambda **kw: account,
        list_keys=lambda **kw: SimpleNamespace(keys=[SimpleNamespace(value="K")]),
    )
    api = Api(storage=SimpleNamespace(storage_accounts=storage_ops), blob=blob)
    params = {
        "name": "files",
        "queue": "events",
        "storage_account": "acct",
        "resource_group": "rg",
        "subscription_id": "sub",
        "host": "https://w.example",
    }
    storage = az.AzureStorage(params, Changes(), api=api)
    with pytest.raises(PermissionDeniedError) as exc:
        storage.present()
    assert exc.value.msg.startswith(
        "missing permission Microsoft.Storage/storageAccounts/blobServices/containers/read on resource "
        + ACCOUNT_ID
        + "/blobServices/default/containers/files"
    )
    assert api.connected == ("http://b/", "http://q/", "acct", "K")


def test_missing_account_without_location():
    storage_ops = SimpleNamespace(get_properties=raises(ResourceNotFoundError("no")))
    api = Api(storage=SimpleNamespace(storage_accounts=storage_ops))
    params = {
        "name": "f",
        "queue": "q",
        "storage_account": "acct",
        "resource_group": "rg",
        "subscription_id": "s",
        "host": "https://w",
    }
    with pytest.raises(FileStorageError, match="set location to have it created"):
        az.AzureStorage(params, Changes(), api=api).present()
    # With location, check mode lists the whole setup and creates nothing.
    storage = az.AzureStorage(dict(params, location="westeurope"), Changes(check_mode=True), api=api)
    storage.present()
    assert [a.split(" ")[0] + " " + a.split(" ")[1] for a in storage.changes.actions] == [
        "create storage",
        "create private",
        "set the",
        "create storage",
        "create Event",
    ]
