"""The users' view of a day-2 run: /ready through the proxy, sampled from this machine.

Scenario tests import it as `from proxy_watch import ProxyWatch` (pyproject.toml puts this directory
on pytest's pythonpath)."""

import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path


class ProxyWatch:
    """Asks /ready through the proxy (a lab host with the lab CA's certificate) every 0.2 s from this
    machine while a run happens; `answers` holds every status (or the error's text)."""

    def __init__(self, proxy_host):
        address = subprocess.run(
            ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", proxy_host],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self.url = f"https://{address}/ready"
        ca = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "wandb-secrets" / "ca" / "ca.crt"
        self.context = ssl.create_default_context(cafile=str(ca))
        self.context.check_hostname = False
        self.answers = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def status(self):
        try:
            with urllib.request.urlopen(self.url, timeout=2, context=self.context) as answer:  # noqa: S310
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError as error:
            return str(error)

    def _loop(self):
        while not self._stop.is_set():
            self.answers.append(self.status())
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
