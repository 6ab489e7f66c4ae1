#!/usr/bin/env bash
# Validates deploy/ without a Docker engine or a Kubernetes cluster (.ci/run runs it after the Maven build):
#   docker-compose config, promtool (Prometheus config, alert rules and their unit tests, the dashboard's queries),
#   every YAML parses and every Kubernetes/KEDA resource validates against its schema (deploy/validate/validate.mjs),
#   the ScaledObject printed by `sg deploy keda` too, and `kubectl kustomize` of the base when kubectl is there.
# Installs what is missing with apt-get (docker-compose, prometheus for promtool, nodejs/npm) when run as root;
# a tool that cannot be installed is skipped with a message saying so. Needs launcher/target/sg.jar (./mvnw package).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=launcher/target/sg.jar
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
skipped=()
step() { printf '\n== %s\n' "$*"; }

apt_updated=0
# have CMD PACKAGE: true when CMD is there, after installing PACKAGE with apt-get if it was not
have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 (for $1)…"
    if [ "$apt_updated" = 0 ]; then
      timeout 120 apt-get update -qq >/dev/null 2>&1 || true
      apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 || true
  fi
  command -v "$1" >/dev/null 2>&1
}
skip() { echo "SKIPPED: $*"; skipped+=("$*"); }

step "sg.jar"
if [ ! -f "$jar" ]; then
  echo "$jar is missing: build it first (./mvnw -B -ntp -DskipTests package)" >&2
  exit 1
fi
grep -q "^COPY $jar " deploy/Dockerfile || { echo "deploy/Dockerfile does not copy $jar" >&2; exit 1; }
echo "ok: $jar (what deploy/Dockerfile copies)"

step "docker-compose config"
if have docker-compose docker-compose; then
  docker-compose -f deploy/docker-compose.yml config -q
  echo "ok: deploy/docker-compose.yml"
else
  skip "docker-compose (Debian package docker-compose) could not be installed: deploy/docker-compose.yml not checked by it"
fi

step "promtool"
if have promtool prometheus; then
  promtool check config deploy/prometheus/prometheus.yml
  promtool check rules deploy/prometheus/alerts.yml
  promtool test rules deploy/prometheus/alerts_test.yml
else
  skip "promtool (Debian package prometheus) could not be installed: alert rules and their tests not run"
fi

step "Kubernetes and KEDA schemas"
if have node nodejs && have npm npm; then
  npm ci --prefix deploy/validate --no-audit --no-fund --loglevel=error >/dev/null
  # the ScaledObject the command prints, for a configuration with renamed streams and a password in REDIS_URL
  REDIS_URL='redis://:not-printed@redis.example:6380/1' SG_INBOUND_STREAM='ci:inbound' SG_WORKER_GROUP='ci:workers' \
    java -jar "$jar" deploy keda --namespace ci --min 2 --max 5 > "$tmp/keda.yaml"
  if grep -q 'not-printed' "$tmp/keda.yaml"; then echo "sg deploy keda printed the Redis password" >&2; exit 1; fi
  grep -q '"ci:inbound"' "$tmp/keda.yaml" && grep -q '"ci:workers"' "$tmp/keda.yaml" \
    || { echo "sg deploy keda did not name the configured stream and group" >&2; exit 1; }
  rendered=()
  if command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize deploy/k8s/base > "$tmp/kustomized.yaml"
    rendered=("$tmp/kustomized.yaml")
    echo "ok: kubectl kustomize deploy/k8s/base ($(grep -c '^kind:' "$tmp/kustomized.yaml") resources)"
  else
    skip "kubectl (not in Debian) is not installed: kustomize build of deploy/k8s/base not run (its files are still validated one by one)"
  fi
  node deploy/validate/validate.mjs deploy --exprs-out "$tmp/dashboard-rules.yml" "$tmp/keda.yaml" "${rendered[@]}"
  if command -v promtool >/dev/null 2>&1; then
    promtool check rules "$tmp/dashboard-rules.yml" >/dev/null
    echo "ok: every Grafana dashboard query parses (promtool)"
  fi
else
  skip "node/npm (Debian packages nodejs, npm) could not be installed: Kubernetes/KEDA schema validation not run"
fi

echo
if [ ${#skipped[@]} -gt 0 ]; then
  echo "deploy/validate.sh: done, with ${#skipped[@]} tool(s) skipped:"
  printf '  - %s\n' "${skipped[@]}"
else
  echo "deploy/validate.sh: every check ran and passed"
fi
