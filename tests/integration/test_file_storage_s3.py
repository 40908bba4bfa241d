"""file_storage against moto_server: S3 + SQS, with real S3 -> SQS delivery."""

import json
import time
import uuid
from urllib.parse import unquote_plus

import boto3
import pytest
from conftest import HOST

pytestmark = pytest.mark.emulator


@pytest.fixture
def aws(moto):
    kwargs = dict(
        endpoint_url=moto, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    suffix = uuid.uuid4().hex[:8]
    return {
        "s3": boto3.client("s3", **kwargs),
        "sqs": boto3.client("sqs", **kwargs),
        "args": {
            "provider": "s3",
            "name": "wandb-files-%s" % suffix,
            "queue": "wandb-events-%s" % suffix,
            "host": HOST,
            "endpoint_url": moto,
            "region": "eu-west-1",
            "access_key": "testing",
            "secret_key": "testing",
        },
    }


def _drain(sqs, url, wait=5):
    """Every message body on the queue within `wait` seconds."""
    bodies, deadline = [], time.monotonic() + wait
    while time.monotonic() < deadline:
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in resp.get("Messages", []):
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_provision_then_upload_reaches_queue_and_rerun_is_noop(aws, run_module):
    args, s3, sqs = aws["args"], aws["s3"], aws["sqs"]
    first = run_module(args)
    assert first["changed"] is True
    assert first["bucket"] == "s3://" + args["name"]
    assert first["bucket_queue"] == "sqs://" + args["queue"]
    assert first["env"] == {"BUCKET": first["bucket"], "BUCKET_QUEUE": first["bucket_queue"], "AWS_REGION": "eu-west-1"}
    assert any(c.startswith("create bucket") for c in first["changes"])
    assert any(c.startswith("create SQS queue") for c in first["changes"])

    # What AWS holds now, read back independently of the module.
    pab = s3.get_public_access_block(Bucket=args["name"])["PublicAccessBlockConfiguration"]
    assert all(pab.values()) and len(pab) == 4
    cors = s3.get_bucket_cors(Bucket=args["name"])["CORSRules"]
    assert len(cors) == 1
    assert cors[0]["AllowedOrigins"] == [HOST]
    assert sorted(cors[0]["AllowedMethods"]) == ["GET", "HEAD", "PUT"]
    assert cors[0]["AllowedHeaders"] == ["*"] and cors[0]["ExposeHeaders"] == ["ETag"]
    url = sqs.get_queue_url(QueueName=args["queue"])["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])["Attributes"]
    statement = json.loads(attrs["Policy"])["Statement"]
    assert len(statement) == 1
    assert statement[0]["Action"] == "sqs:SendMessage"
    assert statement[0]["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::" + args["name"]}}
    notif = s3.get_bucket_notification_configuration(Bucket=args["name"])
    assert [(q["QueueArn"], q["Events"]) for q in notif["QueueConfigurations"]] == [
        (attrs["QueueArn"], ["s3:ObjectCreated:*"])
    ]

    _drain(sqs, url, wait=2)  # S3 sends an s3:TestEvent when a notification is set
    s3.put_object(Bucket=args["name"], Key="runs/abc/file.txt", Body=b"hello")
    events = [r for b in _drain(sqs, url) for r in b.get("Records", [])]
    assert [(e["eventName"], unquote_plus(e["s3"]["object"]["key"])) for e in events] == [
        ("ObjectCreated:Put", "runs/abc/file.txt")
    ]

    second = run_module(args)
    assert second["changed"] is False, second["changes"]
    assert second["changes"] == []


def test_unrelated_notification_and_cors_rule_survive(aws, run_module):
    args, s3, sqs = aws["args"], aws["s3"], aws["sqs"]
    s3.create_bucket(Bucket=args["name"], CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    other_url = sqs.create_queue(QueueName=args["queue"] + "-other")["QueueUrl"]
    other_arn = sqs.get_queue_attributes(QueueUrl=other_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    other = {
        "Id": "audit-deletes",
        "QueueArn": other_arn,
        "Events": ["s3:ObjectRemoved:*"],
    }
    s3.put_bucket_notification_configuration(
        Bucket=args["name"], NotificationConfiguration={"QueueConfigurations": [other]}
    )
    s3.put_bucket_cors(
        Bucket=args["name"],
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["https://other.example"], "AllowedMethods": ["GET"]}]},
    )

    result = run_module(args, diff=True)
    assert result["changed"] is True
    notif = s3.get_bucket_notification_configuration(Bucket=args["name"])["QueueConfigurations"]
    assert sorted(q["Id"] for q in notif) == ["audit-deletes", "wandb-local-fleet-object-created"]
    kept = next(q for q in notif if q["Id"] == "audit-deletes")
    assert kept["QueueArn"] == other_arn and kept["Events"] == ["s3:ObjectRemoved:*"]
    origins = sorted(o for r in s3.get_bucket_cors(Bucket=args["name"])["CORSRules"] for o in r["AllowedOrigins"])
    assert origins == sorted([HOST, "https://other.example"])
    assert "notification" in result["diff"]["before"]
    assert len(result["diff"]["before"]["notification"]["QueueConfigurations"]) == 1
    assert len(result["diff"]["after"]["notification"]["QueueConfigurations"]) == 2

    # A second run neither duplicates our entry nor touches theirs.
    again = run_module(args)
    assert again["changed"] is False, again["changes"]
    assert len(s3.get_bucket_notification_configuration(Bucket=args["name"])["QueueConfigurations"]) == 2

    # Our entry drifted (someone pointed it at ObjectRemoved): it is replaced, not duplicated.
    drifted = [
        other,
        {"Id": "wandb-local-fleet-object-created", "QueueArn": other_arn, "Events": ["s3:ObjectRemoved:Delete"]},
    ]
    s3.put_bucket_notification_configuration(
        Bucket=args["name"], NotificationConfiguration={"QueueConfigurations": drifted}
    )
    fixed = run_module(args)
    assert fixed["changed"] is True
    notif = s3.get_bucket_notification_configuration(Bucket=args["name"])["QueueConfigurations"]
    ours = [q for q in notif if q["Id"] == "wandb-local-fleet-object-created"]
    assert len(notif) == 2 and len(ours) == 1 and ours[0]["Events"] == ["s3:ObjectCreated:*"]


