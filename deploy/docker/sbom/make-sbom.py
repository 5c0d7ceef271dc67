#!/usr/bin/env python3
"""CycloneDX 1.5 SBOM of the agent or hub image (scripts/check-image.sh runs it).

    make-sbom.py --image IMAGE [--name outpost-agent|outpost-hub] --version V \
                 --revision SHA --epoch SECONDS [--build-dir build/release] \
                 --out build/image/sbom.json

Two sources, both facts rather than a hand-kept list:

- the image's own file list, /usr/share/outpost/image-files.tsv, written by
  deploy/docker/collect-rootfs.sh in the build from the Debian package
  database of the stage that gathered the files: every file with its sha256,
  its Debian package, version, source package, architecture and licences.
  Each package becomes a component (with a pkg:deb purl) holding its files.
- the build's dependency list: the headers `ninja -t deps` records for the
  objects linked into the binary (`ninja -t commands BINARY`), mapped to their Debian packages with `dpkg -S` (header-only
  and template code compiled into the binary: Boost, nlohmann-json, ...).
"""
import argparse
import collections
import datetime
import json
import re
import subprocess
import sys
import uuid

DISTRO = "debian-12"


def read_image_manifest(image):
    """The image's image-files.tsv, read through a buildah working container."""
    ctr = subprocess.run(["buildah", "from", "--pull=never", image], check=True,
                         capture_output=True, text=True).stdout.strip()
    try:
        mnt = subprocess.run(["buildah", "mount", ctr], check=True, capture_output=True, text=True).stdout.strip()
        with open(f"{mnt}/usr/share/outpost/image-files.tsv", encoding="utf-8") as f:
            lines = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
        image_id = subprocess.run(["podman", "image", "inspect", "--format", "{{.Id}}", image], check=True,
                                  capture_output=True, text=True).stdout.strip()
    finally:
        subprocess.run(["buildah", "rm", ctr], check=False, capture_output=True)
    keys = ["path", "sha256", "bytes", "package", "version", "source", "source_version", "arch", "licenses"]
    return [dict(zip(keys, fields)) for fields in lines], image_id


def linked_objects(build_dir, name):
    """The object files the build compiles for the binary NAME."""
    target = {"outpost-agent": "src/outpost-agent", "outpost-hub": "hub/outpost-hub"}[name]
    commands = subprocess.run(["ninja", "-C", build_dir, "-t", "commands", target], check=True,
                              capture_output=True, text=True).stdout
    objects = set(re.findall(r" -o (\S+\.o)\b", commands))
    if not objects:
        sys.exit(f"make-sbom: ninja names no object files for {target} in {build_dir}")
    return objects


def compiled_in_packages(build_dir, name):
    """Debian packages whose headers the binary's objects were compiled with."""
    objects = linked_objects(build_dir, name)
    deps = subprocess.run(["ninja", "-C", build_dir, "-t", "deps"], check=True, capture_output=True,
                          text=True).stdout
    headers, obj = set(), ""
    for line in deps.splitlines():
        if not line.startswith(" "):
            obj = line.split(":", 1)[0]
        elif obj in objects and line.strip().startswith("/usr/include/"):
            headers.add(line.strip())
    owners = collections.defaultdict(int)
    found = subprocess.run(["dpkg", "-S", *sorted(headers)], capture_output=True, text=True).stdout
    for line in found.splitlines():
        pkgs, _, _ = line.partition(": ")
        for pkg in pkgs.split(", "):
            owners[pkg.split(":")[0]] += 1
    fmt = "${Package}\t${Version}\t${source:Package}\t${source:Version}\t${Architecture}\n"
    query = subprocess.run(["dpkg-query", "-W", "-f", fmt, *sorted(owners)], check=True, capture_output=True,
                           text=True).stdout
    result = []
    for line in query.splitlines():
        name, version, source, source_version, arch = line.split("\t")
        result.append({"package": name, "version": version, "source": source, "source_version": source_version,
                       "arch": arch, "headers": owners[name]})
    return result


def purl(pkg, version, arch):
    return f"pkg:deb/debian/{pkg}@{version}?arch={arch}&distro={DISTRO}"


def package_component(pkg, role, licenses=None, files=()):
    component = {
        "type": "library",
        "bom-ref": purl(pkg["package"], pkg["version"], pkg["arch"]),
        "name": pkg["package"],
        "version": pkg["version"],
        "purl": purl(pkg["package"], pkg["version"], pkg["arch"]),
        "properties": [
            {"name": "outpost:role", "value": role},
            {"name": "debian:source", "value": f'{pkg["source"]} {pkg["source_version"]}'},
        ],
    }
    if licenses and licenses != "-":
        component["licenses"] = [{"license": {"name": name}} for name in licenses.split()]
    if files:
        component["components"] = [file_component(f) for f in files]
    return component


def file_component(f):
    return {"type": "file", "bom-ref": f"file:{f['path']}", "name": f["path"],
            "hashes": [{"alg": "SHA-256", "content": f["sha256"]}],
            "properties": [{"name": "outpost:bytes", "value": f["bytes"]}]}


def build_bom(args, files, image_id, compiled):
    by_pkg = collections.defaultdict(list)
    own = []
    for f in files:
        (own if f["package"] == "-" else by_pkg[f["package"]]).append(f)
    runtime = [package_component(fs[0], "runtime", fs[0]["licenses"], fs) for _, fs in sorted(by_pkg.items())]
    in_image = {c["name"] for c in runtime}
    built_in = [package_component(p, "compiled-in") for p in compiled if p["package"] not in in_image]
    own_files = [file_component(f) for f in own]
    app = {"type": "application", "bom-ref": args.name, "name": args.name, "version": args.version,
           "properties": [{"name": "outpost:revision", "value": args.revision}], "components": own_files}
    stamp = datetime.datetime.fromtimestamp(args.epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{args.name}-image:' + image_id)}",
        "version": 1,
        "metadata": {
            "timestamp": stamp,
            "tools": {"components": [{"type": "application", "name": "outpost make-sbom.py",
                                      "version": args.version}]},
            "component": {"type": "container", "bom-ref": "image", "name": args.name,
                          "version": args.version,
                          "properties": [{"name": "oci:image-id", "value": image_id},
                                         {"name": "oci:image", "value": args.image},
                                         {"name": "outpost:revision", "value": args.revision}]},
        },
        "components": [app, *runtime, *built_in],
        "dependencies": [
            {"ref": "image", "dependsOn": [args.name] + [c["bom-ref"] for c in runtime]},
            {"ref": args.name, "dependsOn": [c["bom-ref"] for c in runtime + built_in]},
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--name", default="outpost-agent", choices=["outpost-agent", "outpost-hub"])
    parser.add_argument("--version", required=True)
    parser.add_argument("--revision", required=True)
    parser.add_argument("--epoch", type=int, required=True)
    parser.add_argument("--build-dir")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    files, image_id = read_image_manifest(args.image)
    if not files:
        sys.exit("make-sbom: the image has an empty /usr/share/outpost/image-files.tsv")
    compiled = compiled_in_packages(args.build_dir, args.name) if args.build_dir else []
    bom = build_bom(args, files, image_id, compiled)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(bom, f, indent=2)
        f.write("\n")
    print(f"make-sbom: {args.out}: {len(bom['components']) - 1} packages "
          f"({len(compiled)} compiled in), {len(files)} files")


if __name__ == "__main__":
    main()
