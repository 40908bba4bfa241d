# -*- coding: utf-8 -*-
# Copyright: wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The interface between the file_storage module and its providers (s3, gcs, azure, minio).

Private to this collection: the interface may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FileStorageProvider(object):
    """One object storage provider, as plugins/modules/file_storage.py drives it.

    The module picks the subclass by the `provider` option and builds it with the module's
    parameters and a _file_storage_common.Changes; _file_storage_common.run() then calls
    present() (and verify() when `verify` is true and not in check mode) and outputs(), or
    absent(). Whether the provider's Python libraries are there is the business of its API
    module's import guard (a HAS_* flag), which the module checks before building the provider.

    What every method must keep to:
    - record each action with self.changes.record(action, key, before, after) (the words of
      `changes`, the diff) before making it, and make it only when self.changes.apply (false in
      check mode); self.changes.warn() and .note() for `warnings` and `notes`;
    - change only what the module owns (entries named with _file_storage_common.OWNER_ID), and
      keep every other entry of a shared configuration (notifications, policies, CORS rules);
    - raise _file_storage_common.FileStorageError for anything the user must see, a denied call
      through api_error() so that it names the missing permission and the resource.
    """

    def __init__(self, params, changes):
        # params: the module's parameters (AnsibleModule.params); changes: a Changes.
        self.params = params
        self.changes = changes

    def present(self):
        """Create what is missing and correct what differs: bucket (container), queue, the bucket's
        notification to the queue, the CORS rule for the W&B host."""
        raise NotImplementedError

    def absent(self, force=False):
        """Remove what present() creates. A bucket that still holds objects is kept (with a
        warning) unless `force`, which deletes the objects too."""
        raise NotImplementedError

    def verify(self, timeout=60):
        """The end-to-end check after present(), through _file_storage_common.verify_probe():
        returns its list of steps, or raises FileStorageError naming the step that failed.
        `timeout`: seconds to wait for the probe's notification."""
        raise NotImplementedError

    def outputs(self):
        """After present(): {"bucket": BUCKET, "bucket_queue": BUCKET_QUEUE, "env": the W&B
        variables} and, when `env` holds secrets, "secret_env_keys": their names."""
        raise NotImplementedError
