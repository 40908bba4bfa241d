"""GCS provider: IAM binding merge, notification matching, CORS, signed URLs, error paths, outputs."""

import datetime
import json
import re
from types import SimpleNamespace

import pytest
from google.cloud.storage import _signing
from google.oauth2 import service_account

from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_gcs as gcs
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_gcs_api as gcsapi
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_gcs_config as gcsconfig
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    Changes,
    FileStorageError,
    PermissionDeniedError,
)

AGENT = "serviceAccount:service-1@gs-project-accounts.iam.gserviceaccount.com"


def test_grant_publisher_adds_member_keeps_others_and_is_idempotent():
    policy = {
        "etag": "abc",
        "bindings": [
            {"role": "roles/pubsub.viewer", "members": ["user:a@x"]},
            {"role": gcsconfig.PUBLISHER_ROLE, "members": ["user:b@x"]},
        ],
    }
    updated = gcsconfig.grant_publisher(policy, AGENT)
    assert updated["etag"] == "abc"  # sent back so a concurrent change is refused, not lost
    assert updated["bindings"][0] == policy["bindings"][0]
    assert updated["bindings"][1]["members"] == ["user:b@x", AGENT]
    assert policy["bindings"][1]["members"] == ["user:b@x"], "input must not be mutated"
    assert gcsconfig.grant_publisher(updated, AGENT) is None


def test_grant_publisher_ignores_conditional_bindings_and_empty_policies():
    conditional = {
        "bindings": [{"role": gcsconfig.PUBLISHER_ROLE, "members": [AGENT], "condition": {"expression": "false"}}]
    }
    updated = gcsconfig.grant_publisher(conditional, AGENT)
    assert updated["bindings"][-1] == {"role": gcsconfig.PUBLISHER_ROLE, "members": [AGENT]}
    assert gcsconfig.grant_publisher({}, AGENT) == {
        "bindings": [{"role": gcsconfig.PUBLISHER_ROLE, "members": [AGENT]}]
    }


def test_notification_shape_and_matching():
    desired = gcsconfig.desired_notification("p", "t")
    assert desired == {
        "topic": "//pubsub.googleapis.com/projects/p/topics/t",
        "payload_format": "JSON_API_V1",
        "event_types": ["OBJECT_FINALIZE"],
    }
    assert gcsconfig.notification_matches(dict(desired, id="1", etag="1"), "p", "t")
    # The API also returns the topic without the service prefix in some responses.
    assert gcsconfig.notification_matches(dict(desired, topic="projects/p/topics/t"), "p", "t")
    assert not gcsconfig.notification_matches(dict(desired, payload_format="NONE"), "p", "t")
    assert not gcsconfig.notification_matches(dict(desired, event_types=["OBJECT_DELETE"]), "p", "t")
    assert not gcsconfig.notification_matches(dict(desired, object_name_prefix="x/"), "p", "t")
    assert not gcsconfig.notification_matches(
        dict(desired, topic="//pubsub.googleapis.com/projects/p/topics/other"), "p", "t"
    )


def test_cors_merge():
    other = {"origin": ["https://other"], "method": ["GET"]}
    rules = gcsconfig.merge_cors([other, {"origin": ["https://w.example"], "method": ["GET"]}], "https://w.example")
    assert rules == [other, gcsconfig.gcs_cors("https://w.example")]
    assert gcsconfig.cors_is_current(rules, "https://w.example")
    assert rules[-1]["responseHeader"] == ["*", "Content-Type", "ETag"]


def test_outputs_one_slash_pubsub():
    out = gcsconfig.outputs("bkt", "acme-ml", "wandb-events")
    assert out["env"] == {"BUCKET": "gs://bkt", "BUCKET_QUEUE": "pubsub:/acme-ml/wandb-events/wandb-events-sub"}
    assert out["secret_env_keys"] == []


@pytest.fixture(scope="module")
def sa_credentials():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k",
        "private_key": pem.decode(),
        "client_email": "sa@p.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return service_account.Credentials.from_service_account_info(info)


def test_signed_url_matches_googles_own_v4_signer(sa_credentials):
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    ours = gcsapi.signed_url(
        sa_credentials, "https://storage.googleapis.com", "bkt", "wandb-fleet-probe/a b~c", 300, now=now
    )
    theirs = _signing.generate_signed_url_v4(
        sa_credentials,
        "/bkt/wandb-fleet-probe/a%20b~c",
        expiration=300,
        api_access_endpoint="https://storage.googleapis.com",
        method="GET",
        _request_timestamp="20260102T030405Z",
    )
    assert ours == theirs


class FakeHttp:
    def __init__(self, routes):
        self.routes = routes
        self.calls = []

    def request(self, method, url, timeout=None, **kwargs):
        self.calls.append((method, url, kwargs.get("json")))
        for (m, suffix), (status, body) in self.routes.items():
            if m == method and url.split("?")[0].endswith(suffix):
                return SimpleNamespace(
                    status_code=status, content=json.dumps(body).encode(), json=lambda b=body: b, text=json.dumps(body)
                )
        return SimpleNamespace(status_code=404, content=b"{}", json=lambda: {}, text="")


def api_with(routes):
    api = object.__new__(gcsapi.GcsApi)
    api.credentials = None
    api.storage_http = api.pubsub_http = FakeHttp(routes)
    api.storage_url, api.pubsub_url = "https://storage", "https://pubsub"
    return api


def denied(permission):
    return (403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "User lacks %s" % permission}})


