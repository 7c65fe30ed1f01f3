#!/usr/bin/env bash
# What the Dockerfile builds, checked without Docker (there is no Docker engine where Relay is
# developed): copies the working tree as `COPY . .` would (.dockerignore leaves out what git ignores),
# runs the build stage's commands (npm ci, build, prune the development dependencies), then, from that
# tree alone and as the image's entry point does, migrates a fresh database, starts the five services
# one process each (`relay start SERVICE`, as infra/k8s runs them, with the manifests' heap flags) and
# runs a workflow to SUCCESS through the API. Needs local Postgres (superuser `postgres`) and Redis.
#
#   bash scripts/check-image.sh        # a few minutes (npm ci and a build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/relay-image.XXXXXX")"
database="relay_image_$$"
prefix="relayimage$$"
port="${CHECK_IMAGE_PORT:-18990}"
pids=()
admin=(psql -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U "${PGADMIN:-postgres}" -d postgres -qtAX)

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "${admin[@]}" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli --scan --pattern "$prefix*" | xargs -r redis-cli del >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf 'check-image: %s\n' "$*"; }

step "copying the build context to $work"
(cd "$root" && git ls-files -co --exclude-standard -z) | tar -C "$root" --null -T - -cf - | tar -C "$work" -xf -
cd "$work"
step "build stage: npm ci, npm run build, npm prune --omit=dev"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
npm run build >/dev/null
npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null
rm -rf .turbo
entry="libs/cli/bin/relay.js"
grep -q "\"node\", \"/app/$entry\"" "$root/Dockerfile" || { step "the Dockerfile's ENTRYPOINT does not run /app/$entry"; exit 1; }
[ -f "$entry" ] || { step "$entry is missing from the built tree"; exit 1; }

export DATABASE_URL="postgres://relay:relay@127.0.0.1:5432/$database" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export RELAY_PREFIX="$prefix" RELAY_URL="http://127.0.0.1:$port" LOG_LEVEL=warn
"${admin[@]}" -c "CREATE DATABASE \"$database\" OWNER relay" >/dev/null
step "relay migrate"
node "$entry" migrate >/dev/null
for service in scheduler dispatcher reaper worker ingest; do
  options="$(node --input-type=module -e "import { serviceNodeOptions } from '@relay/runtime'; console.log(serviceNodeOptions('', '$service'))")"
  NODE_OPTIONS="$options" HEALTH_PORT=0 PORT="$port" node "$entry" start "$service" >"$work/$service.log" 2>&1 &
  pids+=("$!")
done
for _ in $(seq 1 100); do
  curl -fsS "$RELAY_URL/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$RELAY_URL/readyz" >/dev/null || { step "ingest did not become ready"; tail -n 20 "$work"/*.log; exit 1; }
step "relay apply examples/hello.yaml, relay run hello --wait"
node "$entry" apply examples/hello.yaml >/dev/null
if ! node "$entry" run hello --input '{"name": "image"}' --wait; then
  step "the run did not succeed"; tail -n 20 "$work"/*.log; exit 1
fi
step "ok: the built tree migrates, starts every service and runs a workflow"
