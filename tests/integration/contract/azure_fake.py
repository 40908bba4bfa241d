"""Contract fake for what no Azure emulator serves: Resource Manager (storage accounts, Event Grid
subscriptions), the cloud metadata document and the Entra ID token endpoint.

It speaks HTTPS (azure-identity and azure-core refuse bearer tokens over plain HTTP) with a
certificate made for the test run. Every PUT body is checked against the azure-mgmt-storage and
azure-mgmt-eventgrid models; a violation answers 400 and is kept in `violations`.

Event Grid itself is simulated: for each subscription it stores, a thread watches the container
in Azurite and puts an Event Grid-schema BlobCreated event (base64, as Event Grid writes to
storage queues) on the destination queue for each new blob under the subject filter.
"""

import base64
import datetime
import ipaddress
import json
import re
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from azure.mgmt.eventgrid import models as eg_models
from azure.mgmt.storage import models as st_models
from contract.schemas import azure_errors

TOKEN = "fake-arm-token-" + uuid.uuid4().hex
ACCOUNT_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Storage/storageAccounts/(?P<name>[^/]+)"
    r"(?P<action>/listKeys)?$",
    re.IGNORECASE,
)
EVENT_SUB_RE = re.compile(
    r"^(?P<scope>/.+)/providers/Microsoft\.EventGrid/eventSubscriptions/(?P<name>[^/]+)$", re.IGNORECASE
)


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 and localhost: (cert path, key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wandb-fleet azure contract fake")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "azure-fake.crt", directory / "azure-fake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class AzureFake:
    def __init__(self, cert_path, key_path, accounts):
        """accounts: {name: {"blob": url, "queue": url, "key": account key}} served by Azurite."""
        self.accounts = accounts
        self.storage_accounts = {}
        self.event_subscriptions = {}
        self.violations = []
        self.requests = []
        self.deny = set()  # resource groups whose requests answer 403 AuthorizationFailed
        self.delivery_errors = []
        self.delivered = []
        self.deliver = True  # False: Event Grid silently delivers nothing
        self.lock = threading.Lock()
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, body=None, headers=None):
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return raw

            def do_GET(self):
                fake.handle(self, "GET")

            def do_PUT(self):
                fake.handle(self, "PUT")

            def do_POST(self):
                fake.handle(self, "POST")

            def do_DELETE(self):
                fake.handle(self, "DELETE")

            def do_PATCH(self):
                fake.handle(self, "PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_path), str(key_path))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        self._threads = [threading.Thread(target=self.server.serve_forever, daemon=True)]
        self._threads.append(threading.Thread(target=self._deliver_events, daemon=True))

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    # request handling ---------------------------------------------------------------------------
    def handle(self, req, method):
        parts = urlsplit(req.path)
        path = parts.path
        query = parse_qs(parts.query)
        raw = req._body()
        with self.lock:
            self.requests.append((method, path))
        if path == "/metadata/endpoints":
            return req._reply(
                200,
                {
                    "name": "WandbFleetContractFake",
                    "resourceManager": self.url + "/",
                    "authentication": {"loginEndpoint": self.url + "/login/", "audiences": [self.url + "/"]},
                    "suffixes": {"storage": "core.windows.net"},
                },
            )
        if path.startswith("/login/"):
            return self._login(req, method, path)
        if req.headers.get("Authorization") != "Bearer " + TOKEN:
            return req._reply(401, {"error": {"code": "InvalidAuthenticationToken", "message": "no or wrong token"}})
        if "api-version" not in query:
            return self._violation(req, "%s %s: no api-version query parameter" % (method, path))
        m = ACCOUNT_RE.match(path)
        if m and m.group("rg") in self.deny:
            action = "Microsoft.Storage/storageAccounts/" + {"GET": "read", "PUT": "write", "DELETE": "delete"}.get(
                method, "listkeys/action"
            )
            return req._reply(
                403,
                {
                    "error": {
                        "code": "AuthorizationFailed",
                        "message": "The client '%s' with object id '%s' does not have authorization to perform action "
                        "'%s' over scope '%s' or the scope is invalid." % (uuid.uuid4(), uuid.uuid4(), action, path),
                    }
                },
            )
        if m:
            return self._storage_account(req, method, m, raw)
        m = EVENT_SUB_RE.match(path)
        if m:
            return self._event_subscription(req, method, m, raw)
        return req._reply(
            404, {"error": {"code": "NotFound", "message": "the fake does not serve %s %s" % (method, path)}}
        )

    def _violation(self, req, message):
        with self.lock:
            self.violations.append(message)
        return req._reply(400, {"error": {"code": "ContractViolation", "message": message}})

    def _login(self, req, method, path):
        tenant = path.split("/")[2]
        if path.endswith("/.well-known/openid-configuration"):
            base = "%s/login/%s" % (self.url, tenant)
            return req._reply(
                200,
                {
                    "token_endpoint": base + "/oauth2/v2.0/token",
                    "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                    "issuer": base + "/v2.0",
                    "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
                },
            )
        if path.endswith("/oauth2/v2.0/token") and method == "POST":
            return req._reply(
                200, {"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": TOKEN}
            )
        return req._reply(404, {"error": "not_found"})

    def _account_body(self, account_id, name, stored):
        endpoints = self.accounts[name]
        return {
            "id": account_id,
            "name": name,
            "type": "Microsoft.Storage/storageAccounts",
            "location": stored["location"],
            "kind": stored.get("kind"),
            "sku": stored.get("sku"),
            "properties": dict(
                stored.get("properties") or {},
                provisioningState="Succeeded",
                primaryEndpoints={"blob": endpoints["blob"] + "/", "queue": endpoints["queue"] + "/"},
            ),
        }

    def _storage_account(self, req, method, m, raw):
        name = m.group("name")
        account_id = m.group(0).rsplit("/listKeys", 1)[0]
        key = account_id.lower()
        if m.group("action"):
            if method != "POST":
                return self._violation(req, "listKeys must be POST, got %s" % method)
            if key not in self.storage_accounts:
                return req._reply(404, {"error": {"code": "ResourceNotFound", "message": "no account"}})
            return req._reply(
                200, {"keys": [{"keyName": "key1", "value": self.accounts[name]["key"], "permissions": "FULL"}]}
            )
        if method == "GET":
            stored = self.storage_accounts.get(key)
            if stored is None:
                return req._reply(
                    404, {"error": {"code": "ResourceNotFound", "message": "account %s not found" % name}}
                )
            return req._reply(200, self._account_body(account_id, name, stored))
        if method == "PUT":
            body = json.loads(raw or b"{}")
            errors = azure_errors(st_models.StorageAccountCreateParameters, body)
            if errors:
                return self._violation(req, "storage account PUT: " + "; ".join(errors))
            if name not in self.accounts:
                return req._reply(
                    400,
                    {"error": {"code": "AccountNameInvalid", "message": "the fake has no Azurite account %s" % name}},
                )
            with self.lock:
                self.storage_accounts[key] = body
            return req._reply(200, self._account_body(account_id, name, body))
        if method == "DELETE":
            with self.lock:
                existed = self.storage_accounts.pop(key, None)
            return req._reply(200 if existed else 204)
        return self._violation(req, "%s on a storage account" % method)

    def _event_subscription(self, req, method, m, raw):
        scope, name = m.group("scope"), m.group("name")
        key = (scope.lower(), name.lower())
        es_id = "%s/providers/Microsoft.EventGrid/eventSubscriptions/%s" % (scope, name)
        if method == "GET":
            stored = self.event_subscriptions.get(key)
            if stored is None:
                return req._reply(
                    404, {"error": {"code": "ResourceNotFound", "message": "no event subscription %s" % name}}
                )
            return req._reply(200, stored["resource"])
        if method == "PUT":
            body = json.loads(raw or b"{}")
            errors = azure_errors(eg_models.EventSubscription, body)
            if errors:
                return self._violation(req, "event subscription PUT: " + "; ".join(errors))
            resource = json.loads(json.dumps(body))
            resource.update({"id": es_id, "name": name, "type": "Microsoft.EventGrid/eventSubscriptions"})
            resource["properties"]["provisioningState"] = "Succeeded"
            resource["properties"]["topic"] = scope
            with self.lock:
                previous = self.event_subscriptions.get(key)
            # Event Grid delivers what happens after the subscription exists: the baseline is now.
            seen = previous["seen"] if previous else self._blobs(resource)
            with self.lock:
                self.event_subscriptions[key] = {"resource": resource, "seen": seen}
            return req._reply(201 if previous is None else 200, resource)
        if method == "DELETE":
            with self.lock:
                existed = self.event_subscriptions.pop(key, None)
            return req._reply(200 if existed else 204)
        return self._violation(req, "%s on an event subscription" % method)

    # Event Grid delivery ------------------------------------------------------------------------
    def _deliver_events(self):
        from azure.storage.blob import BlobServiceClient
        from azure.storage.queue import QueueServiceClient

        while not self._stop.wait(0.3):
            with self.lock:
                subs = list(self.event_subscriptions.items())
            for key, entry in subs:
                if not self.deliver:
                    entry["seen"] = None
                    continue
                try:
                    self._deliver_one(key, entry, BlobServiceClient, QueueServiceClient)
                except Exception as exc:  # kept for the test's failure message; delivery goes on
                    self.delivery_errors.append(repr(exc))

    def _target(self, resource):
        """(account config, account, container, name prefix, queue) of an event subscription, or None."""
        props = resource["properties"]
        account = props["topic"].rstrip("/").split("/")[-1]
        flt = props.get("filter") or {}
        m = re.match(r"^/blobServices/default/containers/([^/]+)/blobs/(.*)$", flt.get("subjectBeginsWith") or "")
        if account not in self.accounts or not m:
            return None
        if "Microsoft.Storage.BlobCreated" not in (flt.get("includedEventTypes") or []):
            return None
        return self.accounts[account], account, m.group(1), m.group(2), props["destination"]["properties"]["queueName"]

    def _blobs(self, resource):
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import BlobServiceClient

        target = self._target(resource)
        if target is None:
            return {}
        cfg, account, container, prefix, _queue_name = target
        client = BlobServiceClient(cfg["blob"], credential={"account_name": account, "account_key": cfg["key"]})
        try:
            return {
                b.name: b.etag
                for b in client.get_container_client(container).list_blobs(name_starts_with=prefix or None)
            }
        except ResourceNotFoundError:
            return {}

    def _deliver_one(self, key, entry, BlobServiceClient, QueueServiceClient):
        target = self._target(entry["resource"])
        if target is None:
            return
        cfg, account, container, _prefix, queue_name = target
        current = self._blobs(entry["resource"])
        if entry["seen"] is None:
            entry["seen"] = current
            return
        fresh = [n for n, etag in current.items() if entry["seen"].get(n) != etag]
        entry["seen"] = current
        cred = {"account_name": account, "account_key": cfg["key"]}
        queue = QueueServiceClient(cfg["queue"], credential=cred).get_queue_client(queue_name)
        scope = entry["resource"]["properties"]["topic"]
        for blob_name in fresh:
            event = {
                "topic": scope,
                "subject": "/blobServices/default/containers/%s/blobs/%s" % (container, blob_name),
                "eventType": "Microsoft.Storage.BlobCreated",
                "id": str(uuid.uuid4()),
                "data": {"api": "PutBlob", "url": "%s/%s/%s" % (cfg["blob"], container, blob_name)},
                "dataVersion": "",
                "metadataVersion": "1",
                "eventTime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            }
            queue.send_message(base64.b64encode(json.dumps(event).encode()).decode())
            self.delivered.append(event["subject"])
