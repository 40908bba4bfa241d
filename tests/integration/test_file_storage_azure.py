"""file_storage against Azurite (container, queue, CORS) and the Azure contract fake
(Resource Manager: storage account, keys, Event Grid subscription; plus simulated Event Grid delivery)."""

import uuid

import pytest
import requests
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient
from conftest import HOST

pytestmark = pytest.mark.emulator


@pytest.fixture
def az(azure):
    suffix = uuid.uuid4().hex[:8]
    cred = {"account_name": azure["account"], "account_key": azure["key"]}
    args = dict(
        azure["args"], provider="azure", name="wandb-files-" + suffix, queue="wandb-events-" + suffix, host=HOST
    )
    return {
        "args": args,
        "env": azure["env"],
        "fake": azure["fake"],
        "blob": BlobServiceClient(azure["blob"], credential=cred),
        "queue": QueueServiceClient(azure["queue"], credential=cred),
        "account_id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s"
        % (args["subscription_id"], args["resource_group"], azure["account"]),
    }


def test_account_missing_without_location_fails_clearly(az, run_module):
    result = run_module(dict(az["args"], storage_account="nosuchaccount"), env=az["env"], expect_failure=True)
    assert "storage account nosuchaccount does not exist" in result["msg"]
    assert "set location" in result["msg"]


def test_provision_create_account_then_idempotent(az, run_module):
    args, fake = dict(az["args"], location="westeurope"), az["fake"]
    fake.storage_accounts.clear()

    check = run_module(args, check=True, env=az["env"])
    assert check["changed"] is True
    assert any(c.startswith("create storage account") for c in check["changes"])
    assert not fake.storage_accounts, "check mode created the account"

    first = run_module(args, env=az["env"], diff=True)
    assert first["changed"] is True
    assert fake.violations == []
    assert az["account_id"].lower() in fake.storage_accounts
    created = fake.storage_accounts[az["account_id"].lower()]
    assert created["properties"] == {
        "supportsHttpsTrafficOnly": True,
        "allowBlobPublicAccess": False,
        "minimumTlsVersion": "TLS1_2",
    }
    assert first["bucket"] == "az://%s/%s" % (args["storage_account"], args["name"])
    assert first["bucket_queue"] == "az://%s/%s" % (args["storage_account"], args["queue"])
    assert first["env"]["AZURE_STORAGE_KEY"] == fake.accounts[args["storage_account"]]["key"]
    assert first["secret_env_keys"] == ["AZURE_STORAGE_KEY"]
    assert "AZURE_STORAGE_KEY" not in str(first["diff"])

    # Read back from Azurite and from the fake, independently of the module.
    container = az["blob"].get_container_client(args["name"])
    assert container.get_container_properties().public_access is None
    assert az["queue"].get_queue_client(args["queue"]).get_queue_properties() is not None
    cors = az["blob"].get_service_properties()["cors"]
    ours = [r for r in cors if r.allowed_origins == HOST]
    assert len(ours) == 1
    assert sorted(ours[0].allowed_methods.split(",")) == ["GET", "HEAD", "PUT"]
    assert ours[0].allowed_headers == "*" and ours[0].exposed_headers == "ETag"
    (es,) = [v["resource"] for k, v in fake.event_subscriptions.items() if k[0] == az["account_id"].lower()]
    props = es["properties"]
    assert props["destination"] == {
        "endpointType": "StorageQueue",
        "properties": {"resourceId": az["account_id"], "queueName": args["queue"]},
    }
    assert props["filter"]["includedEventTypes"] == ["Microsoft.Storage.BlobCreated"]
    assert props["filter"]["subjectBeginsWith"] == "/blobServices/default/containers/%s/blobs/" % args["name"]
    assert props["eventDeliverySchema"] == "EventGridSchema"

    # A real browser-style preflight against Azurite.
    preflight = requests.options(
        "%s/%s/new-object" % (az["blob"].url.rstrip("/"), args["name"]),
        headers={"Origin": HOST, "Access-Control-Request-Method": "PUT"},
        timeout=10,
    )
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == HOST
    denied = requests.options(
        "%s/%s/new-object" % (az["blob"].url.rstrip("/"), args["name"]),
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
        timeout=10,
    )
    assert denied.status_code == 403

    second = run_module(args, env=az["env"])
    assert second["changed"] is False, second["changes"]
    assert fake.violations == []


def test_verify_end_to_end_and_absent(az, run_module):
    args, fake = dict(az["args"], location="westeurope"), az["fake"]
    result = run_module(dict(args, verify=True, verify_timeout=20), env=az["env"])
    assert [(s["step"], s["status"]) for s in result["verify"]] == [
        ("put-probe", "ok"),
        ("notification", "ok"),
        ("cors", "ok"),
        ("presigned-url", "ok"),
        ("delete-probe", "ok"),
    ]
    # Another origin's rule added by someone else survives a re-run and our removal.
    from azure.storage.blob import CorsRule

    rules = az["blob"].get_service_properties()["cors"] + [CorsRule(["https://other.example"], ["GET"])]
    az["blob"].set_service_properties(cors=rules)
    assert run_module(args, env=az["env"])["changed"] is False

    # Event Grid stops delivering (nothing the module can see or repair): verify names the step.
    fake.deliver = False
    try:
        broken = run_module(dict(args, verify=True, verify_timeout=3), env=az["env"], expect_failure=True)
    finally:
        fake.deliver = True
    assert broken["failed_step"] == "notification"
    assert broken["msg"].startswith("verify failed at step 'notification'")
    assert "Event Grid subscription wandb-%s" % args["name"] in broken["msg"]
    assert [s["step"] for s in broken["verify"]] == ["put-probe", "notification", "delete-probe"]
    assert [b.name for b in az["blob"].get_container_client(args["name"]).list_blobs()] == []

    az["blob"].get_container_client(args["name"]).upload_blob("keep.txt", b"x")
    kept = run_module(dict(args, state="absent"), env=az["env"])
    assert "is not empty: kept" in str(kept.get("warnings"))
    assert not any(
        k[0] == az["account_id"].lower() and k[1] == "wandb-" + args["name"] for k in fake.event_subscriptions
    )
    assert args["queue"] not in [q.name for q in az["queue"].list_queues()]
    origins = [r.allowed_origins for r in az["blob"].get_service_properties()["cors"]]
    assert origins == ["https://other.example"]
    assert az["account_id"].lower() in fake.storage_accounts

    gone = run_module(dict(args, state="absent", force=True), env=az["env"])
    assert any(c.startswith("delete blob container") for c in gone["changes"])
    assert args["name"] not in [c.name for c in az["blob"].list_containers()]
    assert fake.violations == []


def test_permission_error_names_action_and_scope(az, run_module):
    args = dict(az["args"], location="westeurope", resource_group="rg-forbidden")
    az["fake"].deny.add("rg-forbidden")
    try:
        result = run_module(args, env=az["env"], expect_failure=True)
    finally:
        az["fake"].deny.discard("rg-forbidden")
    assert "missing permission Microsoft.Storage/storageAccounts/read on resource " in result["msg"]
    assert "/resourceGroups/rg-forbidden/providers/Microsoft.Storage/storageAccounts/" in result["msg"]
