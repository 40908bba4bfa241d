"""S3 provider: notification merge, queue policy, CORS merge, error paths, outputs."""

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3 as s3mod
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3_api as s3api
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3_config as s3config
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    Changes,
    FileStorageError,
    PermissionDeniedError,
)

QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:wandb-events"
OTHER_ARN = "arn:aws:sqs:eu-west-1:123456789012:audit"

entry_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).filter(
    lambda s: s != s3config.NOTIFICATION_ID
)
other_queue = st.builds(
    lambda i, ev: {"Id": i, "QueueArn": OTHER_ARN, "Events": [ev]},
    entry_ids,
    st.sampled_from(["s3:ObjectRemoved:*", "s3:ObjectRestore:*", "s3:ObjectCreated:Copy"]),
)
topic = st.builds(
    lambda i: {"Id": i, "TopicArn": "arn:aws:sns:eu-west-1:1:t", "Events": ["s3:ObjectRemoved:*"]}, entry_ids
)
lam = st.builds(
    lambda i: {"Id": i, "LambdaFunctionArn": "arn:aws:lambda:eu-west-1:1:function:f", "Events": ["s3:ObjectTagging:*"]},
    entry_ids,
)


@given(
    queues=st.lists(other_queue, max_size=3),
    topics=st.lists(topic, max_size=2),
    lambdas=st.lists(lam, max_size=2),
    ours=st.integers(min_value=0, max_value=2),
    eventbridge=st.booleans(),
)
def test_merge_keeps_others_and_holds_ours_exactly_once(queues, topics, lambdas, ours, eventbridge):
    existing = {"ResponseMetadata": {"HTTPStatusCode": 200}}
    stale = [{"Id": s3config.NOTIFICATION_ID, "QueueArn": QUEUE_ARN, "Events": ["s3:ObjectRemoved:*"]}] * ours
    if queues or stale:
        existing["QueueConfigurations"] = queues + stale
    if topics:
        existing["TopicConfigurations"] = topics
    if lambdas:
        existing["LambdaFunctionConfigurations"] = lambdas
    if eventbridge:
        existing["EventBridgeConfiguration"] = {}

    merged = s3config.merge_notification(existing, QUEUE_ARN)

    assert "ResponseMetadata" not in merged
    assert [e for e in merged["QueueConfigurations"] if e["QueueArn"] == OTHER_ARN] == queues
    assert merged.get("TopicConfigurations", []) == topics
    assert merged.get("LambdaFunctionConfigurations", []) == lambdas
    assert ("EventBridgeConfiguration" in merged) == eventbridge
    ours_now = [e for e in merged["QueueConfigurations"] if e["QueueArn"] == QUEUE_ARN]
    assert ours_now == [{"Id": s3config.NOTIFICATION_ID, "QueueArn": QUEUE_ARN, "Events": ["s3:ObjectCreated:*"]}]
    assert s3config.notification_is_current(merged, QUEUE_ARN)
    # Merging again changes nothing: idempotent.
    assert s3config.merge_notification(merged, QUEUE_ARN) == merged


def test_entry_for_our_queue_under_another_id_is_replaced_not_duplicated():
    existing = {
        "QueueConfigurations": [{"Id": "made-by-hand", "QueueArn": QUEUE_ARN, "Events": ["s3:ObjectCreated:Put"]}]
    }
    assert not s3config.notification_is_current(existing, QUEUE_ARN)
    merged = s3config.merge_notification(existing, QUEUE_ARN)
    assert merged["QueueConfigurations"] == [s3config.notification_entry(QUEUE_ARN)]


@pytest.mark.parametrize(
    "entry",
    [
        {"Id": s3config.NOTIFICATION_ID, "QueueArn": QUEUE_ARN, "Events": ["s3:ObjectCreated:Put"]},
        {"Id": s3config.NOTIFICATION_ID, "QueueArn": OTHER_ARN, "Events": ["s3:ObjectCreated:*"]},
        {
            "Id": s3config.NOTIFICATION_ID,
            "QueueArn": QUEUE_ARN,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "x/"}]}},
        },
    ],
)
def test_drifted_entry_is_not_current(entry):
    assert not s3config.notification_is_current({"QueueConfigurations": [entry]}, QUEUE_ARN)


def test_remove_notification_keeps_others():
    existing = {
        "QueueConfigurations": [
            s3config.notification_entry(QUEUE_ARN),
            {"Id": "a", "QueueArn": OTHER_ARN, "Events": ["e"]},
        ]
    }
    assert s3config.remove_notification(existing, QUEUE_ARN) == {
        "QueueConfigurations": [{"Id": "a", "QueueArn": OTHER_ARN, "Events": ["e"]}]
    }
    assert s3config.remove_notification({"QueueConfigurations": [s3config.notification_entry(QUEUE_ARN)]}, None) == {}


