# -*- coding: utf-8 -*-
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Provider options of wandb_local.fleet.file_storage, grouped by provider.
    DOCUMENTATION = r"""
options:
  endpoint_url:
    description:
      - "C(s3): an S3 API endpoint other than AWS's (for SQS too, as emulators serve both). To point S3 and SQS
        at different endpoints, use boto3's E(AWS_ENDPOINT_URL_S3) and E(AWS_ENDPOINT_URL_SQS) instead."
      - "C(minio): the MinIO server, C(http(s)://HOST:PORT). Required for C(minio). Its host and port go into
        C(BUCKET) in RV(env), and the server signs upload and download URLs for exactly that endpoint: give a name
        every training host and browser reaches and trusts (and the server's container too), never one only the
        container resolves such as C(host.docker.internal) (docs/file-storage.md, which endpoint goes into BUCKET)."
    type: str
  region:
    description:
      - "C(s3): the bucket's and queue's region; defaults to E(AWS_REGION), the boto3 profile, or C(us-east-1)."
      - "C(minio): the region W&B signs requests for (C(AWS_REGION) in RV(env)); default C(us-east-1)."
    type: str
  access_key:
    description:
      - "C(s3): AWS access key id; defaults to boto3's usual sources (E(AWS_ACCESS_KEY_ID), profile, instance role)."
      - "C(minio): an admin access key (the root user or a user allowed C(admin:*User*) and C(admin:*Policy*));
        defaults to E(MINIO_ROOT_USER)."
    type: str
  secret_key:
    description:
      - The secret of O(access_key). For C(minio) defaults to E(MINIO_ROOT_PASSWORD).
    type: str
  session_token:
    description: "C(s3): AWS session token for temporary credentials."
    type: str
  kms_key_id:
    description:
      - "C(s3): KMS key id or ARN for the bucket's default encryption (C(aws:kms), bucket key on). Without it the
        bucket's encryption settings are left as they are. Also returned as C(AWS_S3_KMS_ID) in RV(env)."
    type: str
  project:
    description:
      - "C(gcs): the Google Cloud project of the bucket, topic and subscription. Defaults to E(GOOGLE_CLOUD_PROJECT)."
    type: str
  credentials_file:
    description:
      - "C(gcs): path to a service account key file (or any google-auth credentials file). Without it and without
        O(credentials), Application Default Credentials are used (E(GOOGLE_APPLICATION_CREDENTIALS), gcloud, metadata
        server)."
      - With O(verify=true), credentials that can sign (a service account key) are needed for the pre-signed URL step.
    type: path
  credentials:
    description:
      - "C(gcs): the content of a credentials file, as a dict or a JSON string."
    type: raw
  subscription_id:
    description: "C(azure): the subscription holding the storage account. Defaults to E(AZURE_SUBSCRIPTION_ID)."
    type: str
  resource_group:
    description: "C(azure): the resource group of the storage account."
    type: str
  storage_account:
    description: "C(azure): the storage account name."
    type: str
  location:
    description:
      - "C(azure): when set, the storage account is created in this region if it does not exist (StorageV2,
        Standard_LRS, HTTPS only, TLS 1.2, no public blob access); without it the account must exist."
      - "C(gcs): the bucket location when it is created (default C(US))."
    type: str
  auth_source:
    description:
      - "C(azure): where Azure credentials come from when O(client_id), O(secret) and O(tenant) are not all set.
        V(auto) tries the environment, managed identity and the Azure CLI in turn."
    type: str
    choices: [auto, env, cli, msi]
    default: auto
  client_id:
    description: "C(azure): service principal application id. Defaults to E(AZURE_CLIENT_ID)."
    type: str
  user:
    description:
      - "C(minio): the MinIO user (access key) W&B gets, whose only policy should be C(wandb-<name>). Default
        C(wandb-<name>)."
    type: str
  user_secret_key:
    description:
      - "C(minio): the secret key of O(user), 8 to 40 characters. Default: derived from the admin secret key, the
        endpoint and the bucket (HMAC-SHA256, 40 characters), so re-runs find the same key."
      - A user whose secret no longer works is given this one again (reported as a change).
      - Ansible masks this value wherever it appears in the result, so RV(bucket) and RV(env) carry
        C(********) in its place; compose C(BUCKET) with the secret you gave (C(wandb_local.fleet.bucket_url)).
    type: str
  exclusive_policy:
    description:
      - "C(minio): detach every other policy from O(user), so its key reaches the bucket only. Without it, other
        policies are kept and reported as a warning."
    type: bool
    default: false
  mc_path:
    description:
      - "C(minio): make every call with MinIO's client C(mc) at this path instead of the Python libraries boto3 and
        minio, for hosts that have C(mc) but not those libraries (the collection's C(minio) role runs the module on
        a MinIO node). O(verify) needs the libraries."
    type: path
  ca_file:
    description:
      - "C(minio) with O(mc_path): the CA certificate that verifies the server's TLS certificate (else the host's
        system roots)."
    type: path
  secret:
    description: "C(azure): service principal secret. Defaults to E(AZURE_SECRET) or E(AZURE_CLIENT_SECRET)."
    type: str
  tenant:
    description: "C(azure): tenant id. Defaults to E(AZURE_TENANT) or E(AZURE_TENANT_ID)."
    type: str
  cloud_environment:
    description:
      - "C(azure): V(AzureCloud), V(AzureChinaCloud), V(AzureUSGovernment), or the URL of an Azure Resource Manager
        whose C(/metadata/endpoints) document names its login endpoint and audience (Azure Stack).
        Defaults to E(AZURE_CLOUD_ENVIRONMENT)."
    type: str
    default: AzureCloud
  disable_instance_discovery:
    description:
      - "C(azure): skip Microsoft Entra instance discovery, for private clouds and Azure Stack whose login endpoint is
        not known to the public cloud."
    type: bool
    default: false
"""