def test_check_mode_changes_nothing(aws, run_module):
    args, s3, sqs = aws["args"], aws["s3"], aws["sqs"]
    result = run_module(dict(args, verify=True), check=True, diff=True)
    assert result["changed"] is True
    assert any("create bucket" in c for c in result["changes"])
    assert "verify" not in result
    assert any("check mode" in n for n in result["notes"])
    assert args["name"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=args["queue"])

    run_module(args)
    assert run_module(args, check=True)["changed"] is False


def test_verify_runs_every_step_and_present_repairs_drift(aws, run_module):
    args, s3 = aws["args"], aws["s3"]
    ok = run_module(dict(args, verify=True, verify_timeout=20))
    assert [(s["step"], s["status"]) for s in ok["verify"]] == [
        ("put-probe", "ok"),
        ("notification", "ok"),
        ("cors", "ok"),
        ("presigned-url", "ok"),
        ("delete-probe", "ok"),
    ]
    assert s3.list_objects_v2(Bucket=args["name"]).get("KeyCount", 0) == 0

    # Remove the notification and CORS behind the module's back: present puts them back,
    # names both repairs, and verify passes again.
    s3.put_bucket_notification_configuration(Bucket=args["name"], NotificationConfiguration={})
    s3.delete_bucket_cors(Bucket=args["name"])
    repaired = run_module(dict(args, verify=True, verify_timeout=20))
    assert repaired["changed"] is True
    assert sorted(c.split()[0] + " " + c.split()[1] for c in repaired["changes"]) == [
        "send s3:ObjectCreated:*",
        "set CORS",
    ]
    assert all(s["status"] == "ok" for s in repaired["verify"])


def test_absent_removes_what_present_created(aws, run_module):
    args, s3, sqs = aws["args"], aws["s3"], aws["sqs"]
    run_module(args)
    s3.put_object(Bucket=args["name"], Key="keep.txt", Body=b"x")

    kept = run_module(dict(args, state="absent"))
    assert kept["changed"] is True
    assert "is not empty: kept" in json.dumps(kept.get("warnings", []))
    assert args["name"] in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_notification_configuration(Bucket=args["name"]).get("QueueConfigurations") is None
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=args["queue"])

    forced = run_module(dict(args, state="absent", force=True))
    assert forced["changed"] is True
    assert args["name"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert run_module(dict(args, state="absent"))["changed"] is False


def test_playbook_feeds_settings(aws, run_module, tmp_path):
    """playbooks/file_storage.yml --tags s3: the module's env lands in the server's environment file."""
    import os
    import subprocess
    import sys

    from conftest import COLLECTIONS, REPO

    args = aws["args"]
    env_file = tmp_path / "wandb.env"
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[wandb_server]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
    )
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
    )
    command = [
        str(REPO / ".venv" / "bin" / "ansible-playbook")
        if (REPO / ".venv" / "bin" / "ansible-playbook").exists()
        else "ansible-playbook",
        "-i",
        str(inventory),
        str(REPO / "playbooks" / "file_storage.yml"),
        "--tags",
        "s3",
        "-e",
        "wandb_host=%s" % HOST,
        "-e",
        "wandb_file_storage_bucket=%s wandb_file_storage_queue=%s" % (args["name"], args["queue"]),
        "-e",
        "wandb_file_storage_region=eu-west-1 wandb_file_storage_endpoint_url=%s" % args["endpoint_url"],
        "-e",
        "wandb_file_storage_settings_path=%s wandb_file_storage_become=false" % env_file,
    ]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    content = env_file.read_text()
    assert "BUCKET=s3://%s" % args["name"] in content
    assert "BUCKET_QUEUE=sqs://%s" % args["queue"] in content
    assert "AWS_REGION=eu-west-1" in content
    assert (env_file.stat().st_mode & 0o777) == 0o600
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout.split("PLAY RECAP")[-1], second.stdout
