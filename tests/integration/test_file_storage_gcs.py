"""file_storage against gcp-storage-emulator (bucket, CORS) and the Cloud SDK's Pub/Sub emulator
(topic, subscription, publish/pull), behind the Google contract fake (notification configs,
service agent, topic IAM, notification delivery, preflight, signed URLs)."""

import uuid

import pytest
import requests
from conftest import HOST

pytestmark = pytest.mark.emulator
PROJECT = "wandb-fleet-test"


@pytest.fixture
def gcs(google):
    suffix = uuid.uuid4().hex[:8]
    args = {
        "provider": "gcs",
        "name": "wandb-files-%s" % suffix,
        "queue": "wandb-events-%s" % suffix,
        "project": PROJECT,
        "credentials_file": google["credentials_file"],
        "host": HOST,
    }
    return dict(google, args=args)


def _bucket(gcs):
    return requests.get("%s/storage/v1/b/%s" % (gcs["storage"], gcs["args"]["name"]), timeout=10)


def test_provision_and_rerun(gcs, run_module):
    args, fake = gcs["args"], gcs["fake"]
    check = run_module(args, check=True, env=gcs["env"])
    assert check["changed"] is True
    assert _bucket(gcs).status_code == 404, "check mode created the bucket"

    first = run_module(args, env=gcs["env"], diff=True)
    assert first["changed"] is True
    assert fake.violations == []
    assert first["bucket"] == "gs://" + args["name"]
    assert first["bucket_queue"] == "pubsub:/%s/%s/%s-sub" % (PROJECT, args["queue"], args["queue"])
    assert first["env"] == {"BUCKET": first["bucket"], "BUCKET_QUEUE": first["bucket_queue"]}
    assert first["secret_env_keys"] == []

    cors = _bucket(gcs).json()["cors"]
    assert cors == [
        {
            "origin": [HOST],
            "method": ["GET", "PUT", "HEAD"],
            "responseHeader": ["*", "Content-Type", "ETag"],
            "maxAgeSeconds": 3000,
        }
    ]
    topic = "projects/%s/topics/%s" % (PROJECT, args["queue"])
    sub = requests.get(
        "%s/v1/projects/%s/subscriptions/%s-sub" % (gcs["pubsub"], PROJECT, args["queue"]), timeout=10
    ).json()
    assert sub["topic"] == topic and not sub.get("pushConfig", {}).get("pushEndpoint")
    assert fake.policies[topic]["bindings"] == [
        {"role": "roles/pubsub.publisher", "members": ["serviceAccount:" + fake.service_agent]}
    ]
    (config,) = fake.notifications[args["name"]]
    assert config["topic"] == "//pubsub.googleapis.com/" + topic
    assert config["payload_format"] == "JSON_API_V1" and config["event_types"] == ["OBJECT_FINALIZE"]

    second = run_module(args, env=gcs["env"])
    assert second["changed"] is False, second["changes"]
    assert len(fake.notifications[args["name"]]) == 1
    assert fake.violations == []


