#!/usr/bin/env bash
# bench/run-all.sh: run the whole sg-streams benchmark suite and record the results.
#
#   1. JMH micro-benchmarks of the envelope codec and UUIDv7 ids (bench/target/benchmarks.jar, -prof gc)
#   2. round trips through `bin/sg bench`: closed loop (1000 in flight), open loop (5,000 msg/s),
#      closed loop via the gateway's HTTP API; optionally the 10-minute memory soak (--soak)
#
# Results: bench/results/<date>-<host>[-<part>][-quick].jsonl (one JSON object per line) and .md (tables plus
# machine facts); bench/results/latest.md and latest.jsonl are copies of the last run. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/run-all.sh [--quick] [--only jmh|roundtrip] [--soak] [--redis URL] [--out DIR] [--no-build]

  --quick            small message counts and a short JMH run (a smoke test of the harness, not figures to quote)
  --only jmh         only the JMH codec benchmarks
  --only roundtrip   only the `sg bench` round trips
  --soak             also run the 10-minute open loop at 5,000 msg/s with bin/sg's default JVM flags (heap and
                     RSS start/end; 10 minutes even with --quick) and, when wrk runs, 10 minutes of wrk against the
                     gateway (RSS every minute)
  --redis URL        Redis for the round trips (default $REDIS_URL; else a private redis-server without
                     persistence on a free port if redis-server is on PATH; else sg bench's embedded Redis)
  --out DIR          results folder (default bench/results)
  --no-build         never run Maven: use the jars as they are even if older than the sources (fail if one is
                     missing), and run `java -jar launcher/target/sg.jar bench` instead of bin/sg, which would
                     rebuild

environment:
  JMH_ARGS           extra JMH arguments, e.g. JMH_ARGS='-p shape=plain' or a benchmark regex
  SG_JAVA_OPTS       JVM options for sg bench, replacing bin/sg's defaults (bin/sg --print-java-opts)
  MVNW_ARGS          extra Maven arguments for the build, e.g. MVNW_ARGS=-o (offline)
  SG_BENCH_CONVERTER python3 or jq: force the JSON converter (default: python3 if present, else jq)
  SG_PEER_CLOSED_RUNS times the closed loop is compared side by side with the Python peer (default 3; the
                     markdown gives every ratio and their median)
EOF
}

die() { echo "run-all: error: $*" >&2; exit 1; }
log() { echo "run-all: $*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
only=all
soak=0
build=1
redis_url="${REDIS_URL:-}"
out="$root/bench/results"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --soak) soak=1 ;;
    --no-build) build=0 ;;
    --only)
      [ $# -ge 2 ] || die "--only needs jmh or roundtrip"
      case "$2" in jmh|roundtrip) only="$2" ;; *) die "--only must be jmh or roundtrip, got '$2'" ;; esac
      shift ;;
    --redis)
      [ $# -ge 2 ] && [ -n "$2" ] || die "--redis needs a URL such as redis://127.0.0.1:6379"
      redis_url="$2"; shift ;;
    --out)
      [ $# -ge 2 ] && [ -n "$2" ] || die "--out needs a folder"
      out="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
[ "$soak" = 1 ] && [ "$only" = jmh ] && die "--soak is a round-trip run; it cannot be combined with --only jmh"

run_jmh=1; run_rt=1
[ "$only" = roundtrip ] && run_jmh=0
[ "$only" = jmh ] && run_rt=0

# --- converter: python3, else jq; nothing else parses JSON reliably ---------------------------------------------
# SG_BENCH_CONVERTER=python3|jq forces one (to test the fallback).
if [ -n "${SG_BENCH_CONVERTER:-}" ]; then
  case "$SG_BENCH_CONVERTER" in python3|jq) conv="$SG_BENCH_CONVERTER" ;; *) die "SG_BENCH_CONVERTER must be python3 or jq" ;; esac
  command -v "$conv" >/dev/null 2>&1 || die "SG_BENCH_CONVERTER=$conv but $conv is not on PATH"
