#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of the parsers that read what clients,
# origins and files send: DNS messages, request targets and authorities, the proxy's request
# classifier, body decoding, JSON, the MCP recognizer, SSE and usage metering, rulesets, the
# configuration, CIDR/IP/version text. Harnesses: scripts/fuzz/*.swift (one file per target).
#
# meshgate's own sources are compiled here with -sanitize=fuzzer,address (one binary for every
# target; MESHGATE_FUZZ_TARGET picks the harness) against the package dependencies `swift build`
# already built (NIOCore, NIOHTTP1, Yams: not instrumented), so run `swift build` first.
#
# Usage: scripts/fuzz.sh [--long] [--only NAME[,NAME...]] [--no-build] [--list] [SECONDS]
#   SECONDS per target: 20 by default, 600 with --long. Corpora grow in .build/fuzz/corpus/NAME.
#   --no-build runs the binary built last time (e.g. while the tree is mid-edit).
#   Fails when libFuzzer finds a crash, leak, timeout or out-of-memory, printing the input's path,
#   its base64 and the end of the log. Reproduce with
#   MESHGATE_FUZZ_TARGET=NAME SWIFT_BACKTRACE=enable=no .build/fuzz/meshgate-fuzz PATH
set -euo pipefail
cd "$(dirname "$0")/.."

# name:max_len (bytes of input libFuzzer tries).
all_targets=(dns:1024 hostport:300 url:600 classifier:600 body:8192 json:4096 mcp:4096 sse:4096 ruleset:8192 config:8192 cidr:200)
seconds=20
only=""
no_build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --long) seconds=600 ;;
    --only) only="$2"; shift ;;
    --only=*) only="${1#--only=}" ;;
    --no-build) no_build=1 ;;
    --list) for t in "${all_targets[@]}"; do echo "${t%%:*}"; done; exit 0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    [0-9]*) seconds="$1" ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

out=.build/fuzz
if [ -n "$no_build" ] && [ -x "$out/meshgate-fuzz" ]; then :; else
bin="$(swift build --show-bin-path)"
plan=.build/debug.yaml
if [ ! -f "$plan" ] || [ ! -f "$bin/Modules/NIOCore.swiftmodule" ] || [ ! -f "$bin/Modules/Yams.swiftmodule" ]; then
  echo "fuzz.sh: no SwiftPM build products in $bin; run 'swift build' first" >&2
  exit 1
fi
mkdir -p "$out/modules" "$out/obj" "$out/logs" "$out/crashes" "$out/corpus"

# The instrumented modules: meshgate's sources that the harnesses reach, in dependency order.
# Where a harness needs only part of a module (whose rest pulls in the whole server), that part is
# compiled as a module of the same name.
declare -A sources=(
  [MeshgateCore]="$(ls Sources/MeshgateCore/*.swift)"
  [MeshgateJSON]="$(ls Sources/MeshgateJSON/*.swift)"
  [MeshgateInspection]="$(find Sources/MeshgateInspection -name '*.swift' | sort)"
  [MeshgateDNS]="$(ls Sources/MeshgateDNS/Codec/*.swift)"
  [MeshgatePolicy]="$(find Sources/MeshgatePolicy -name '*.swift' | sort)"
  [MeshgateProxy]="$(ls Sources/MeshgateProxy/ProxyRequestClassifier*.swift Sources/MeshgateProxy/ProxyConfiguration*.swift) scripts/fuzz/support/MeshgateProxyImports.swift"
  [MeshgateAI]="$(ls Sources/MeshgateAI/Streaming/*.swift) Sources/MeshgateAI/TokenUsage.swift Sources/MeshgateAI/LLMCall.swift"
  [Meshgate]="$(ls Sources/Meshgate/Configuration/*.swift) Sources/Meshgate/RulesetUpdates/RulesetVersion.swift Sources/Meshgate/RulesetUpdates/RulesetSource.swift Sources/Meshgate/RulesetUpdates/ShippedRulesets.swift"
  [MeshgateFuzz]="$(ls scripts/fuzz/*.swift)"
)
# Modules in one stage compile in parallel (the machine has 2 cores).
stages=("MeshgateCore MeshgateJSON" "MeshgateInspection MeshgateDNS" "MeshgatePolicy MeshgateAI" "MeshgateProxy" "Meshgate" "MeshgateFuzz")

# The C module maps SwiftPM passes (dependencies' and ours), plus any system-library module of
# ours that the build plan does not list yet.
mapfile -t xcc < <(python3 scripts/fuzz/swiftpm-deps.py flags "$plan" MeshgateInspection MeshgatePolicy MeshgateProxy)
for map in Sources/C*/module.modulemap; do
  case " ${xcc[*]} " in *"$PWD/$map"*) ;; *) xcc+=(-Xcc "-fmodule-map-file=$PWD/$map") ;; esac
