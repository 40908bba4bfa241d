"""The lab's inputs for building execution-environment.yml without a registry or Galaxy
(called by tests/lab/ee/build):

  lab_ee.py dependencies OUT_DIR
      Collection tarballs of galaxy.yml's dependencies (and theirs), made from the collections the
      `ansible` package of requirements.txt installed here: the versions the tests run with.
  lab_ee.py definition SHIPPED OUT BASE_IMAGE COLLECTION_TARBALL DEPENDENCY_TARBALL...
      The shipped definition with the lab's base image, these tarballs as its Galaxy requirements
      and ansible-galaxy offline. Everything else is the shipped definition's.
"""

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import ansible_collections
import yaml

REPO = Path(__file__).resolve().parents[3]


def installed_collection(name):
    namespace, collection = name.split(".")
    for root in ansible_collections.__path__:
        path = Path(root) / namespace / collection
        if (path / "MANIFEST.json").is_file():
            return path
    raise SystemExit(f"collection {name} is not installed (pip install -r requirements.txt brings it)")


def make_tarball(source, out_dir):
    """A collection artifact as ansible-galaxy builds one, of the installed files: MANIFEST.json and
    FILES.json at the top, no ./ prefix, no bytecode. The `ansible` package leaves out some files its
    FILES.json lists (CI settings); ansible-galaxy refuses an artifact whose FILES.json names a
    missing file, so the entries of missing files are dropped (and the manifest's checksum of
    FILES.json updated). Every file that is there keeps its checksum, which ansible-galaxy checks."""
    manifest = json.loads((source / "MANIFEST.json").read_text())
    info = manifest["collection_info"]
    target = out_dir / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"
    if target.is_file():
        return target, info["dependencies"]
    files = json.loads((source / "FILES.json").read_text())
    files["files"] = [f for f in files["files"] if f["name"] == "." or (source / f["name"]).exists()]
    files_json = json.dumps(files, indent=4).encode()
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w:gz") as tar:
        for name, data in (("MANIFEST.json", json.dumps(manifest, indent=4).encode()), ("FILES.json", files_json)):
            member = tarfile.TarInfo(name)
            member.size, member.mode = len(data), 0o644
            tar.addfile(member, io.BytesIO(data))
        for entry in files["files"]:
            if entry["name"] != ".":
                tar.add(source / entry["name"], arcname=entry["name"], recursive=False)
    partial.rename(target)
    return target, info["dependencies"]


def dependencies(out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = list(yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"])
    done = {}
    while wanted:
        name = wanted.pop(0)
        if name not in done:
            done[name], more = make_tarball(installed_collection(name), out_dir)
            wanted += list(more)
    for name in sorted(done):
        print(done[name])


def definition(shipped, out, base_image, collection, *dependency_tarballs):
    ee = yaml.safe_load(Path(shipped).read_text())
    ee["images"]["base_image"]["name"] = base_image
    tarballs = [Path(collection), *map(Path, dependency_tarballs)]
    ee["additional_build_files"] = [{"src": str(t.resolve()), "dest": "collections"} for t in tarballs]
    ee["dependencies"]["galaxy"] = {
        "collections": [{"name": f"collections/{t.name}", "type": "file"} for t in tarballs],
    }
    # Galaxy cannot be reached: dependencies resolve among the tarballs given.
    ee.setdefault("build_arg_defaults", {})["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] = "--offline"
    Path(out).write_text(yaml.safe_dump(ee, sort_keys=False))


def main(argv):
    commands = {"dependencies": dependencies, "definition": definition}
    if len(argv) < 2 or argv[1] not in commands:
        raise SystemExit(__doc__)
    commands[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
