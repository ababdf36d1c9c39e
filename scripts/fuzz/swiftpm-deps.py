#!/usr/bin/env python3
"""Reads SwiftPM's build plan (.build/debug.yaml) so scripts/fuzz.sh can compile meshgate's own
sources with libFuzzer instrumentation against the package dependencies that `swift build` already
built (NIOCore, NIOHTTP1, Yams, ...), instead of building those again in another scratch path.

  swiftpm-deps.py flags   PLAN MODULE...  the -Xcc module-map/include flags SwiftPM passes when it
                                          compiles MODULE (C modules of every dependency)
  swiftpm-deps.py objects PLAN BIN ROOT...  object files of ROOT and everything it depends on
"""
import json
import os
import re
import sys

TRIPLE_SUFFIX = re.compile(r'^  "C\.([A-Za-z0-9_]+)-[^"]*-debug\.module":$')


def commands(plan_path):
    """Module name -> (inputs, args) of SwiftPM's per-module Swift compile commands."""
    result = {}
    current = None
    with open(plan_path, encoding="utf-8") as plan:
        for line in plan:
            match = TRIPLE_SUFFIX.match(line.rstrip("\n"))
            if match:
                current = match.group(1)
                result[current] = {"inputs": [], "args": []}
                continue
            if current is None:
                continue
            stripped = line.strip()
            for key in ("inputs", "args"):
                if stripped.startswith(key + ": ["):
                    result[current][key] = json.loads(stripped[len(key) + 2:])
            if line.startswith('  "') and not match:
                current = None
    return result


def module_map_owner(path):
    """The C module a -fmodule-map-file path belongs to (CNIOLinux.build/..., Sources/CYaml/include/...)."""
    parts = path.split("/")
    if parts[-2].endswith(".build"):
        return parts[-2][: -len(".build")]
    if parts[-2] == "include":
        return parts[-3]
    return parts[-2]


def xcc_flags(args):
    flags = []
    i = 0
    while i < len(args):
        if args[i] == "-Xcc" and i + 1 < len(args):
            flags += args[i:i + 2]
            i += 2
        else:
            i += 1
    return flags


def main():
    mode, plan = sys.argv[1], sys.argv[2]
    table = commands(plan)
    if mode == "flags":
        seen, out = set(), []
        for module in sys.argv[3:]:
            if module not in table:
                sys.exit(f"swiftpm-deps: no compile command for {module} in {plan}; run swift build first")
            flags = xcc_flags(table[module]["args"])
            for i in range(0, len(flags), 2):
                pair = (flags[i], flags[i + 1])
                # "-Xcc -I -Xcc DIR" comes as two pairs; keep each -I with its directory.
                if flags[i + 1] == "-I" and i + 3 < len(flags):
                    pair = tuple(flags[i:i + 4])
                elif i >= 2 and flags[i - 1] == "-I":
                    continue
                if pair not in seen:
                    seen.add(pair)
                    out += pair
        print("\n".join(out))
    elif mode == "objects":
        bin_dir = sys.argv[3]
        pending, closure = list(sys.argv[4:]), set()
        while pending:
            module = pending.pop()
            if module in closure:
                continue
            closure.add(module)
            entry = table.get(module)
            if entry is None:
                continue  # a C module: no Swift compile command, objects only
            for item in entry["inputs"]:
                if item.endswith(".swiftmodule"):
                    pending.append(os.path.basename(item)[: -len(".swiftmodule")])
            args = entry["args"]
            for i, arg in enumerate(args):
                if arg.startswith("-fmodule-map-file="):
                    pending.append(module_map_owner(arg.split("=", 1)[1]))
        objects = []
        for module in sorted(closure):
            directory = os.path.join(bin_dir, module + ".build")
            if not os.path.isdir(directory):
                continue  # system library modules (CZlib, CPCRE2) have no objects
            # C targets keep their objects in subfolders (CYaml.build/src/*.o).
            objects += sorted(
                os.path.join(folder, name)
                for folder, _, names in os.walk(directory)
                for name in names
                if name.endswith(".o") and not name.endswith(".swiftmodule.o")
            )
        print("\n".join(objects))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