done
swiftc_flags=(-sanitize=fuzzer,address -O -gline-tables-only -enable-testing -parse-as-library -wmo
  -swift-version 6 -enable-upcoming-feature ExistentialAny -package-name main
  -I "$out/modules" -I "$bin/Modules" -module-cache-path "$out/ModuleCache" "${xcc[@]}")

dependency_modules=("$bin/Modules/NIOCore.swiftmodule" "$bin/Modules/NIOHTTP1.swiftmodule" "$bin/Modules/Yams.swiftmodule" "$bin/Modules/Crypto.swiftmodule")

compile() {
  local module="$1" upstream="$2" hash
  # Skipped when its sources, the flags, the dependencies and the modules of earlier stages are
  # unchanged.
  # shellcheck disable=SC2086
  hash="$( { printf '%s\n' "$upstream" "${swiftc_flags[@]}" ${sources[$module]}; cat ${sources[$module]} "${dependency_modules[@]}"; } \
    | sha256sum | cut -c1-16)"
  if [ -f "$out/obj/$module.o" ] && [ "$(cat "$out/modules/$module.hash" 2>/dev/null)" = "$hash" ]; then return 0; fi
  rm -f "$out/modules/$module.hash" "$out/stamp"
  # shellcheck disable=SC2086
  swiftc "${swiftc_flags[@]}" -module-name "$module" -emit-module -emit-module-path "$out/modules/$module.swiftmodule" \
    -c -o "$out/obj/$module.o" ${sources[$module]} > "$out/logs/build-$module.log" 2>&1 \
    || { echo "fuzz.sh: compiling $module failed:" >&2; tail -30 "$out/logs/build-$module.log" >&2; return 1; }
  echo "$hash" > "$out/modules/$module.hash"
}

started=$SECONDS
upstream=""
for stage in "${stages[@]}"; do
  pids=()
  for module in $stage; do compile "$module" "$upstream" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || exit 1; done
  for module in $stage; do upstream+="$(cat "$out/modules/$module.hash")"; done
done
if [ ! -x "$out/meshgate-fuzz" ] || [ "$(cat "$out/stamp" 2>/dev/null)" != "$upstream" ]; then
  # Dependencies (already built by SwiftPM, not instrumented) go in through an archive, so only the
  # objects the harnesses reach are linked.
  python3 scripts/fuzz/swiftpm-deps.py objects "$plan" "$bin" NIOCore NIOHTTP1 Yams Crypto > "$out/deps.txt"
  rm -f "$out/deps.a"
  xargs -d '\n' ar qc "$out/deps.a" < "$out/deps.txt"
  swiftc -sanitize=fuzzer,address "$out"/obj/*.o "$out/deps.a" -o "$out/meshgate-fuzz" > "$out/logs/build-link.log" 2>&1 \
    || { echo "fuzz.sh: linking failed:" >&2; tail -30 "$out/logs/build-link.log" >&2; exit 1; }
  echo "$upstream" > "$out/stamp"
  echo "fuzz.sh: built $out/meshgate-fuzz in $((SECONDS - started)) s"
fi
fi

python3 scripts/fuzz/make-seeds.py "$out/seeds"

failed=0
printf '%-11s %8s %12s %9s %7s %7s %s\n' target seconds executions exec/s cov ft result | tee "$out/summary.txt"
for entry in "${all_targets[@]}"; do
  name="${entry%%:*}" max_len="${entry##*:}"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  mkdir -p "$out/corpus/$name" "$out/seeds/$name"
  [ -d "scripts/fuzz/seeds/$name" ] && cp -n scripts/fuzz/seeds/"$name"/* "$out/seeds/$name/" 2>/dev/null || true
  log="$out/logs/$name.log"
  status=0
  # The Swift runtime's own crash handler would fight AddressSanitizer's; ASan reports instead.
  MESHGATE_FUZZ_TARGET="$name" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" "$out/meshgate-fuzz" \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$name-" "$out/corpus/$name" "$out/seeds/$name" > "$log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
  ft="$(grep -ao 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
  result=ok
  [ "$status" -eq 0 ] || result="FAILED ($status)"
  printf '%-11s %8s %12s %9s %7s %7s %s\n' "$name" "$seconds" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$result" | tee -a "$out/summary.txt"
  if [ "$status" -ne 0 ]; then
    failed=1
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
    echo "---- $name: libFuzzer stopped (exit $status); input: ${artifact:-none written}" >&2
    if [ -n "$artifact" ] && [ -f "$artifact" ]; then
      echo "base64: $(base64 -w0 "$artifact")" >&2
      echo "reproduce: MESHGATE_FUZZ_TARGET=$name SWIFT_BACKTRACE=enable=no $out/meshgate-fuzz $artifact" >&2
    fi
    grep -av 'Cannot export local symbol' "$log" | tail -40 >&2
  fi
done
exit "$failed"
