#!/usr/bin/env bash
# Create the `relay` role (password `relay`, allowed to create databases for the tests) and the
# `relay` database when they are missing. Safe to run any number of times.
set -euo pipefail
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
if [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'relay'")" != "1" ]; then
  "${PSQL[@]}" -c "CREATE ROLE relay LOGIN PASSWORD 'relay' CREATEDB"
fi
if [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'relay'")" != "1" ]; then
  "${PSQL[@]}" -c "CREATE DATABASE relay OWNER relay"
fi
