"""The provider interface: what the file_storage module calls, and the four providers that implement it."""

import inspect

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils import _file_storage_common as common
from ansible_collections.wandb_local.fleet.plugins.module_utils._file_storage_provider import FileStorageProvider
from ansible_collections.wandb_local.fleet.plugins.modules import file_storage

INTERFACE = ("present", "absent", "verify", "outputs")


@pytest.mark.parametrize("provider", sorted(file_storage.PROVIDERS))
def test_every_provider_subclasses_the_interface_and_implements_all_of_it(provider):
    lib, cls_name = file_storage.PROVIDERS[provider][:2]
    cls = getattr(lib, cls_name)
    assert issubclass(cls, FileStorageProvider)
    for method in INTERFACE:
        assert getattr(cls, method) is not getattr(FileStorageProvider, method), "%s.%s" % (cls_name, method)
        ours = inspect.signature(getattr(cls, method))
        base = inspect.signature(getattr(FileStorageProvider, method))
        assert list(ours.parameters) == list(base.parameters), "%s.%s" % (cls_name, method)


def test_the_base_class_keeps_params_and_changes_and_implements_nothing():
    changes = common.Changes()
    provider = FileStorageProvider({"name": "b"}, changes)
    assert provider.params == {"name": "b"} and provider.changes is changes
    for method in INTERFACE:
        with pytest.raises(NotImplementedError):
            getattr(provider, method)()
