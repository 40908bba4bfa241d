"""Check request bodies against the providers' published API descriptions.

Google: an excerpt of the discovery documents (google_discovery_excerpt.json, with its sources).
Azure: the msrest models shipped in azure-mgmt-storage and azure-mgmt-eventgrid, whose
`_attribute_map` / `_validation` / `_subtype_map` are generated from Azure's REST specs.

Both checks are strict on field names: an unknown or misspelt field is an error, which the
SDKs' own deserializers would silently drop.
"""

import json
import re
import sys
from pathlib import Path

DISCOVERY = json.loads((Path(__file__).parent / "google_discovery_excerpt.json").read_text())


# Google discovery documents ------------------------------------------------------------------
def discovery_errors(service, schema_name, data, method_id=None):
    doc = DISCOVERY[service]
    errors = _check_schema(doc, {"$ref": schema_name}, data, "$", method_id)
    return errors


def _check_schema(doc, schema, data, path, method_id):
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref not in doc["schemas"]:
            return ["%s: schema %s is not in the vendored excerpt" % (path, ref)]
        schema = doc["schemas"][ref]
    kind = schema.get("type")
    errors = []
    if kind == "object":
        if not isinstance(data, dict):
            return ["%s: expected an object, got %r" % (path, data)]
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, value in data.items():
            if key in props:
                errors += _check_schema(doc, props[key], value, "%s.%s" % (path, key), method_id)
            elif extra:
                errors += _check_schema(doc, extra, value, "%s.%s" % (path, key), method_id)
            else:
                errors.append(
                    "%s.%s: no such field in %s (fields: %s)" % (path, key, schema.get("id"), ", ".join(sorted(props)))
                )
        if method_id:
            for key, prop in props.items():
                if method_id in ((prop.get("annotations") or {}).get("required") or []) and key not in data:
                    errors.append("%s.%s: required by %s" % (path, key, method_id))
    elif kind == "array":
        if not isinstance(data, list):
            return ["%s: expected an array, got %r" % (path, data)]
        for i, item in enumerate(data):
            errors += _check_schema(doc, schema.get("items") or {}, item, "%s[%d]" % (path, i), method_id)
    elif kind == "string":
        if not isinstance(data, str):
            errors.append("%s: expected a string, got %r" % (path, data))
    elif kind == "integer":
        # int64 travels as a string in JSON; int32 as a number.
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and data.lstrip("-").isdigit())
        ):
            errors.append("%s: expected an integer, got %r" % (path, data))
    elif kind == "boolean" and not isinstance(data, bool):
        errors.append("%s: expected a boolean, got %r" % (path, data))
    return errors


def discovery_route(service, http_method, path):
    """(method id, path params) for a request, or (None, error) when the path or the HTTP method is wrong."""
    doc = DISCOVERY[service]
    wrong_method = None
    for method_id, method in doc["methods"].items():
        template = doc["servicePath"] + method["path"]
        pattern = _template_regex(template, method.get("parameters") or {})
        match = pattern.match(path.lstrip("/"))
        if not match:
            continue
        if method["httpMethod"] != http_method:
            wrong_method = "%s %s: the discovery document says %s for %s" % (
                http_method,
                path,
                method["httpMethod"],
                method["id"],
            )
            continue
        return method_id, match.groupdict()
    return None, wrong_method


def _template_regex(template, parameters):
    out, pos = "", 0
    for m in re.finditer(r"\{(\+?)([A-Za-z]+)\}", template):
        out += re.escape(template[pos : m.start()])
        name = m.group(2)
        if m.group(1):
            # {+name} is a reserved expansion: it may hold slashes, as the parameter's pattern says.
            pattern = (parameters.get(name) or {}).get("pattern", "^.+$")
            pattern = pattern[1:] if pattern.startswith("^") else pattern
            pattern = pattern[:-1] if pattern.endswith("$") else pattern
            out += "(?P<%s>%s)" % (name, pattern)
        else:
            out += "(?P<%s>[^/]+)" % name
        pos = m.end()
    out += re.escape(template[pos:])
    return re.compile("^" + out + "$")


# Azure SDK models ----------------------------------------------------------------------------
def azure_errors(model_cls, data, path="$"):
    """Strict check of a JSON body against an Azure SDK (msrest) model class."""
    module = sys.modules[model_cls.__module__]
    if not isinstance(data, dict):
        return ["%s: expected an object for %s, got %r" % (path, model_cls.__name__, data)]
    errors = []
    for attr, mapping in (getattr(model_cls, "_subtype_map", None) or {}).items():
        key = model_cls._attribute_map[attr]["key"]
        disc = data.get(key)
        if disc not in mapping:
            return ["%s.%s: %r is not one of %s for %s" % (path, key, disc, sorted(mapping), model_cls.__name__)]
        model_cls = getattr(module, mapping[disc])
    tree = {}
    for name, spec in model_cls._attribute_map.items():
        parts = [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", spec["key"])]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = (name, spec["type"])
    validation = getattr(model_cls, "_validation", None) or {}
    errors += _walk(module, model_cls, tree, data, path, validation)
    for name, rules in validation.items():
        if rules.get("required") and not rules.get("readonly"):
            key = model_cls._attribute_map[name]["key"]
            if _lookup(data, key) is _MISSING:
                errors.append("%s.%s: required by %s" % (path, key.replace("\\.", "."), model_cls.__name__))
    return errors


_MISSING = object()


def _lookup(data, key):
    node = data
    for part in [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", key)]:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _walk(module, model_cls, tree, data, path, validation):
    errors = []
    for key, value in data.items():
        sub = "%s.%s" % (path, key)
        if key not in tree:
            errors.append("%s: no such field in %s (fields: %s)" % (sub, model_cls.__name__, ", ".join(sorted(tree))))
            continue
        node = tree[key]
        if isinstance(node, dict):
            if not isinstance(value, dict):
                errors.append("%s: expected an object" % sub)
            else:
                errors += _walk(module, model_cls, node, value, sub, validation)
            continue
        name, kind = node
        if (validation.get(name) or {}).get("readonly"):
            errors.append("%s: read-only in %s, must not be sent" % (sub, model_cls.__name__))
        errors += _check_type(module, kind, value, sub)
    return errors


def _check_type(module, kind, value, path):
    if value is None:
        return []
    if kind.startswith("[") and kind.endswith("]"):
        if not isinstance(value, list):
            return ["%s: expected a list" % path]
        return [e for i, v in enumerate(value) for e in _check_type(module, kind[1:-1], v, "%s[%d]" % (path, i))]
    if kind.startswith("{") and kind.endswith("}"):
        if not isinstance(value, dict):
            return ["%s: expected a map" % path]
        return [e for k, v in value.items() for e in _check_type(module, kind[1:-1], v, "%s.%s" % (path, k))]
    simple = {
        "str": str,
        "int": int,
        "bool": bool,
        "float": (int, float),
        "iso-8601": str,
        "duration": str,
        "object": object,
    }
    if kind in simple:
        if not isinstance(value, simple[kind]) or (kind == "int" and isinstance(value, bool)):
            return ["%s: expected %s, got %r" % (path, kind, value)]
        return []
    model = getattr(module, kind, None)
    if model is None:
        return []  # an enum name: its values are strings and are checked by the service
    if hasattr(model, "_attribute_map"):
        return azure_errors(model, value, path)
    if not isinstance(value, str):
        return ["%s: expected a %s value (string), got %r" % (path, kind, value)]
    return []
