#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: file_storage
short_description: Bucket, queue, notifications and CORS for a W&B server's external file storage
version_added: 0.1.0
description:
  - Creates, corrects or removes the object storage a W&B server (C(wandb/local)) uses as its file store,
    on AWS S3, Google Cloud Storage, Azure Blob Storage or MinIO, and returns the C(BUCKET) and
    C(BUCKET_QUEUE) settings in the formats the server reads.
  - "C(s3): bucket with all public access blocked (optionally KMS default encryption), SQS queue whose policy
    allows C(sqs:SendMessage) only from this bucket, an C(s3:ObjectCreated:*) notification to the queue merged
    with the bucket's other notification entries, and a CORS rule for O(host)."
  - "C(gcs): bucket with a CORS rule, Pub/Sub topic and pull subscription, C(roles/pubsub.publisher) on the topic
    for the project's Cloud Storage service agent, and a C(JSON_API_V1) notification for C(OBJECT_FINALIZE)."
  - "C(azure): storage account (only when O(location) is set and it does not exist), private blob container, a
    CORS rule on the Blob service, a storage queue, and an Event Grid subscription sending
    C(Microsoft.Storage.BlobCreated) events of the container to the queue."
  - "C(minio): bucket, and a user with a policy limited to that bucket. MinIO applies CORS server-wide
    (C(MINIO_API_CORS_ALLOW_ORIGIN)), not per bucket: the module does not change it and says so in RV(notes).
    MinIO has no queue: RV(bucket_queue) is C(internal://)."
  - Every change is listed in RV(changes). A permission error of a provider API is reported as
    C(missing permission X on resource Y).
  - See C(docs/file-storage.md) in the collection for the permissions each provider needs.
author:
  - wandb_local.fleet maintainers (@wandb-local)
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
  - wandb_local.fleet.attributes.ACTIONGROUP_WANDB
  - wandb_local.fleet.file_storage_providers
attributes:
  check_mode:
    support: full
    details: O(verify) is not run in check mode, since it writes a probe object.
  diff_mode:
    support: full
    details:
      - The diff shows each changed configuration (CORS rules, policies, notifications) before and after.
      - It never holds secrets.
  idempotent:
    support: full
options:
  provider:
    description: Where the files live.
    type: str
    required: true
    choices: [s3, gcs, azure, minio]
  name:
    description:
      - The bucket (S3, GCS, MinIO) or blob container (Azure).
    type: str
    required: true
  queue:
    description:
      - "C(s3): the SQS queue name. C(gcs): the Pub/Sub topic; the pull subscription is named C(<queue>-sub).
        C(azure): the storage queue. Not used for C(minio)."
      - Required for every provider but C(minio).
    type: str
  host:
    description:
      - The W&B HOST URL as users reach it, for example C(https://wandb.example.net). It is the CORS origin.
      - Required with O(state=present) (and to remove the CORS rule of a kept bucket with O(state=absent)), except
        for C(minio) without O(verify), since MinIO's CORS is server-wide and left alone.
    type: str
  state:
    description:
      - V(present) creates or corrects everything listed above.
      - V(absent) removes what V(present) creates. A bucket or container that still holds objects is kept (with a
        warning) unless O(force=true).
      - A storage account is only deleted when O(location) is set and nothing is left in it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete the bucket or container even when it holds objects, and every object in it.
    type: bool
    default: false
  verify:
    description:
      - After O(state=present), check the setup end to end, as the W&B server will use it.
      - Writes a probe object under C(wandb-fleet-probe/), waits for its notification on the queue (not for
        C(minio)), checks a CORS preflight from O(host), fetches the probe through a pre-signed URL, then deletes it.
      - Fails naming the step that broke (also in C(failed_step) of the failed result, with C(verify) listing
        every step run); on success RV(verify) lists every step.
      - Reading the queue hides other messages for one second only, and only the probe's message is deleted.
    type: bool
    default: false
  verify_timeout:
    description: Seconds to wait for the probe's notification when O(verify=true).
    type: int
    default: 60
notes:
  - "The module talks to the provider APIs from where it runs, usually the controller (C(delegate_to: localhost))."
  - "RV(env) and RV(bucket) may hold secrets (the MinIO user's secret key, the Azure storage account key); they are
    listed in RV(secret_env_keys). Use C(no_log: true) on the task and on any task that prints them."
requirements:
  - boto3 (s3, minio)
  - minio (minio), unless O(mc_path) is given (then the C(mc) client)
  - google-auth and requests (gcs)
  - azure-identity, azure-mgmt-storage, azure-mgmt-eventgrid, azure-storage-blob, azure-storage-queue (azure)
seealso:
  - module: wandb_local.fleet.settings
"""

EXAMPLES = r"""
- name: S3 bucket, SQS queue and notifications for W&B
  wandb_local.fleet.file_storage:
    provider: s3
    name: acme-wandb-files
    queue: acme-wandb-file-events
    region: eu-west-1
    host: https://wandb.acme.example
    verify: true
  delegate_to: localhost
  register: storage

- name: Hand the result to the server settings
  wandb_local.fleet.settings:
    path: /etc/wandb/wandb.env
    settings: "{{ storage.env }}"
  no_log: true

- name: MinIO bucket and a bucket-scoped key for W&B
  wandb_local.fleet.file_storage:
    provider: minio
    name: wandb
    endpoint_url: https://minio.acme.example:9000
    access_key: "{{ minio_root_user }}"
    secret_key: "{{ minio_root_password }}"
    host: https://wandb.acme.example
  delegate_to: localhost
  register: storage
  no_log: true

- name: GCS bucket, Pub/Sub topic, subscription and notification
  wandb_local.fleet.file_storage:
    provider: gcs
    name: acme-wandb-files
    queue: acme-wandb-file-events
    project: acme-ml
    credentials_file: /etc/gcp/wandb-admin.json
    host: https://wandb.acme.example
  delegate_to: localhost
  register: storage

- name: Azure container, queue and Event Grid subscription in an existing account
  wandb_local.fleet.file_storage:
    provider: azure
    name: wandb-files
    queue: wandb-file-events
    storage_account: acmewandb
    resource_group: rg-wandb
    subscription_id: "{{ azure_subscription_id }}"
    host: https://wandb.acme.example
  delegate_to: localhost
  register: storage
  no_log: true

- name: Remove the S3 setup, objects included
  wandb_local.fleet.file_storage:
    provider: s3
    name: acme-wandb-files
    queue: acme-wandb-file-events
    host: https://wandb.acme.example
    state: absent
    force: true
  delegate_to: localhost
"""

RETURN = r"""
changed:
  description: Whether anything was (or, in check mode, would be) changed.
  returned: always
  type: bool
changes:
  description: Human-readable list of every action taken (or, in check mode, that would be taken), in order.
  returned: always
  type: list
  elements: str
  sample:
    - create bucket acme-wandb-files in eu-west-1
    - create SQS queue acme-wandb-file-events
notes:
  description: Facts the caller should know that the module could not act on, such as MinIO's server-wide CORS.
  returned: always
  type: list
  elements: str
  sample:
    - MinIO applies CORS server-wide (MINIO_API_CORS_ALLOW_ORIGIN), not per bucket; this module did not change it.
bucket:
  description:
    - The W&B C(BUCKET) value. C(s3://BUCKET), C(gs://BUCKET), C(az://ACCOUNT/CONTAINER), or for MinIO
      C(s3://ACCESS_KEY:SECRET_KEY@HOST:PORT/BUCKET) with the credentials URL-encoded (and C(?tls=true) over HTTPS).
    - Holds a secret for MinIO.
  returned: when O(state=present)
  type: str
  sample: s3://acme-wandb-files
bucket_queue:
  description:
    - The W&B C(BUCKET_QUEUE) value. C(sqs://QUEUE), C(pubsub:/PROJECT/TOPIC/SUBSCRIPTION) (one slash),
      C(az://ACCOUNT/QUEUE) or C(internal://) for MinIO.
  returned: when O(state=present)
  type: str
  sample: sqs://acme-wandb-file-events
env:
  description:
    - Environment settings for the W&B server, ready for the O(wandb_local.fleet.settings#module:settings) option
      of M(wandb_local.fleet.settings).
    - C(BUCKET) and C(BUCKET_QUEUE) always; C(AWS_REGION) for S3 and MinIO; C(AWS_S3_KMS_ID) with O(kms_key_id);
      C(AZURE_STORAGE_KEY) for Azure.
    - Holds secrets for MinIO and Azure, named in RV(secret_env_keys).
  returned: when O(state=present)
  type: dict
  sample:
    BUCKET: s3://acme-wandb-files
    BUCKET_QUEUE: sqs://acme-wandb-file-events
    AWS_REGION: eu-west-1
secret_env_keys:
  description: The keys of RV(env) whose values are secrets. Mask them (C(no_log)) wherever they are used.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [AZURE_STORAGE_KEY]
verify:
  description: The steps of O(verify), in order.
  returned: when O(verify=true) and not in check mode
  type: list
  elements: dict
  contains:
    step:
      description: C(put-probe), C(notification), C(cors), C(presigned-url) or C(delete-probe).
      type: str
    status:
      description: C(ok), C(skipped) or C(failed).
      type: str
    detail:
      description: What the step saw.
      type: str
diff:
  description: Before and after of each changed configuration, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

# Every provider is imported here, statically, so that Ansible ships all of them with the module;
# each guards its third-party imports (in its API module, where they are used) and reports what is
# missing through a HAS_* flag.
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_azure as azure_utils
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_azure_api as azure_api
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_gcs as gcs_utils
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_gcs_api as gcs_api
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_minio as minio_utils
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3 as s3_utils
from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_s3_api as s3_api
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_common import (
    Changes,
    FileStorageError,
    run,
)

# provider: (its module, its FileStorageProvider subclass there, the module whose import guard
# says whether its libraries are there, that guard's flag, the libraries to name when they are not)
PROVIDERS = {
    "s3": (s3_utils, "S3Storage", s3_api, "HAS_BOTO3", "boto3"),
    "minio": (minio_utils, "MinioStorage", minio_utils, "HAS_MINIO", "minio and boto3"),
    "gcs": (gcs_utils, "GcsStorage", gcs_api, "HAS_GOOGLE", "google-auth and requests"),
    "azure": (
        azure_utils,
        "AzureStorage",
        azure_api,
        "HAS_AZURE",
        "azure-identity, azure-mgmt-storage, azure-mgmt-eventgrid, azure-storage-blob and azure-storage-queue",
    ),
}


def argument_spec():
    return dict(
        provider=dict(type="str", required=True, choices=list(PROVIDERS)),
        name=dict(type="str", required=True),
        queue=dict(type="str"),
        host=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force=dict(type="bool", default=False),
        verify=dict(type="bool", default=False),
        verify_timeout=dict(type="int", default=60),
        # s3 and minio
        endpoint_url=dict(type="str"),
        region=dict(type="str"),
        # An access key id names the key; only its secret is secret (and masking a short id would
        # blank that string everywhere in the output).
        access_key=dict(type="str", no_log=False),
        secret_key=dict(type="str", no_log=True),
        session_token=dict(type="str", no_log=True),
        kms_key_id=dict(type="str"),
        # minio
        user=dict(type="str"),
        user_secret_key=dict(type="str", no_log=True),
        exclusive_policy=dict(type="bool", default=False),
        mc_path=dict(type="path"),
        ca_file=dict(type="path"),
        # gcs
        project=dict(type="str", fallback=(env_fallback, ["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"])),
        credentials_file=dict(type="path"),
        credentials=dict(type="raw", no_log=True),
        # azure
        subscription_id=dict(type="str", fallback=(env_fallback, ["AZURE_SUBSCRIPTION_ID"])),
        resource_group=dict(type="str"),
        storage_account=dict(type="str"),
        location=dict(type="str"),
        auth_source=dict(type="str", default="auto", choices=["auto", "env", "cli", "msi"]),
        client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
        secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_SECRET", "AZURE_CLIENT_SECRET"])),
        tenant=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT", "AZURE_TENANT_ID"])),
        cloud_environment=dict(type="str", default="AzureCloud", fallback=(env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])),
        disable_instance_discovery=dict(type="bool", default=False),
    )


def load_provider(module):
    lib, cls, guard, flag, libs = PROVIDERS[module.params["provider"]]
    # With mc_path, MinIO is reached through its own client: no Python library is needed.
    uses_mc = module.params["provider"] == "minio" and module.params.get("mc_path")
    if not uses_mc and not getattr(guard, flag):
        module.fail_json(msg=missing_required_lib(libs), exception=getattr(guard, "IMPORT_TRACEBACK", None))
    return getattr(lib, cls)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_if=[
            ("provider", "s3", ["queue"]),
            ("provider", "gcs", ["queue", "project"]),
            ("provider", "azure", ["queue", "storage_account", "resource_group", "subscription_id"]),
            ("provider", "minio", ["endpoint_url"]),
        ],
        # client_id alone is valid for a user-assigned managed identity, so the Azure trio is not tied.
        required_together=[("access_key", "secret_key")],
        mutually_exclusive=[("credentials_file", "credentials")],
    )
    params = module.params
    # MinIO's CORS is server-wide (the module leaves it alone): its present needs host only to verify.
    if params["state"] == "present" and not params["host"] and (params["provider"] != "minio" or params["verify"]):
        module.fail_json(msg="state is present but all of the following are missing: host")
    storage_cls = load_provider(module)
    changes = Changes(check_mode=module.check_mode)
    try:
        storage = storage_cls(module.params, changes)
        result = run(storage, module.params, changes)
    except FileStorageError as exc:
        fail = dict(msg=exc.msg, changed=changes.changed, changes=changes.actions)
        if exc.step:
            fail["failed_step"] = exc.step
        fail.update(exc.details)
        module.fail_json(**fail)
    except Exception as exc:  # an unexpected failure keeps its traceback for -vvv
        module.fail_json(msg="file_storage failed: %s" % exc, exception=traceback.format_exc(), changes=changes.actions)
    for warning in changes.warnings:
        module.warn(warning)
    if module._diff:
        result["diff"] = changes.diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
