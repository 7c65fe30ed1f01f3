# Relay: one image for all five services. The container's arguments pick what it runs:
# `start ingest|scheduler|dispatcher|worker|reaper` (one service in the foreground) or `migrate`.
#
#   docker build -t relay:latest .
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... relay:latest migrate
#   docker run -d -e DATABASE_URL=... -e REDIS_URL=... -e HEALTH_PORT=9090 relay:latest start worker
#
# infra/k8s/ runs it on Kubernetes. There is no Docker engine where Relay is developed:
# `bash scripts/check-image.sh` repeats these steps in a temporary clone and runs a workflow on the
# result, against the local Postgres and Redis.

# Build: install everything, compile every workspace, then drop the development dependencies.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
  && npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf .turbo

# Run: the built tree, tini as PID 1 (it reaps the orphans of shell tasks, which node would leave as
# zombies, and passes SIGTERM on), the unprivileged `node` user.
FROM node:22-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
USER node
# ingest's PORT; the other services serve /healthz, /readyz and /metrics on HEALTH_PORT.
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/libs/cli/bin/relay.js"]
CMD ["start", "worker"]
