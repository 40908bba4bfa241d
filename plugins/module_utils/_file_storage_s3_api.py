# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_storage on AWS: the boto3 clients and the calls, each tied to the IAM action it needs.

Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import FileStorageError, api_error
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_s3_config import bucket_arn

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    HAS_BOTO3 = True
    IMPORT_TRACEBACK = None
except ImportError:  # the module reports it with missing_required_lib
    HAS_BOTO3 = False
    IMPORT_TRACEBACK = traceback.format_exc()
    ClientError = BotoCoreError = None

# S3 answers "not configured" with these codes; they mean "nothing set", not an error.
NO_PUBLIC_ACCESS_BLOCK = ("NoSuchPublicAccessBlockConfiguration",)
NO_ENCRYPTION = ("ServerSideEncryptionConfigurationNotFoundError",)
NO_CORS = ("NoSuchCORSConfiguration",)
NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
NO_BUCKET = ("404", "NoSuchBucket", "NotFound")


def is_error_code(exc, codes):
    """True when a botocore ClientError carries one of `codes` (as amazon.aws's is_boto3_error_code)."""
    if ClientError is None or not isinstance(exc, ClientError):
        return False
    return exc.response.get("Error", {}).get("Code") in codes


class S3Api(object):
    """The boto3 calls file_storage makes, each tied to the IAM action it needs.

    Every call goes through `call`, so a denied request becomes "missing permission X on
    resource Y" with the action named as IAM spells it.
    """

    def __init__(self, s3, sqs, region):
        self.s3 = s3
        self.sqs = sqs
        self.region = region

    def call(self, client, operation, permission, resource, **kwargs):
        try:
            return getattr(client, operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise api_error(operation, permission, resource, status, error.get("Code"), error.get("Message")) from exc
        except BotoCoreError as exc:
            raise FileStorageError("%s on %s failed: %s" % (operation, resource, exc)) from exc

    # Each method below lets through exactly the "not there" answers its caller handles.
    def s3_call(self, operation, permission, bucket, missing=(), **kwargs):
        try:
            return self.call(self.s3, operation, permission, bucket_arn(bucket), **kwargs)
        except FileStorageError as exc:
            cause = exc.__cause__
            if missing and is_error_code(cause, missing):
                return None
            raise

    def sqs_call(self, operation, permission, queue, missing=(), **kwargs):
        try:
            return self.call(self.sqs, operation, permission, "sqs queue %s" % queue, **kwargs)
        except FileStorageError as exc:
            if missing and is_error_code(exc.__cause__, missing):
                return None
            raise


def connect(params):
    """boto3 clients for S3 and SQS from module parameters, environment and profile."""
    session = boto3.session.Session(
        aws_access_key_id=params.get("access_key"),
        aws_secret_access_key=params.get("secret_key"),
        aws_session_token=params.get("session_token"),
        region_name=params.get("region"),
    )
    region = session.region_name or "us-east-1"
    config = Config(retries={"max_attempts": 5, "mode": "standard"})
    kwargs = {"region_name": region, "config": config}
    if params.get("endpoint_url"):
        kwargs["endpoint_url"] = params["endpoint_url"]
    return S3Api(session.client("s3", **kwargs), session.client("sqs", **kwargs), region)