elif command -v python3 >/dev/null 2>&1 && python3 -c 'import json' >/dev/null 2>&1; then
  conv=python3
elif command -v jq >/dev/null 2>&1; then
  conv=jq
else
  die "need python3 or jq to turn benchmark JSON into JSON lines and tables; install one of them"
fi
command -v java >/dev/null 2>&1 || die "java is not on PATH (JDK 17+ needed)"

# --- work files, cleaned up however we exit ---------------------------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/sg-bench.XXXXXX")"
redis_pid=""
child_pid="" # the JMH or sg bench JVM running now: run in the background and waited for, so that a
             # TERM/INT reaches the trap at once (bash defers traps while a foreground child runs)
cleanup() {
  local rc=$?
  if [ -n "$child_pid" ] && kill -0 "$child_pid" 2>/dev/null; then
    kill "$child_pid" 2>/dev/null || true
    wait "$child_pid" 2>/dev/null || true
  fi
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

mkdir -p "$out" || die "cannot create results folder $out"
host="$(hostname -s 2>/dev/null || hostname 2>/dev/null || echo host)"
day="$(date -u +%Y-%m-%d)"
stem="$day-$host"
[ "$only" != all ] && stem="$stem-$only"
[ "$quick" = 1 ] && stem="$stem-quick"
# Written in $tmp and copied to $out at the end, so that an aborted run leaves earlier results alone.
jsonl="$tmp/results.jsonl"
md="$tmp/results.md"
: >"$jsonl"
failures=0
started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- build if needed --------------------------------------------------------------------------------------------
jmh_jar="$root/bench/target/benchmarks.jar"
sg_jar="$root/launcher/target/sg.jar"
stale() { # stale JAR: missing, or any pom / main source newer than it
  [ ! -f "$1" ] && return 0
  [ -n "$(find "$root" -path "$root/.git" -prune -o \( -path '*/src/main/*' -o -name pom.xml \) -newer "$1" -print -quit 2>/dev/null)" ]
}
need_build=0
if [ "$run_jmh" = 1 ] && stale "$jmh_jar"; then need_build=1; fi
if [ "$run_rt" = 1 ] && stale "$sg_jar"; then need_build=1; fi
if [ "$build" = 0 ]; then
  [ "$run_jmh" = 0 ] || [ -f "$jmh_jar" ] || die "--no-build but $jmh_jar is missing"
  [ "$run_rt" = 0 ] || [ -f "$sg_jar" ] || die "--no-build but $sg_jar is missing"
  [ "$need_build" = 0 ] || log "warning: --no-build: using jars older than the sources"
elif [ "$need_build" = 1 ]; then
  log "building (./mvnw -q -B -DskipTests package ${MVNW_ARGS:-})"
  # shellcheck disable=SC2086 # MVNW_ARGS is a list of flags
  (cd "$root" && ./mvnw -q -B -DskipTests ${MVNW_ARGS:-} package) >&2 || die "build failed (see Maven output above)"
fi

# --- JMH ---------------------------------------------------------------------------------------------------------
jmh_to_jsonl() { # $1: JMH -rf json file; appends one line per benchmark to $jsonl
  if [ "$conv" = python3 ]; then
    python3 - "$1" >>"$jsonl" <<'PY'
import json, math, sys

def num(x):
    # JMH writes "NaN" (a string) or NaN when there are too few iterations for an error bar
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else round(x, 3)

for r in json.load(open(sys.argv[1])):
    pm, sm = r["primaryMetric"], r.get("secondaryMetrics", {})
    alloc = sm.get("gc.alloc.rate.norm", {})
    print(json.dumps({
        "suite": "jmh",
        "benchmark": r["benchmark"].removeprefix("io.sgstreams.bench."),
        "params": r.get("params", {}),
        "mode": r["mode"],
        "ns_per_op": num(pm["score"]),
        "ns_error": num(pm.get("scoreError")),
        "unit": pm["scoreUnit"],
        "bytes_per_op": num(alloc.get("score")),
        "bytes_error": num(alloc.get("scoreError")),
        "warmup": f'{r["warmupIterations"]}x{r["warmupTime"]}',
        "measurement": f'{r["measurementIterations"]}x{r["measurementTime"]}',
        "forks": r["forks"],
        "jdk": r.get("jdkVersion"),
    }))
PY
  else
    jq -c '
      def num: (tonumber? // null) | if . == null or isnan then null else (. * 1000 | round / 1000) end;
      .[] | {
        suite: "jmh",
        benchmark: (.benchmark | sub("^io\\.sgstreams\\.bench\\."; "")),
        params: (.params // {}),
        mode: .mode,
        ns_per_op: (.primaryMetric.score | num),
        ns_error: (.primaryMetric.scoreError | num),
        unit: .primaryMetric.scoreUnit,
        bytes_per_op: (.secondaryMetrics["gc.alloc.rate.norm"].score | num),
        bytes_error: (.secondaryMetrics["gc.alloc.rate.norm"].scoreError | num),
        warmup: "\(.warmupIterations)x\(.warmupTime)",
        measurement: "\(.measurementIterations)x\(.measurementTime)",
        forks: .forks,
        jdk: .jdkVersion
      }' "$1" >>"$jsonl"
  fi
}

if [ "$run_jmh" = 1 ]; then
  [ -f "$jmh_jar" ] || die "$jmh_jar is missing (build with ./mvnw -q -B -DskipTests package)"
  jmh_opts=(-f 1 -prof gc -rf json -rff "$tmp/jmh.json")
  # Defaults in the annotations: 3x1s warmup, 5x1s measurement. Quick: enough to prove the harness.
  [ "$quick" = 1 ] && jmh_opts+=(-wi 2 -w 500ms -i 3 -r 500ms)
  # shellcheck disable=SC2206 # JMH_ARGS is a list of flags
  extra=(${JMH_ARGS:-})
  log "JMH: java -jar bench/target/benchmarks.jar ${jmh_opts[*]} ${extra[*]:-}"
  java -jar "$jmh_jar" "${jmh_opts[@]}" "${extra[@]}" >"$tmp/jmh.out" 2>&1 &
  child_pid=$!
  jmh_rc=0
  wait "$child_pid" || jmh_rc=$?
  child_pid=""
  [ "$jmh_rc" = 0 ] || { tail -40 "$tmp/jmh.out" >&2; die "JMH failed with exit $jmh_rc (output above)"; }
  [ -s "$tmp/jmh.json" ] || die "JMH wrote no results (no benchmark matched JMH_ARGS='${JMH_ARGS:-}'?)"
  grep -E '^(Benchmark|[A-Za-z]+Benchmark\.)' "$tmp/jmh.out" | grep -v ':gc\.\(count\|time\)' >&2 || true
  jmh_to_jsonl "$tmp/jmh.json"
fi

# --- round trips through sg bench -------------------------------------------------------------------------------
free_port() {
  if [ "$conv" = python3 ]; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  else
    local p i
    for i in $(seq 1 50); do
      p=$((20000 + RANDOM % 20000))
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
  fi
}

redis_desc="sg bench's embedded Redis 7.0 (no persistence)"
start_redis() {
  local port i
  port="$(free_port)" || die "found no free port for redis-server"
  # No persistence, as the issue's targets assume; loopback only.
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode yes \
    --logfile "$tmp/redis.log" --dir "$tmp" &
  redis_pid=$!
  for i in $(seq 1 100); do
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
      redis_url="redis://127.0.0.1:$port"; own_redis_url="$redis_url"
      redis_desc="private redis-server on port $port, no persistence ($(redis-server --version | awk '{print $3}'))"
      log "started $redis_desc (pid $redis_pid)"
      return 0
    fi
    kill -0 "$redis_pid" 2>/dev/null || { cat "$tmp/redis.log" >&2; die "redis-server exited at start"; }
    sleep 0.1
  done
  die "redis-server on port $port did not answer PING within 10 s"
}

# One sg bench run: $1 = case name, rest = sg bench flags. Appends its JSON line (tagged) to $jsonl.
roundtrip() {
  local name="$1"; shift
  local args=("$@")
  [ -n "$redis_url" ] && args+=(--redis "$redis_url")
  log "round trip '$name': bin/sg bench ${args[*]}"
  local rc=0
  "${sg_cmd[@]}" bench "${args[@]}" >"$tmp/$name.out" &
  child_pid=$!
  wait "$child_pid" || rc=$?
  child_pid=""
  local line
  line="$(grep '^{' "$tmp/$name.out" | tail -1 || true)"
  if [ -z "$line" ]; then
    log "round trip '$name' FAILED (exit $rc) without a JSON line; its stdout:"; cat "$tmp/$name.out" >&2
    failures=$((failures + 1))
    return 0
  fi
  # sg bench exits non-zero when requests were lost: its figures are still recorded, with the exit code.
  if [ "$rc" != 0 ]; then
    log "round trip '$name' FAILED (exit $rc); its figures are recorded with exit_code $rc"
    failures=$((failures + 1))
  fi
  echo "$line" >&2
  local cmd="bin/sg bench $*"
  if [ "$conv" = python3 ]; then
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps({"suite":"roundtrip","case":sys.argv[2],"command":sys.argv[3],"exit_code":int(sys.argv[4]),**d}))' \
      "$line" "$name" "$cmd" "$rc" >>"$jsonl" || { log "'$name' printed invalid JSON"; failures=$((failures + 1)); }
  else
    jq -c --arg case "$name" --arg cmd "$cmd" --argjson rc "$rc" '{suite:"roundtrip", case:$case, command:$cmd, exit_code:$rc} + .' <<<"$line" >>"$jsonl" \
      || { log "'$name' printed invalid JSON"; failures=$((failures + 1)); }
  fi
}

if [ "$run_rt" = 1 ]; then
  # bin/sg's JVM defaults (serial collector on <= 2 CPUs, a bounded heap); SG_JAVA_OPTS replaces them
  default_opts="$(env -u SG_JAVA_OPTS "$root/bin/sg" --print-java-opts)"
  if [ "$build" = 1 ]; then
    [ -x "$root/bin/sg" ] || die "$root/bin/sg is missing or not executable"
    sg_cmd=("$root/bin/sg")
  else
    # shellcheck disable=SC2206 # a list of JVM flags, as bin/sg splits it
    sg_cmd=(java ${SG_JAVA_OPTS-$default_opts} -jar "$sg_jar")
  fi
  "${sg_cmd[@]}" bench --help >/dev/null 2>&1 || die "'${sg_cmd[*]} bench --help' failed: this build has no bench subcommand"
  if [ -n "$redis_url" ]; then
    redis_desc="external Redis ($redis_url)"
  elif command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    start_redis
  else
    log "redis-server not on PATH: sg bench uses its embedded Redis"
  fi
  if [ "$quick" = 1 ]; then
    closed=(--messages 20000 --warmup 5000 --jit-settle 0); open=(--messages 10000 --warmup 2500 --jit-settle 0)
    http=(--messages 10000 --warmup 2000 --jit-settle 0)
  else
    # open loop: 30 s measured at 5,000/s after 5 s of warm-up
    closed=(--messages 200000 --warmup 100000); open=(--messages 150000 --warmup 25000); http=(--messages 100000 --warmup 20000)
  fi
  common=(--workers 4 --payload-bytes 256)
  roundtrip closed-1000 --mode closed --inflight 1000 "${closed[@]}" "${common[@]}"
  roundtrip open-5000 --mode open --rate 5000 "${open[@]}" "${common[@]}"
  roundtrip http-closed-1000 --via http --mode closed --inflight 1000 "${http[@]}" "${common[@]}"
  if [ "$soak" = 1 ]; then
    # With bin/sg's defaults, no flag of its own: the soak shows whether a plain `bin/sg` stays flat
    # (docs/performance.md, memory defaults). SG_JAVA_OPTS still replaces them.
    soak_opts="${SG_JAVA_OPTS-$default_opts}"
    # shellcheck disable=SC2206 # a list of JVM flags
    [ "$build" = 1 ] || sg_cmd=(java $soak_opts -jar "$sg_jar")
    SG_JAVA_OPTS="$soak_opts" roundtrip soak-600s --mode open --rate 5000 --duration 600 --warmup 25000 "${common[@]}"
  fi
fi

# --- the gateway from outside its process (wrk), when wrk and a Redis of our own are there ----------------------
if [ "$run_rt" = 1 ] && [ "$quick" = 0 ] && command -v wrk >/dev/null 2>&1 && [ -n "${own_redis_url:-}" ]; then
  for j in off on; do
    log "wrk: bench/wrk/run.sh (journal $j)"
    "$root/bench/wrk/run.sh" "$own_redis_url" "$j" | tee "$tmp/wrk-$j.out" >&2 || failures=$((failures + 1))
    mkdir -p "$out" && cp "$tmp/wrk-$j.out" "$out/$stem-wrk-journal-$j.txt"
  done
  if [ "$soak" = 1 ]; then
    # the gateway role's soak: 10 minutes of wrk with bin/sg's default flags (RSS sampled every minute)
    log "wrk soak: WRK_SECONDS=600 bench/wrk/run.sh (journal off)"
    WRK_SECONDS=600 "$root/bench/wrk/run.sh" "$own_redis_url" off | tee "$tmp/wrk-soak.out" >&2 || failures=$((failures + 1))
    mkdir -p "$out" && cp "$tmp/wrk-soak.out" "$out/$stem-wrk-soak-600s.txt"
  fi
fi

# --- side by side with the seed design's Python bus (../shared/peers, when present) -----------------------------
# compare.sh runs the Python peer and bin/sg bench on one private redis-server, one after the other; both JSON
# lines are recorded (cases side-by-side-<mode>-python and -sg, the sg row with the ratio to the peer).
# The closed loop is compared SG_PEER_CLOSED_RUNS times (default 3): on 2 shared vCPUs one run's ratio spread from
# 1.28x to 2.08x within minutes on 2026-12-04, so every run is recorded and the markdown also gives their median.
peers="${SG_PEERS_DIR:-$root/../shared/peers}"
closed_runs="${SG_PEER_CLOSED_RUNS:-3}"
case "$closed_runs" in ''|*[!0-9]*|0) die "SG_PEER_CLOSED_RUNS must be a positive integer, got '$closed_runs'" ;; esac
if [ "$run_rt" = 1 ] && [ "$quick" = 0 ] && [ -x "$peers/compare.sh" ] && [ "$conv" = python3 ]; then
  for spec in $(seq -f "closed:%g" 1 "$closed_runs") open:1; do
    mode=${spec%%:*}; n=${spec#*:}
    suffix=""; [ "$n" -gt 1 ] && suffix="-run$n"
    log "side by side ($mode${suffix:+, run $n}): $peers/compare.sh $mode"
    (cd "$root" && "$peers/compare.sh" "$mode") >"$tmp/peer-$mode$suffix.out" 2>&1 || failures=$((failures + 1))
    cat "$tmp/peer-$mode$suffix.out" >&2
    python3 - "$tmp/peer-$mode$suffix.out" "$mode" "$suffix" >>"$jsonl" <<'PY' || failures=$((failures + 1))
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
py = next(l for l in lines if l.get("impl") == "python-seed")
sg = next(l for l in lines if l.get("impl") == "sg")
mode, suffix = sys.argv[2], sys.argv[3]
cmd = f"../shared/peers/compare.sh {mode}"
print(json.dumps({"suite": "roundtrip", "case": f"side-by-side-{mode}-python{suffix}", "command": cmd, "exit_code": 0, "via": "stream", **py}))
print(json.dumps({"suite": "roundtrip", "case": f"side-by-side-{mode}-sg{suffix}", "command": cmd, "exit_code": 0,
                  "ratio_to_python": round(sg["throughput_msgs_per_s"] / py["throughput_msgs_per_s"], 2), **sg}))
PY
  done
fi

# --- markdown ---------------------------------------------------------------------------------------------------
facts() {
  echo "| | |"
  echo "|---|---|"
  echo "| date (UTC) | $started_at |"
  echo "| host | $host |"
  echo "| CPUs (nproc) | $(nproc 2>/dev/null || echo '?') |"
  echo "| CPU model | $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo '?') |"
  echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || echo '?') |"
  echo "| java | $(java -version 2>&1 | head -2 | tr '\n' ' ' | sed 's/|/\\|/g') |"
  echo "| redis-server | $(redis-server --version 2>/dev/null | cut -d' ' -f1-3 || echo 'not on PATH') |"
  echo "| commit | $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo ' (uncommitted changes)') |"
  echo "| command | \`bench/run-all.sh$([ "$quick" = 1 ] && echo ' --quick')$([ "$only" != all ] && echo " --only $only")$([ "$soak" = 1 ] && echo ' --soak')\` |"
  [ "$run_rt" = 1 ] && echo "| round-trip Redis | $redis_desc |"
  echo "| load | $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (1/5/15 min, at the end: other work on the machine skews the figures) |"
}

tables_python() {
  python3 - "$jsonl" <<'PY'
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]

def f(x, digits=1):
    return "–" if x is None else f"{x:,.{digits}f}"

def pm(x, e, digits=1):
    return f(x, digits) + ("" if e is None else f" ± {f(e, digits)}")

jmh = [r for r in rows if r["suite"] == "jmh"]
if jmh:
    print("### JMH: envelope codec and ids\n")
    print("| benchmark | params | ns/op | B/op (gc.alloc.rate.norm) |")
    print("|---|---|---:|---:|")
    for r in jmh:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "–"
        print(f'| {r["benchmark"]} | {params} | {pm(r["ns_per_op"], r["ns_error"])} | {f(r["bytes_per_op"], 0)} |')
    print(f'\nAverage time, 1 fork, {jmh[0]["warmup"]} warm-up, {jmh[0]["measurement"]} measurement, JDK {jmh[0]["jdk"]}; '
          "± is JMH's 99.9% confidence half-width.\n")

rt = [r for r in rows if r["suite"] == "roundtrip"]
if rt:
    print("### Round trips (`sg bench`)\n")
    print("| case | via | mode | messages | msgs/s | p50 ms | p99 ms | p99.9 ms | max ms | lost | dup | client CPU s | Redis CPU s | heap after GC MB (start→end) | RSS MB (start→end) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rt:
        g = r.get
        mode = g("mode", "?") + (f' {f(g("rate"), 0)}/s' if g("mode") == "open" else f' K={g("inflight")}')
        heap = f'{f(g("heap_after_gc_start_mb"), 0)}→{f(g("heap_after_gc_end_mb"), 0)}'
        rss = f'{f(g("rss_start_mb"), 0)}→{f(g("rss_end_mb"), 0)}'
        case = r["case"] + (f' **(exit {g("exit_code")})**' if g("exit_code") else "")
        print(f'| {case} | {g("via", "?")} | {mode} | {f(g("messages"), 0)} | {f(g("throughput_msgs_per_s"), 0)} '
              f'| {f(g("p50_ms"), 2)} | {f(g("p99_ms"), 2)} | {f(g("p999_ms"), 2)} | {f(g("max_ms"), 2)} '
              f'| {g("lost", "?")} | {g("duplicates", "?")} | {f(g("client_cpu_s"), 1)} | {f(g("redis_cpu_s"), 1)} | {heap} | {rss} |')
    print("\nCommands:\n")
    for r in rt:
        print(f'- {r["case"]}: `{r["command"]}`')
    print()
    for r in rt:
        if r.get("ratio_to_python") is not None:
            m = r["messages"]
            print(f'- {r["case"]}: **{r["ratio_to_python"]}×** the Python peer in the same run; CPU per message '
                  f'{1e6 * r["client_cpu_s"] / m:.1f} µs JVM + {1e6 * r["redis_cpu_s"] / m:.1f} µs Redis')
    closed = sorted((r for r in rt if r.get("ratio_to_python") is not None and r.get("mode") == "closed"),
                    key=lambda r: r["ratio_to_python"])
    if len(closed) > 1:
        med = closed[len(closed) // 2] if len(closed) % 2 else None
        ratios = ", ".join(f'{r["ratio_to_python"]}×' for r in closed)
        if med is not None:
            m = med["messages"]
            print(f'- closed loop over {len(closed)} side-by-side runs: ratios {ratios}; **median {med["ratio_to_python"]}×** '
                  f'({med["case"]}: {1e6 * med["client_cpu_s"] / m:.1f} µs JVM + {1e6 * med["redis_cpu_s"] / m:.1f} µs Redis per message)')
        else:
            mid = (closed[len(closed) // 2 - 1]["ratio_to_python"] + closed[len(closed) // 2]["ratio_to_python"]) / 2
            print(f'- closed loop over {len(closed)} side-by-side runs: ratios {ratios}; **median {mid:.2f}×**')
    print()
PY
}

tables_jq() {
  jq -rs '
    def f: if . == null then "–" elif type == "number" then (. * 100 | round / 100 | tostring) else tostring end;
    (map(select(.suite == "jmh")) | if length > 0 then
      "### JMH: envelope codec and ids\n",
      "| benchmark | params | ns/op | B/op (gc.alloc.rate.norm) |",
      "|---|---|---:|---:|",
      (.[] | "| \(.benchmark) | \(.params | to_entries | map("\(.key)=\(.value)") | join(", ") | if . == "" then "–" else . end) | \(.ns_per_op | f)\(if .ns_error == null then "" else " ± \(.ns_error | f)" end) | \(.bytes_per_op | f) |"),
      "\nAverage time, 1 fork, \(.[0].warmup) warm-up, \(.[0].measurement) measurement, JDK \(.[0].jdk); ± is JMH'"'"'s 99.9% confidence half-width.\n"
    else empty end),
    (map(select(.suite == "roundtrip")) | if length > 0 then
      "### Round trips (`sg bench`)\n",
      "| case | via | mode | messages | msgs/s | p50 ms | p99 ms | p99.9 ms | max ms | lost | dup | client CPU s | Redis CPU s | heap after GC MB (start→end) | RSS MB (start→end) |",
      "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      (.[] | "| \(.case)\(if (.exit_code // 0) != 0 then " **(exit \(.exit_code))**" else "" end) | \(.via) | \(.mode) \(if .mode == "open" then "\(.rate | f)/s" else "K=\(.inflight)" end) | \(.messages | f) | \(.throughput_msgs_per_s | f) | \(.p50_ms | f) | \(.p99_ms | f) | \(.p999_ms | f) | \(.max_ms | f) | \(.lost | f) | \(.duplicates | f) | \(.client_cpu_s | f) | \(.redis_cpu_s | f) | \(.heap_after_gc_start_mb | f)→\(.heap_after_gc_end_mb | f) | \(.rss_start_mb | f)→\(.rss_end_mb | f) |"),
      "\nCommands:\n",
      (.[] | "- \(.case): `\(.command)`"),
      ""
    else empty end)
  ' "$jsonl"
}

{
  echo "# sg-streams benchmark results: $day on $host$([ "$quick" = 1 ] && echo ' (quick run: smoke test, not figures to quote)')"
  echo
  facts
  echo
  if [ "$conv" = python3 ]; then tables_python; else tables_jq; fi
  [ "$failures" -gt 0 ] && printf '**%s round-trip run(s) failed** (sg bench exited non-zero: lost requests or an error; its stderr has the details).\n\n' "$failures"
  echo "Raw figures: \`$stem.jsonl\` (one JSON object per line). How to read them: bench/README.md."
} >"$md"

cp "$jsonl" "$out/$stem.jsonl"
cp "$md" "$out/$stem.md"
cp "$md" "$out/latest.md"
cp "$jsonl" "$out/latest.jsonl"
log "wrote $out/$stem.jsonl, $out/$stem.md and $out/latest.md"
[ "$failures" -eq 0 ] || die "$failures round-trip run(s) failed"
