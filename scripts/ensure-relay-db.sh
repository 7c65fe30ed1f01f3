#!/usr/bin/env bash
# Make sure the database Relay uses exists: when DATABASE_URL (default
# postgres://relay:relay@localhost:5432/relay) does not answer, create the `relay` role (password
# `relay`, CREATEDB for the tests' databases) and the `relay` database as the local `postgres`
# superuser. Safe to run any number of times; does nothing where the database already answers
# (e.g. the Docker setup of infra/docker-compose.yml).
set -uo pipefail
url="${DATABASE_URL:-postgres://relay:relay@localhost:5432/relay}"
if ! command -v psql >/dev/null 2>&1; then
  exit 0 # nothing to check with; `relay migrate` will say what is wrong
fi
if psql "$url" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  exit 0
fi
admin=(psql -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U "${PGADMIN:-postgres}" -d postgres -v ON_ERROR_STOP=1 -qtA)
if ! "${admin[@]}" -c 'SELECT 1' >/dev/null 2>&1; then
  echo "ensure-relay-db: $url does not answer and there is no local superuser to create it with;" >&2
  echo "ensure-relay-db: create a role and database named relay (see README.md), or set DATABASE_URL" >&2
  exit 1
fi
if [ "$("${admin[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'relay'")" != "1" ]; then
  "${admin[@]}" -c "CREATE ROLE relay LOGIN PASSWORD 'relay' CREATEDB" && echo "ensure-relay-db: created role relay"
fi
if [ "$("${admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'relay'")" != "1" ]; then
  "${admin[@]}" -c "CREATE DATABASE relay OWNER relay" && echo "ensure-relay-db: created database relay"
fi