def test_queue_policy_allows_send_only_from_this_bucket_and_keeps_other_statements():
    other = {
        "Sid": "ops",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::1:root"},
        "Action": "sqs:*",
        "Resource": QUEUE_ARN,
    }
    policy = s3config.build_queue_policy(
        json.dumps({"Version": "2012-10-17", "Statement": [other]}), QUEUE_ARN, "arn:aws:s3:::b"
    )
    assert policy["Statement"][0] == other
    ours = policy["Statement"][1]
    assert ours["Action"] == "sqs:SendMessage" and ours["Resource"] == QUEUE_ARN
    assert ours["Principal"] == {"Service": "s3.amazonaws.com"}
    assert ours["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}
    # Rebuilding replaces our statement (here for another bucket) instead of adding one.
    again = s3config.build_queue_policy(policy, QUEUE_ARN, "arn:aws:s3:::c")
    assert len(again["Statement"]) == 2
    assert again["Statement"][1]["Condition"]["ArnEquals"]["aws:SourceArn"] == "arn:aws:s3:::c"
    assert s3config.remove_policy_statement(again) == {"Version": "2012-10-17", "Statement": [other]}
    assert s3config.remove_policy_statement(s3config.build_queue_policy(None, QUEUE_ARN, "arn:aws:s3:::b")) is None


def test_policy_with_a_single_statement_object():
    policy = s3config.build_queue_policy({"Statement": {"Sid": "x", "Effect": "Deny"}}, QUEUE_ARN, "arn:aws:s3:::b")
    assert [s["Sid"] for s in policy["Statement"]] == ["x", s3config.POLICY_SID]


def test_cors_merge_keeps_other_origins_and_replaces_ours():
    other = {"AllowedOrigins": ["https://other"], "AllowedMethods": ["GET"]}
    stale = {"AllowedOrigins": ["https://w.example"], "AllowedMethods": ["GET"]}
    rules = s3config.merge_cors([other, stale], "https://w.example/")
    assert rules == [other, s3config.s3_cors_rule("https://w.example")]
    assert s3config.cors_is_current(rules, "https://w.example")
    assert not s3config.cors_is_current([other, stale], "https://w.example")
    assert rules[-1]["ExposeHeaders"] == ["ETag"] and rules[-1]["AllowedHeaders"] == ["*"]


def test_outputs():
    assert s3config.outputs("b", "q", "eu-west-1") == {
        "bucket": "s3://b",
        "bucket_queue": "sqs://q",
        "env": {"BUCKET": "s3://b", "BUCKET_QUEUE": "sqs://q", "AWS_REGION": "eu-west-1"},
    }
    assert s3config.outputs("b", "q", "eu-west-1", "arn:aws:kms:k")["env"]["AWS_S3_KMS_ID"] == "arn:aws:kms:k"


def test_probe_event_matches_url_encoded_keys():
    body = json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "wandb-fleet-probe/a+b%2Fc"}}}]}
    )
    assert s3config.probe_event(body, "wandb-fleet-probe/a b/c") == "ObjectCreated:Put"
    assert s3config.probe_event(body, "wandb-fleet-probe/other") is None
    assert s3config.probe_event('{"Event": "s3:TestEvent"}', "k") is None
    assert s3config.probe_event("not json", "k") is None


# Error paths through the client layer -------------------------------------------------------
def client_error(code, operation, status=403, message="denied"):
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


