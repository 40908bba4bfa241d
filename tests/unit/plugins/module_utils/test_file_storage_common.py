"""Provider-neutral pieces of file_storage: errors, change tracking, URL formats, verify runner."""

from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_common as common
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_bucket_url, parse_queue_url


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("https://wandb.example.net", "https://wandb.example.net"),
        ("https://wandb.example.net/", "https://wandb.example.net"),
        ("https://WANDB.example.net:443/some/path", "https://wandb.example.net"),
        ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
        ("http://wandb:80", "http://wandb"),
    ],
)
def test_cors_origin(host, origin):
    assert common.cors_origin(host) == origin


@pytest.mark.parametrize("host", [None, "", "wandb.example.net", "ftp://wandb.example.net", "https://"])
def test_cors_origin_refuses_what_is_not_a_url(host):
    with pytest.raises(common.FileStorageError):
        common.cors_origin(host)


def test_cors_rule_is_what_wandb_needs():
    assert common.cors_rule("https://w.example") == {
        "origins": ["https://w.example"],
        "methods": ["GET", "PUT", "HEAD"],
        "allowed_headers": ["*"],
        "expose_headers": ["ETag"],
        "max_age": 3000,
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, None), (401, None), (None, "AccessDenied"), (400, "AuthorizationFailed"), (None, "PERMISSION_DENIED")],
)
def test_api_error_names_permission_and_resource(status, code):
    err = common.api_error("put_bucket_cors", "s3:PutBucketCORS", "arn:aws:s3:::b", status, code, "nope")
    assert isinstance(err, common.PermissionDeniedError)
    assert err.msg.startswith("missing permission s3:PutBucketCORS on resource arn:aws:s3:::b")
    assert "nope" in err.msg
    assert (err.permission, err.resource) == ("s3:PutBucketCORS", "arn:aws:s3:::b")


def test_api_error_other_failures_name_the_call():
    err = common.api_error("create_bucket", "s3:CreateBucket", "arn:aws:s3:::b", 409, "BucketAlreadyExists", "taken")
    assert not isinstance(err, common.PermissionDeniedError)
    assert err.msg == "create_bucket on arn:aws:s3:::b failed (409, BucketAlreadyExists): taken"


def test_changes_keeps_first_before_and_last_after():
    changes = common.Changes(check_mode=True)
    assert not changes.changed and not changes.apply
    changes.record("one", "cors", before=[1], after=[2])
    changes.record("two", "cors", before=[2], after=[3])
    changes.record("no diff key")
    changes.warn("w")
    changes.warn("w")
    assert changes.changed
    assert changes.actions == ["one", "two", "no diff key"]
    assert changes.diff() == {"before": {"cors": [1]}, "after": {"cors": [3]}}
    assert changes.warnings == ["w"]


def test_normalize_ignores_order_only():
    assert common.normalize({"a": [2, 1], "b": {"c": ["x", "y"]}}) == common.normalize(
        {"b": {"c": ["y", "x"]}, "a": [1, 2]}
    )
    assert common.normalize([1, 2]) != common.normalize([1, 2, 2])


credential = st.text(min_size=1, max_size=40)


@given(access_key=credential, secret_key=credential)
def test_minio_bucket_url_round_trips_any_credential(access_key, secret_key):
    url = common.minio_bucket_url(access_key, secret_key, "http://minio.lab:9000", "wandb")
    parts = urlsplit(url)
    assert (unquote(parts.username), unquote(parts.password)) == (access_key, secret_key)
    assert (parts.hostname, parts.port, parts.path) == ("minio.lab", 9000, "/wandb")
    # The settings module parses BUCKET with the collection's W&B URL rules: both must agree.
    parsed = parse_bucket_url(url)
    assert (parsed["access_key"], parsed["secret_key"], parsed["bucket"]) == (access_key, secret_key, "wandb")


def test_minio_bucket_url_tls_and_default_ports():
    assert common.minio_bucket_url("a", "b", "https://m.example", "bk") == "s3://a:b@m.example:443/bk?tls=true"
    assert common.minio_bucket_url("a", "b/c", "http://[::1]:9000", "bk") == "s3://a:b%2Fc@[::1]:9000/bk"
    with pytest.raises(common.FileStorageError):
        common.minio_bucket_url("a", "b", "m.example:9000", "bk")


def test_pubsub_queue_url_has_exactly_one_slash():
    url = common.pubsub_queue_url("acme-ml", "wandb-events", "wandb-events-sub")
    assert url == "pubsub:/acme-ml/wandb-events/wandb-events-sub"
    parsed = parse_queue_url(url)
    assert (parsed["project"], parsed["topic"], parsed["subscription"]) == (
        "acme-ml",
        "wandb-events",
        "wandb-events-sub",
    )


