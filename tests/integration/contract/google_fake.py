"""Contract fake in front of the Google emulators, for the calls they do not serve.

gcp-storage-emulator serves buckets, objects and CORS configuration; the Cloud SDK's Pub/Sub
emulator serves topics, subscriptions, publish and pull. Neither serves Cloud Storage
notification configs, the project's service agent, or IAM policies on topics, and nothing
delivers a bucket's notifications. This gateway:

- serves those calls itself, routing by the discovery documents (a wrong path or HTTP method is
  a violation) and checking bodies against their schemas (a wrong field name is a violation);
- publishes a JSON_API_V1 OBJECT_FINALIZE message when an object is uploaded through it, but only
  when a notification config exists AND the service agent holds roles/pubsub.publisher on the
  topic, as Cloud Storage needs;
- answers CORS preflights for objects from the bucket's CORS configuration, as the XML API does;
- checks V4 signatures of signed URLs against the public key the test registered;
- forwards everything else to the emulators.
"""

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

import requests
from contract.schemas import discovery_errors, discovery_route

PUBLISHER = "roles/pubsub.publisher"


class GoogleFake:
    def __init__(self, storage_url, pubsub_url, project_number="1234567"):
        self.storage_url = storage_url
        self.pubsub_url = pubsub_url
        self.service_agent = "service-%s@gs-project-accounts.iam.gserviceaccount.com" % project_number
        self.notifications = {}  # bucket -> [config]
        self.policies = {}  # topic path -> policy
        self.signing_keys = {}  # client email -> public key
        self.violations = []
        self.deliveries = []
        self.deliver = True  # False: Cloud Storage silently publishes nothing
        self.lock = threading.Lock()
        self._next_id = 1
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=None, headers=None, raw=None):
                data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
                self.send_response(status)
                if raw is None:
                    self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

        for verb in ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"):
            setattr(Handler, "do_" + verb, lambda self, verb=verb: fake.handle(self, verb))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.host = "127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def add_signing_key(self, email, public_key):
        self.signing_keys[email] = public_key

    # routing ------------------------------------------------------------------------------------
    def handle(self, req, method):
        parts = urlsplit(req.path)
        path, query = parts.path, parts.query
        raw = req.body()
        try:
            if path.startswith("/storage/v1/"):
                method_id, params = discovery_route("storage", method, path)
                if method_id:
                    return self._storage_method(req, method_id, params, raw)
                if params:  # a wrong HTTP method for a path the fake owns
                    return self._violation(req, params)
                if "/notificationConfigs" in path or "/serviceAccount" in path:
                    return self._violation(
                        req, "%s %s matches no storage v1 method of the discovery document" % (method, path)
                    )
            if path.startswith("/v1/projects/") and (":getIamPolicy" in path or ":setIamPolicy" in path):
                method_id, params = discovery_route("pubsub", method, path)
                if not method_id:
                    return self._violation(req, params or "%s %s matches no pubsub v1 IAM method" % (method, path))
                return self._iam(req, method_id, params, raw)
            if path.startswith("/v1/"):
                return self._forward(req, method, self.pubsub_url, path, query, raw)
            if method == "OPTIONS":
                return self._preflight(req, path)
            if method == "GET" and "X-Goog-Signature" in query:
                return self._signed_get(req, path, query)
            if method == "POST" and path.startswith("/upload/storage/v1/b/"):
                return self._upload(req, path, query, raw)
            return self._forward(req, method, self.storage_url, path, query, raw)
        except Exception as exc:  # a fake's bug must surface in the test, not hang it
            return req.reply(500, {"error": {"code": 500, "message": "fake error: %r" % exc}})

    def _violation(self, req, message):
        with self.lock:
            self.violations.append(message)
        return req.reply(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "contract: " + message}})

    def _forward(self, req, method, base, path, query, raw, extra_headers=None):
        headers = {k: v for k, v in req.headers.items() if k.lower() in ("content-type", "range")}
        headers.update(extra_headers or {})
        resp = requests.request(
            method, base + path + ("?" + query if query else ""), data=raw, headers=headers, timeout=60
        )
        out = {k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "etag")}
        req.reply(resp.status_code, raw=resp.content, headers=out)
        return resp

    # Cloud Storage methods the emulator lacks ---------------------------------------------------
    def _storage_method(self, req, method_id, params, raw):
        if method_id == "projects.serviceAccount.get":
            return req.reply(200, {"kind": "storage#serviceAccount", "email_address": self.service_agent})
        bucket = unquote(params["bucket"])
        if (
            requests.get("%s/storage/v1/b/%s" % (self.storage_url, quote(bucket, safe="")), timeout=30).status_code
            == 404
        ):
            return req.reply(404, {"error": {"code": 404, "message": "The specified bucket does not exist."}})
        if method_id == "notifications.list":
            return req.reply(200, {"kind": "storage#notifications", "items": self.notifications.get(bucket, [])})
        if method_id == "notifications.delete":
            with self.lock:
                before = self.notifications.get(bucket, [])
                after = [n for n in before if n["id"] != params["notification"]]
                self.notifications[bucket] = after
            return req.reply(204 if len(after) < len(before) else 404)
        body = json.loads(raw or b"{}")
        errors = discovery_errors("storage", "Notification", body, "storage.notifications.insert")
        if errors:
            return self._violation(req, "notifications.insert: " + "; ".join(errors))
        topic = body["topic"].split("pubsub.googleapis.com/")[-1]
        if not body["topic"].startswith("//pubsub.googleapis.com/projects/"):
            return req.reply(
                400, {"error": {"code": 400, "message": "Invalid Google Cloud Pub/Sub topic %s" % body["topic"]}}
            )
        if requests.get("%s/v1/%s" % (self.pubsub_url, topic), timeout=30).status_code != 200:
            return req.reply(404, {"error": {"code": 404, "message": "Cloud Pub/Sub topic %s not found" % topic}})
        if not self._may_publish(topic):
            return req.reply(
                403,
                {
                    "error": {
                        "code": 403,
                        "status": "PERMISSION_DENIED",
                        "message": "The service account %s does not have permission to publish messages to %s"
                        % (self.service_agent, topic),
                    }
                },
            )
        with self.lock:
            config = dict(body, id=str(self._next_id), kind="storage#notification", etag=str(self._next_id))
            self._next_id += 1
            self.notifications.setdefault(bucket, []).append(config)
        return req.reply(200, config)

    def _may_publish(self, topic):
        policy = self.policies.get(topic) or {}
        member = "serviceAccount:" + self.service_agent
        return any(
            b.get("role") == PUBLISHER and member in (b.get("members") or []) for b in policy.get("bindings") or []
        )

    def _iam(self, req, method_id, params, raw):
        topic = params["resource"]
        if requests.get("%s/v1/%s" % (self.pubsub_url, topic), timeout=30).status_code != 200:
            return req.reply(
                404,
                {"error": {"code": 404, "status": "NOT_FOUND", "message": "Resource not found (resource=%s)." % topic}},
            )
        if method_id == "projects.topics.getIamPolicy":
            return req.reply(200, self.policies.get(topic) or {"etag": "ACAB"})
        body = json.loads(raw or b"{}")
        errors = discovery_errors("pubsub", "SetIamPolicyRequest", body)
        if errors:
            return self._violation(req, "topics.setIamPolicy: " + "; ".join(errors))
        policy = dict(body.get("policy") or {})
        policy["etag"] = base64.b64encode(
            hashlib.sha256(json.dumps(policy, sort_keys=True).encode()).digest()[:8]
        ).decode()
        with self.lock:
            self.policies[topic] = policy
        return req.reply(200, policy)

    # what Cloud Storage does on upload: notify -------------------------------------------------
    def _upload(self, req, path, query, raw):
        resp = self._forward(req, "POST", self.storage_url, path, query, raw)
        if resp.status_code != 200:
            return resp
        obj = resp.json()
        bucket = obj["bucket"]
        for config in self.notifications.get(bucket, []):
            if config.get("event_types") and "OBJECT_FINALIZE" not in config["event_types"]:
                continue
            if config.get("object_name_prefix") and not obj["name"].startswith(config["object_name_prefix"]):
                continue
            topic = config["topic"].split("pubsub.googleapis.com/")[-1]
            if not self.deliver:
                continue
            if not self._may_publish(topic):
                self.deliveries.append(("refused", topic, obj["name"]))
                continue
            attributes = {
                "notificationConfig": "projects/_/buckets/%s/notificationConfigs/%s" % (bucket, config["id"]),
                "eventType": "OBJECT_FINALIZE",
                "payloadFormat": config.get("payload_format", "JSON_API_V1"),
                "bucketId": bucket,
                "objectId": obj["name"],
                "objectGeneration": str(obj.get("generation", "1")),
            }
            message = {"data": base64.b64encode(json.dumps(obj).encode()).decode(), "attributes": attributes}
            requests.post("%s/v1/%s:publish" % (self.pubsub_url, topic), json={"messages": [message]}, timeout=30)
            self.deliveries.append(("published", topic, obj["name"]))
        return resp

    # XML API behaviour: CORS preflight and signed URLs -----------------------------------------
    def _bucket_of(self, path):
        return unquote(path.lstrip("/").split("/", 1)[0])

    def _preflight(self, req, path):
        bucket = self._bucket_of(path)
        meta = requests.get("%s/storage/v1/b/%s" % (self.storage_url, quote(bucket, safe="")), timeout=30)
        origin = req.headers.get("Origin")
        wanted = (req.headers.get("Access-Control-Request-Method") or "").upper()
        if meta.status_code == 200:
            for rule in meta.json().get("cors") or []:
                origins = rule.get("origin") or []
                if (origin in origins or "*" in origins) and wanted in [m.upper() for m in rule.get("method") or []]:
                    return req.reply(
                        200,
                        headers={
                            "Access-Control-Allow-Origin": origin,
                            "Access-Control-Allow-Methods": ",".join(rule["method"]),
                            "Access-Control-Allow-Headers": ",".join(rule.get("responseHeader") or []),
                            "Access-Control-Max-Age": str(rule.get("maxAgeSeconds", "")),
                        },
                        raw=b"",
                    )
        return req.reply(403, raw=b"")

    def _signed_get(self, req, path, query):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        params = parse_qs(query, keep_blank_values=True)
        flat = {k: v[0] for k, v in params.items()}
        signature = bytes.fromhex(flat.pop("X-Goog-Signature"))
        email = flat["X-Goog-Credential"].split("/", 1)[0]
        key = self.signing_keys.get(email)
        if key is None:
            return req.reply(
                403, raw=b"<Error><Code>SignatureDoesNotMatch</Code><Message>unknown signer</Message></Error>"
            )
        canonical_query = "&".join("%s=%s" % (quote(k, safe="~"), quote(v, safe="~")) for k, v in sorted(flat.items()))
        canonical_request = "\n".join(
            ["GET", path, canonical_query, "host:%s\n" % req.headers["Host"], "host", "UNSIGNED-PAYLOAD"]
        )
        scope = flat["X-Goog-Credential"].split("/", 1)[1]
        to_sign = "\n".join(
            ["GOOG4-RSA-SHA256", flat["X-Goog-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
        )
        try:
            key.verify(signature, to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return req.reply(403, raw=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        bucket, name = path.lstrip("/").split("/", 1)
        return self._forward(
            req,
            "GET",
            self.storage_url,
            "/download/storage/v1/b/%s/o/%s" % (bucket, quote(unquote(name), safe="")),
            "alt=media",
            b"",
        )
