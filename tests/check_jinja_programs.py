"""Programs belong in Python filters, not in Jinja: fail on a task or vars value that is one.

The project's rule (docs/role-conventions.md): logic longer than a few lines is a filter plugin in
plugins/filter/ backed by plugins/module_utils/, with unit tests. The bar this checks: no value in
a role's tasks, vars, defaults or handlers, or in a playbook, holds Jinja with a loop (`{% for`)
or a `namespace(` whose template spans more than 3 lines (from the first line with a Jinja
delimiter to the last). Messages (msg, fail_msg, success_msg) are exempt: long text to read is not
a program.

Usage: python tests/check_jinja_programs.py [ROOT]    (ROOT defaults to the repository)
"""

import re
import sys
from pathlib import Path

import yaml

MAX_LINES = 3
PATTERNS = (
    "roles/*/tasks/**/*.yml",
    "roles/*/vars/**/*.yml",
    "roles/*/defaults/**/*.yml",
    "roles/*/handlers/**/*.yml",
    "playbooks/**/*.yml",
)
MESSAGE_KEYS = frozenset({"msg", "fail_msg", "success_msg"})
PROGRAM = re.compile(r"\{%-?\s*for\b|namespace\(")
OPENING = re.compile(r"\{[{%]")
CLOSING = re.compile(r"[}%]\}")

# Files allowed to hold such a program for now, each with the reason. Only this one: another
# change is rewriting the server wiring (the missing-facts and MySQL-primary loops); remove the
# entry when that lands (the check says so once the file passes).
ALLOWED = {}


def _template_lines(source_lines, node):
    """The source lines the value's Jinja spans: first line with an opening delimiter to the last with a closing one."""
    last = node.end_mark.line if node.end_mark.column > 0 else node.end_mark.line - 1
    lines = source_lines[node.start_mark.line : last + 1]
    opening = [i for i, line in enumerate(lines) if OPENING.search(line)]
    closing = [i for i, line in enumerate(lines) if CLOSING.search(line)]
    if not opening or not closing:
        return 0
    return max(closing) - min(opening) + 1


def _label(index, item):
    """A task (or play) is easier to find by its name than by its position."""
    if isinstance(item, yaml.MappingNode):
        for key, value in item.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "name" and isinstance(value, yaml.ScalarNode):
                return "[%d] %r" % (index, value.value)
    return "[%d]" % index


def _walk(node, path, source_lines, found):
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            key_text = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if key_text not in MESSAGE_KEYS:
                _walk(value, [*path, key_text], source_lines, found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, [*path, _label(index, item)], source_lines, found)
    elif isinstance(node, yaml.ScalarNode) and isinstance(node.value, str) and PROGRAM.search(node.value):
        lines = _template_lines(source_lines, node)
        if lines > MAX_LINES:
            found.append((node.start_mark.line + 1, " > ".join(path), lines))


def check_file(path, root):
    """The problems of one YAML file, as 'FILE:LINE: KEY: ...' lines."""
    relative = path.relative_to(root).as_posix()
    text = path.read_text(encoding="utf-8")
    source_lines = text.splitlines()
    found = []
    try:
        for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if document is not None:
                _walk(document, [], source_lines, found)
    except yaml.YAMLError as exc:
        return ["%s: not YAML this check can read: %s" % (relative, exc)]
    return [
        "%s:%d: %s: a Jinja loop or namespace() over %d lines (at most %d); make it a filter plugin "
        "(plugins/filter/, logic in plugins/module_utils/, unit tests)" % (relative, line, key, lines, MAX_LINES)
        for line, key, lines in found
    ]


def files(root):
    seen = set()
    for pattern in PATTERNS:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and path not in seen:
                seen.add(path)
                yield path


def main(argv):
    root = Path(argv[1]).resolve() if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = []
    allowed_clean = []
    for path in files(root):
        relative = path.relative_to(root).as_posix()
        found = check_file(path, root)
        if relative in ALLOWED:
            if not found:
                allowed_clean.append(relative)
            continue
        problems.extend(found)
    for relative in allowed_clean:
        print("note: %s passes now; remove it from ALLOWED in tests/check_jinja_programs.py" % relative)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