def test_wait_until_returns_first_true_value_or_last_after_timeout():
    clock = iter(range(100))
    values = iter([None, None, "found"])
    assert common.wait_until(lambda: next(values), 10, clock=lambda: next(clock), sleep=lambda s: None) == "found"
    clock = iter(range(100))
    assert common.wait_until(lambda: None, 3, clock=lambda: next(clock), sleep=lambda s: None) is None


def _resp(status, **headers):
    return SimpleNamespace(status_code=status, headers=headers)


def test_check_preflight_accepts_matching_origin_and_method():
    seen = {}

    def fake(method, url, headers, timeout):
        seen.update(method=method, url=url, headers=headers)
        return _resp(200, **{"Access-Control-Allow-Origin": "https://w", "Access-Control-Allow-Methods": "GET, PUT"})

    assert "may PUT" in common.check_preflight(fake, "http://s/b/k", "https://w")
    assert seen["method"] == "OPTIONS" and seen["headers"]["Origin"] == "https://w"
    assert seen["headers"]["Access-Control-Request-Method"] == "PUT"


@pytest.mark.parametrize(
    "response",
    [
        _resp(403),
        _resp(200, **{"Access-Control-Allow-Origin": "https://other", "Access-Control-Allow-Methods": "PUT"}),
        _resp(200, **{"Access-Control-Allow-Origin": "https://w", "Access-Control-Allow-Methods": "GET"}),
    ],
)
def test_check_preflight_refusals_name_the_cors_step(response):
    with pytest.raises(common.FileStorageError) as exc:
        common.check_preflight(lambda *a, **k: response, "http://s/b/k", "https://w")
    assert exc.value.step == "cors"


def test_check_preflight_transport_error_is_a_cors_failure():
    def boom(*args, **kwargs):
        raise OSError("connection refused")

    with pytest.raises(common.FileStorageError, match="connection refused") as exc:
        common.check_preflight(boom, "http://s/b/k", "https://w")
    assert exc.value.step == "cors"


def test_run_verify_stops_at_first_failure_but_still_deletes_the_probe():
    calls = []

    def step(name, fail=False, skip=False):
        def fn():
            calls.append(name)
            if fail:
                raise common.FileStorageError("queue policy missing")
            return ("skipped", "why") if skip else "fine"

        return (name, fn)

    with pytest.raises(common.FileStorageError) as exc:
        common.run_verify(
            [
                step("put-probe"),
                step("notification", fail=True),
                step("cors"),
                step("presigned-url"),
                step("delete-probe"),
            ]
        )
    assert calls == ["put-probe", "notification", "delete-probe"]
    assert exc.value.step == "notification"
    assert exc.value.msg == "verify failed at step 'notification': queue policy missing"
    assert [s["status"] for s in exc.value.details["verify"]] == ["ok", "failed", "ok"]

    steps = common.run_verify([step("put-probe"), step("notification", skip=True), step("delete-probe")])
    assert [(s["step"], s["status"]) for s in steps] == [
        ("put-probe", "ok"),
        ("notification", "skipped"),
        ("delete-probe", "ok"),
    ]


class _Storage:
    def __init__(self):
        self.calls = []

    def present(self):
        self.calls.append("present")

    def absent(self, force):
        self.calls.append(("absent", force))

    def verify(self, timeout):
        self.calls.append(("verify", timeout))
        return [{"step": "put-probe", "status": "ok", "detail": ""}]

    def outputs(self):
        return {"bucket": "s3://b", "bucket_queue": "sqs://q", "env": {"BUCKET": "s3://b"}, "secret_env_keys": []}


def test_run_skips_verify_in_check_mode_and_says_so():
    storage, changes = _Storage(), common.Changes(check_mode=True)
    result = common.run(storage, {"state": "present", "verify": True}, changes)
    assert storage.calls == ["present"]
    assert "verify" not in result and any("check mode" in n for n in result["notes"])
    assert result["bucket"] == "s3://b" and result["changed"] is False


def test_run_absent_returns_no_outputs():
    storage, changes = _Storage(), common.Changes()
    result = common.run(storage, {"state": "absent", "force": True}, changes)
    assert storage.calls == [("absent", True)]
    assert "bucket" not in result and "env" not in result


def test_run_present_with_verify():
    storage = _Storage()
    result = common.run(storage, {"state": "present", "verify": True, "verify_timeout": 5}, common.Changes())
    assert storage.calls == ["present", ("verify", 5)]
    assert result["verify"][0]["step"] == "put-probe"
