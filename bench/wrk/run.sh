#!/usr/bin/env bash
# The gateway measured from outside its process: `bin/sg standalone` (default JVM flags) on the Redis given
# as $1 (a private one: it is flushed), auth on (one key), the rate limit on but above the load, the journal
# per $2 (off|on), then `wrk -c 64` for WRK_SECONDS (30) after a warm-up, POST /v1/messages?wait=5.
# Prints wrk's summary and the JVM's RSS after the warm-up, every minute, and at the end (WRK_SECONDS=600 is the
# gateway's memory soak: with bin/sg's default JVM flags, RSS must stay flat and under 256 MB). The warm-up is
# WRK_WARMUP seconds (20): after 10 s the C2 compiler still used half a core for the next five.
# Usage: [WRK_SECONDS=N] [WRK_WARMUP=N] bench/wrk/run.sh redis://127.0.0.1:PORT [off|on] [port]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
url="${1:?a private Redis URL (it is flushed)}"; journal="${2:-off}"; port="${3:-18080}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
export REDIS_URL="$url" SG_API_KEYS=acme:wrkbenchkey0123456789abcdef SG_RATE_LIMIT_PER_MINUTE=100000000 \
  SG_JOURNAL="$journal" SG_HTTP_PORT="$port"
running() { pgrep -f 'sg.jar standalone' >/dev/null; }
# the previous run's server drains after SIGTERM: wait for it, so that this run never measures (or samples) it
for _ in $(seq 60); do running || break; sleep 0.5; done
running && { echo "another 'sg standalone' is still running; stop it first" >&2; exit 1; }
redis-cli -u "$url" flushall >/dev/null
log="$(mktemp)"
"$root/bin/sg" standalone >"$log" 2>&1 &
stop() {
  if [ -n "${wpid:-}" ]; then kill "$wpid" 2>/dev/null || true; fi # wrk has usually exited (set -e: a failing kill would skip the rest)
  rm -f "$log.wrk"
  pkill -TERM -f "sg.jar standalone" 2>/dev/null || true
  for _ in $(seq 60); do running || break; sleep 0.5; done
  rm -f "$log"
}
trap stop EXIT
for _ in $(seq 120); do curl -s -o /dev/null "localhost:$port/health" && break; sleep 1; done
curl -sf -o /dev/null -XPOST "localhost:$port/v1/messages?wait=5" -H 'Authorization: Bearer wrkbenchkey0123456789abcdef' \
  -H 'Content-Type: application/json' -d '{"channel_id":"c1","user_id":"u1","content":"hi"}' || { cat "$log" >&2; exit 1; }
secs="${WRK_SECONDS:-30}"
rss() { # fails (and so the run) when the server is gone: a soak that ends in a crash is not a result
  local p; p="$(pgrep -f 'sg.jar standalone' | head -1)"
  [ -n "$p" ] || { echo "sg standalone is no longer running" >&2; exit 1; }
  ps -o rss= -p "$p" | awk '{print int($1/1024)}'
}
wrk -t2 -c64 -d"${WRK_WARMUP:-20}s" -s "$root/bench/wrk/post.lua" "http://127.0.0.1:$port" >/dev/null 2>&1
echo "wrk -t2 -c64 -d${secs}s --latency, POST /v1/messages?wait=5, journal $journal"
r="$(rss)" || exit 1
echo "RSS start $r MB"
wrk -t2 -c64 -d"${secs}s" --latency -s "$root/bench/wrk/post.lua" "http://127.0.0.1:$port" >"$log.wrk" 2>&1 &
wpid=$!
for m in $(seq 60 60 $((secs - 1))); do sleep 60; r="$(rss)" || exit 1; echo "RSS at ${m}s $r MB"; done
wait "$wpid"
grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors|requests in" "$log.wrk"
rm -f "$log.wrk"
r="$(rss)" || exit 1
echo "RSS end $r MB"