class FakeClient:
    """Answers from a table; an Exception value is raised. Records every call."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append((name, kwargs))
            answer = self.answers.get(name, {})
            if isinstance(answer, Exception):
                raise answer
            return answer(**kwargs) if callable(answer) else answer

        return call


def storage(s3_answers, sqs_answers=None, **params):
    s3 = FakeClient(s3_answers)
    sqs = FakeClient(
        sqs_answers
        if sqs_answers is not None
        else {
            "get_queue_url": {"QueueUrl": "https://sqs/q"},
            "get_queue_attributes": {"Attributes": {"QueueArn": QUEUE_ARN}},
        }
    )
    api = s3api.S3Api(s3, sqs, "eu-west-1")
    args = dict({"name": "b", "queue": "q", "host": "https://w.example"}, **params)
    return s3mod.S3Storage(args, Changes(), api=api), s3, sqs


EXISTING_BUCKET = {
    "head_bucket": {},
    "get_public_access_block": {"PublicAccessBlockConfiguration": dict(s3config.PUBLIC_ACCESS_BLOCK)},
    "get_bucket_cors": {"CORSRules": [s3config.s3_cors_rule("https://w.example")]},
    "get_bucket_notification_configuration": {"QueueConfigurations": [s3config.notification_entry(QUEUE_ARN)]},
}


def test_fully_configured_setup_makes_no_call_that_writes():
    st_, s3, sqs = storage(dict(EXISTING_BUCKET), sqs_answers=None)
    sqs.answers["get_queue_attributes"] = {
        "Attributes": {
            "QueueArn": QUEUE_ARN,
            "Policy": json.dumps(s3config.build_queue_policy(None, QUEUE_ARN, "arn:aws:s3:::b")),
        }
    }
    st_.present()
    assert st_.changes.actions == []
    assert not [c for c in s3.calls + sqs.calls if c[0].startswith(("put_", "create_", "set_", "delete_"))]


@pytest.mark.parametrize(
    ("failing", "permission"),
    [
        ("get_public_access_block", "s3:GetBucketPublicAccessBlock"),
        ("put_public_access_block", "s3:PutBucketPublicAccessBlock"),
        ("get_bucket_cors", "s3:GetBucketCORS"),
        ("put_bucket_cors", "s3:PutBucketCORS"),
        ("get_bucket_notification_configuration", "s3:GetBucketNotification"),
        ("put_bucket_notification_configuration", "s3:PutBucketNotification"),
    ],
)
def test_s3_access_denied_names_permission_and_bucket(failing, permission):
    answers = dict(EXISTING_BUCKET)
    answers["get_public_access_block"] = client_error(
        "NoSuchPublicAccessBlockConfiguration", "GetPublicAccessBlock", 404
    )
    answers["get_bucket_cors"] = client_error("NoSuchCORSConfiguration", "GetBucketCors", 404)
    answers["get_bucket_notification_configuration"] = {}
    answers[failing] = client_error("AccessDenied", failing)
    st_ = storage(answers)[0]
    with pytest.raises(PermissionDeniedError) as exc:
        st_.present()
    assert exc.value.msg.startswith("missing permission %s on resource arn:aws:s3:::b" % permission)


@pytest.mark.parametrize(
    ("failing", "permission"),
    [
        ("get_queue_url", "sqs:GetQueueUrl"),
        ("get_queue_attributes", "sqs:GetQueueAttributes"),
        ("set_queue_attributes", "sqs:SetQueueAttributes"),
    ],
)
def test_sqs_access_denied_names_permission_and_queue(failing, permission):
    sqs_answers = {
        "get_queue_url": {"QueueUrl": "https://sqs/q"},
        "get_queue_attributes": {"Attributes": {"QueueArn": QUEUE_ARN}},
    }
    sqs_answers[failing] = client_error("AccessDenied", failing)
    st_ = storage(dict(EXISTING_BUCKET), sqs_answers)[0]
    with pytest.raises(PermissionDeniedError) as exc:
        st_.present()
    assert exc.value.msg.startswith("missing permission %s on resource sqs queue q" % permission)


def test_create_queue_denied():
    sqs_answers = {
        "get_queue_url": client_error("AWS.SimpleQueueService.NonExistentQueue", "GetQueueUrl", 400),
        "create_queue": client_error("AccessDenied", "CreateQueue"),
    }
    st_ = storage(dict(EXISTING_BUCKET), sqs_answers)[0]
    with pytest.raises(PermissionDeniedError, match="missing permission sqs:CreateQueue on resource sqs queue q"):
        st_.present()


def test_create_bucket_denied_and_region_constraint():
    answers = {
        "head_bucket": client_error("404", "HeadBucket", 404),
        "create_bucket": client_error("AccessDenied", "CreateBucket"),
    }
    st_, s3 = storage(answers)[:2]
    with pytest.raises(PermissionDeniedError, match="missing permission s3:CreateBucket on resource arn:aws:s3:::b"):
        st_.present()
    assert s3.calls[-1] == (
        "create_bucket",
        {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    )


def test_bucket_of_another_account():
    st_ = storage({"head_bucket": client_error("403", "HeadBucket", 403)})[0]
    with pytest.raises(FileStorageError, match="belongs to another account, or the caller lacks s3:ListBucket"):
        st_.present()


def test_kms_encryption_denied_names_put_encryption_configuration():
    answers = dict(EXISTING_BUCKET)
    answers["get_bucket_encryption"] = client_error(
        "ServerSideEncryptionConfigurationNotFoundError", "GetBucketEncryption", 404
    )
    answers["put_bucket_encryption"] = client_error("AccessDenied", "PutBucketEncryption")
    st_ = storage(answers, kms_key_id="arn:aws:kms:eu-west-1:1:key/k")[0]
    with pytest.raises(PermissionDeniedError, match="missing permission s3:PutEncryptionConfiguration"):
        st_.present()
    assert "set default encryption of bucket b to KMS key arn:aws:kms:eu-west-1:1:key/k" in st_.changes.actions


def test_destination_validation_failure_points_at_the_queue_policy():
    answers = dict(EXISTING_BUCKET)
    answers["get_bucket_notification_configuration"] = {}
    answers["put_bucket_notification_configuration"] = client_error(
        "InvalidArgument",
        "PutBucketNotificationConfiguration",
        400,
        "Unable to validate the following destination configurations",
    )
    st_ = storage(answers)[0]
    with pytest.raises(FileStorageError) as exc:
        st_.present()
    assert "its policy must allow sqs:SendMessage from arn:aws:s3:::b" in exc.value.msg


def test_overlapping_notification_is_explained():
    answers = dict(EXISTING_BUCKET)
    answers["get_bucket_notification_configuration"] = {}
    answers["put_bucket_notification_configuration"] = client_error(
        "InvalidArgument",
        "PutBucketNotificationConfiguration",
        400,
        "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
    )
    st_ = storage(answers)[0]
    with pytest.raises(FileStorageError, match="overlapping filter"):
        st_.present()


def test_connection_errors_are_reported_with_the_call():
    st_ = storage({"head_bucket": EndpointConnectionError(endpoint_url="http://nowhere")})[0]
    with pytest.raises(FileStorageError, match="head_bucket on arn:aws:s3:::b failed: Could not connect"):
        st_.present()


def test_check_mode_on_a_missing_setup_writes_nothing_and_lists_everything():
    answers = {"head_bucket": client_error("404", "HeadBucket", 404)}
    sqs_answers = {"get_queue_url": client_error("AWS.SimpleQueueService.NonExistentQueue", "GetQueueUrl", 400)}
    s3 = FakeClient(answers)
    sqs = FakeClient(sqs_answers)
    st_ = s3mod.S3Storage(
        {"name": "b", "queue": "q", "host": "https://w.example"},
        Changes(check_mode=True),
        api=s3api.S3Api(s3, sqs, "us-east-1"),
    )
    st_.present()
    assert [a.split(" ")[0] for a in st_.changes.actions] == ["create", "block", "set", "create", "allow", "send"]
    assert [c[0] for c in s3.calls] == ["head_bucket"]
    assert [c[0] for c in sqs.calls] == ["get_queue_url"]


def test_queue_is_required():
    with pytest.raises(FileStorageError, match="needs queue"):
        s3mod.S3Storage({"name": "b", "queue": None}, Changes(), api=s3api.S3Api(None, None, "us-east-1"))


def test_absent_keeps_a_non_empty_bucket_and_empties_it_with_force():
    answers = {
        "head_bucket": {},
        "get_bucket_notification_configuration": {"QueueConfigurations": [s3config.notification_entry(QUEUE_ARN)]},
        "get_bucket_cors": {"CORSRules": [s3config.s3_cors_rule("https://w.example")]},
        "list_object_versions": {
            "Versions": [{"Key": "k", "VersionId": "v1"}],
            "DeleteMarkers": [{"Key": "k", "VersionId": "v2"}],
        },
    }
    st_, s3, sqs = storage(dict(answers))
    st_.absent(force=False)
    assert st_.changes.warnings and "not empty" in st_.changes.warnings[0]
    assert [c[0] for c in s3.calls if c[0].startswith(("put_", "delete_"))] == [
        "put_bucket_notification_configuration",
        "delete_bucket_cors",
    ]
    assert [c[0] for c in sqs.calls][-1] == "delete_queue"

    listings = iter([answers["list_object_versions"], {}])
    answers["list_object_versions"] = lambda **kw: next(listings)
    st_, s3 = storage(answers)[:2]
    st_.absent(force=True)
    deleted = [c[1]["Delete"]["Objects"] for c in s3.calls if c[0] == "delete_objects"]
    assert deleted == [[{"Key": "k", "VersionId": "v1"}, {"Key": "k", "VersionId": "v2"}]]
    assert s3.calls[-1] == ("delete_bucket", {"Bucket": "b"})


def test_absent_on_an_empty_bucket_deletes_it_without_force():
    answers = {"head_bucket": {}, "get_bucket_notification_configuration": {}, "list_object_versions": {}}
    st_, s3 = storage(answers)[:2]
    st_.absent(force=False)
    assert st_.changes.warnings == []
    assert s3.calls[-1] == ("delete_bucket", {"Bucket": "b"})
