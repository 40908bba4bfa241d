"""Fail when the built collection tarball carries files that must stay out of it (tests, Molecule,
CI, the lab's caches) or misses what users need."""

import sys
import tarfile

FORBIDDEN_PREFIXES = ("tests/", "molecule/", ".ci/", ".config/", ".venv/", "build/", "benchmarks/")
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "meta/runtime.yml",
    # AWX content ships with the collection (README, "AWX and execution environments").
    "extensions/awx/configure-awx.yml",
    "extensions/awx/credential_types.yml",
    "extensions/awx/job_templates.yml",
    "extensions/awx/generate.py",
)


def main(path: str) -> int:
    with tarfile.open(path) as tar:
        names = [name.removeprefix("./") for name in tar.getnames()]
    forbidden_dirs = {prefix.rstrip("/") for prefix in FORBIDDEN_PREFIXES}
    leaked = sorted(n for n in names if n.startswith(FORBIDDEN_PREFIXES) or n in forbidden_dirs)
    missing = [r for r in REQUIRED if r not in names]
    for name in leaked:
        print(f"{path}: must not contain {name}")
    for name in missing:
        print(f"{path}: missing {name}")
    if not leaked and not missing:
        print(f"{path}: {len(names)} entries, no test, Molecule or CI files")
    return 1 if leaked or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