def test_other_notifications_and_cors_survive_and_verify(gcs, run_module):
    args, fake = gcs["args"], gcs["fake"]
    run_module(args, env=gcs["env"])
    # Someone else's CORS rule and notification on the same bucket.
    other_topic = "projects/%s/topics/%s-audit" % (PROJECT, args["queue"])
    requests.put("%s/v1/%s" % (gcs["pubsub"], other_topic), json={}, timeout=10).raise_for_status()
    fake.notifications[args["name"]].append(
        {
            "id": "99",
            "topic": "//pubsub.googleapis.com/" + other_topic,
            "payload_format": "NONE",
            "event_types": ["OBJECT_DELETE"],
        }
    )
    cors = _bucket(gcs).json()["cors"] + [{"origin": ["https://other.example"], "method": ["GET"]}]
    requests.patch(
        "%s/storage/v1/b/%s" % (gcs["storage"], args["name"]), json={"cors": cors}, timeout=10
    ).raise_for_status()

    result = run_module(dict(args, verify=True, verify_timeout=20), env=gcs["env"])
    assert result["changed"] is False, result["changes"]
    assert [(s["step"], s["status"]) for s in result["verify"]] == [
        ("put-probe", "ok"),
        ("notification", "ok"),
        ("cors", "ok"),
        ("presigned-url", "ok"),
        ("delete-probe", "ok"),
    ]
    others = [n for n in fake.notifications[args["name"]] if n["id"] == "99"]
    assert len(fake.notifications[args["name"]]) == 2 and others[0]["event_types"] == ["OBJECT_DELETE"]
    assert [r["origin"] for r in _bucket(gcs).json()["cors"]] == [[HOST], ["https://other.example"]]
    assert len([d for d in fake.deliveries if d[2].startswith("wandb-fleet-probe/")]) >= 1

    # The publisher grant was removed behind the module's back: present grants it again, says so,
    # and the probe is delivered.
    topic = "projects/%s/topics/%s" % (PROJECT, args["queue"])
    fake.policies[topic] = {"bindings": []}
    repaired = run_module(dict(args, verify=True, verify_timeout=20), env=gcs["env"])
    assert [c for c in repaired["changes"] if "roles/pubsub.publisher" in c] == [
        "grant roles/pubsub.publisher on topic %s to serviceAccount:%s" % (args["queue"], fake.service_agent)
    ]
    assert all(s["status"] == "ok" for s in repaired["verify"])

    gone = run_module(dict(args, state="absent", force=True), env=gcs["env"])
    assert gone["changed"] is True
    assert _bucket(gcs).status_code == 404
    assert requests.get("%s/v1/%s" % (gcs["pubsub"], topic), timeout=10).status_code == 404
    assert fake.violations == []


def test_drifted_notification_is_replaced_and_broken_delivery_is_named(gcs, run_module):
    args, fake = gcs["args"], gcs["fake"]
    run_module(args, env=gcs["env"])
    # Our config drifted to a prefix that never matches: it is replaced, not duplicated.
    for config in fake.notifications[args["name"]]:
        config["object_name_prefix"] = "never-matches/"
    fixed = run_module(dict(args, verify=True, verify_timeout=20), env=gcs["env"])
    assert any(c.startswith("delete notification") for c in fixed["changes"])
    assert any(c.startswith("create notification") for c in fixed["changes"])
    assert all(s["status"] == "ok" for s in fixed["verify"])
    assert [c.get("object_name_prefix") for c in fake.notifications[args["name"]]] == [None]

    # Delivery breaks where the module cannot see it: verify fails at 'notification', says what to
    # check, and still deletes its probe.
    fake.deliver = False
    try:
        broken = run_module(dict(args, verify=True, verify_timeout=3), env=gcs["env"], expect_failure=True)
    finally:
        fake.deliver = True
    assert broken["failed_step"] == "notification"
    assert "roles/pubsub.publisher" in broken["msg"] and args["queue"] in broken["msg"]
    assert [(s["step"], s["status"]) for s in broken["verify"]] == [
        ("put-probe", "ok"),
        ("notification", "failed"),
        ("delete-probe", "ok"),
    ]
    listing = requests.get("%s/storage/v1/b/%s/o" % (gcs["storage"], args["name"]), timeout=10).json()
    assert listing.get("items", []) == []


def test_contract_fake_rejects_wrong_shapes(gcs):
    """The fake is strict: a misspelt field or a wrong HTTP method is refused (so the passing tests mean something)."""
    fake, base = gcs["fake"], gcs["fake"].url
    bucket = "contract-%s" % uuid.uuid4().hex[:8]
    requests.post("%s/storage/v1/b?project=%s" % (base, PROJECT), json={"name": bucket}, timeout=10).raise_for_status()
    before = len(fake.violations)
    bad = requests.post(
        "%s/storage/v1/b/%s/notificationConfigs" % (base, bucket),
        json={"topic": "//pubsub.googleapis.com/projects/p/topics/t", "payloadFormat": "JSON_API_V1"},
        timeout=10,
    )
    assert bad.status_code == 400 and "payloadFormat: no such field" in bad.text
    wrong_verb = requests.post("%s/v1/projects/%s/topics/t-x:getIamPolicy" % (base, PROJECT), json={}, timeout=10)
    assert wrong_verb.status_code == 400 and "says GET" in wrong_verb.text
    assert len(fake.violations) == before + 2
    del fake.violations[before:]