BASE = {
    ("GET", "/storage/v1/b/bkt"): (200, {"name": "bkt", "cors": [gcsconfig.gcs_cors("https://w.example")]}),
    ("GET", "/v1/projects/p/topics/t"): (200, {"name": "projects/p/topics/t"}),
    ("GET", "/v1/projects/p/subscriptions/t-sub"): (
        200,
        {"name": "projects/p/subscriptions/t-sub", "topic": "projects/p/topics/t"},
    ),
    ("GET", "/storage/v1/projects/p/serviceAccount"): (200, {"email_address": AGENT.split(":", 1)[1]}),
    ("GET", "/v1/projects/p/topics/t:getIamPolicy"): (
        200,
        {"bindings": [{"role": gcsconfig.PUBLISHER_ROLE, "members": [AGENT]}]},
    ),
    ("GET", "/storage/v1/b/bkt/notificationConfigs"): (
        200,
        {"items": [dict(gcsconfig.desired_notification("p", "t"), id="1")]},
    ),
}


def make(routes, check_mode=False):
    params = {"name": "bkt", "project": "p", "queue": "t", "host": "https://w.example"}
    return gcs.GcsStorage(params, Changes(check_mode=check_mode), api=api_with(routes))


def test_complete_setup_changes_nothing():
    storage = make(dict(BASE))
    storage.present()
    assert storage.changes.actions == []
    assert all(call[0] == "GET" for call in storage.api.storage_http.calls)


@pytest.mark.parametrize(
    ("route", "permission", "resource"),
    [
        (("GET", "/storage/v1/b/bkt"), "storage.buckets.get", "projects/_/buckets/bkt"),
        (("GET", "/v1/projects/p/topics/t"), "pubsub.topics.get", "projects/p/topics/t"),
        (("GET", "/v1/projects/p/subscriptions/t-sub"), "pubsub.subscriptions.get", "projects/p/subscriptions/t-sub"),
        (("GET", "/v1/projects/p/topics/t:getIamPolicy"), "pubsub.topics.getIamPolicy", "projects/p/topics/t"),
        (("GET", "/storage/v1/projects/p/serviceAccount"), "resourcemanager.projects.get", "projects/p"),
    ],
)
def test_permission_errors_name_permission_and_resource(route, permission, resource):
    routes = dict(BASE)
    routes[route] = denied(permission)
    with pytest.raises(PermissionDeniedError) as exc:
        make(routes).present()
    assert exc.value.msg.startswith("missing permission %s on resource %s" % (permission, resource))


def test_set_iam_policy_denied():
    routes = dict(BASE)
    routes[("GET", "/v1/projects/p/topics/t:getIamPolicy")] = (200, {"etag": "e"})
    routes[("POST", "/v1/projects/p/topics/t:setIamPolicy")] = denied("pubsub.topics.setIamPolicy")
    storage = make(routes)
    with pytest.raises(
        PermissionDeniedError,
        match=re.escape("missing permission pubsub.topics.setIamPolicy on resource projects/p/topics/t"),
    ):
        storage.present()
    assert storage.changes.actions == ["grant roles/pubsub.publisher on topic t to %s" % AGENT]


def test_notification_insert_denied_and_stale_configs_replaced():
    routes = dict(BASE)
    stale = dict(gcsconfig.desired_notification("p", "t"), id="7", payload_format="NONE")
    other = {"id": "8", "topic": "//pubsub.googleapis.com/projects/p/topics/audit", "payload_format": "NONE"}
    routes[("GET", "/storage/v1/b/bkt/notificationConfigs")] = (200, {"items": [stale, other]})
    routes[("DELETE", "/storage/v1/b/bkt/notificationConfigs/7")] = (204, {})
    routes[("POST", "/storage/v1/b/bkt/notificationConfigs")] = denied("storage.buckets.update")
    storage = make(routes)
    with pytest.raises(
        PermissionDeniedError,
        match=re.escape("missing permission storage.buckets.update on resource projects/_/buckets/bkt"),
    ):
        storage.present()
    calls = [(m, u.split("https://storage")[-1]) for m, u, _body in storage.api.storage_http.calls if m != "GET"]
    assert calls == [
        ("DELETE", "/storage/v1/b/bkt/notificationConfigs/7"),
        ("POST", "/storage/v1/b/bkt/notificationConfigs"),
    ]


def test_subscription_on_another_topic_is_refused():
    routes = dict(BASE)
    routes[("GET", "/v1/projects/p/subscriptions/t-sub")] = (200, {"topic": "projects/p/topics/else"})
    with pytest.raises(FileStorageError, match="cannot change topic"):
        make(routes).present()


def test_push_subscription_is_turned_to_pull():
    routes = dict(BASE)
    routes[("GET", "/v1/projects/p/subscriptions/t-sub")] = (
        200,
        {"topic": "projects/p/topics/t", "pushConfig": {"pushEndpoint": "https://hook"}},
    )
    routes[("POST", "/v1/projects/p/subscriptions/t-sub:modifyPushConfig")] = (200, {})
    storage = make(routes)
    storage.present()
    assert storage.changes.actions == [
        "turn subscription projects/p/subscriptions/t-sub into a pull subscription (W&B pulls)"
    ]


def test_check_mode_on_nothing():
    routes = {("GET", "/storage/v1/projects/p/serviceAccount"): BASE[("GET", "/storage/v1/projects/p/serviceAccount")]}
    storage = make(routes, check_mode=True)
    storage.present()
    assert [a.split(" ")[0] for a in storage.changes.actions] == [
        "create",
        "set",
        "create",
        "create",
        "grant",
        "create",
    ]
    assert all(call[0] == "GET" for call in storage.api.storage_http.calls)


def test_credentials_must_be_json():
    with pytest.raises(FileStorageError, match="must be a dict or the JSON"):
        gcsapi.load_credentials({"credentials": "not json"})
