"""Offline stand-in for ansible-test's pip bootstrap script.

ansible-test creates its sanity virtualenvs without pip, then downloads
https://ci-files.testing.ansible.com/ansible-test/get-pip-<version>.py to install it; that host is
not reachable from this project's machines (only the package registries are). ansible-test reuses
a script it finds at ~/.ansible/test/cache/get_pip_<version>.py, so `make sanity` puts this one
there. It is run as `python get_pip.py [pip options] pip==<version> [--no-setuptools] [--no-wheel]`:
bootstrap pip from the interpreter's bundled wheel (ensurepip), then let that pip install exactly
what was asked for from PyPI.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap()
# ensurepip points PIP_CONFIG_FILE at /dev/null for itself; the real install must see the
# machine's pip configuration (its CA bundle, for one).
os.environ.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
