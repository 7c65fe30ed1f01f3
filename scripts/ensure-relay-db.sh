#!/usr/bin/env bash
# Make sure the database Relay uses exists: when DATABASE_URL (default
# postgres://relay:relay@localhost:5432/relay) does not answer, create the role it names (with the
# password it names, LOGIN and CREATEDB for the tests' databases) and the database it names, owned by
# that role, as the local `postgres` superuser (PGADMIN) on the URL's host and port (PGHOST, PGPORT
# override them). Safe to run any number of times: it creates only what is missing, never alters an
# existing role or database, and does nothing where the database already answers (e.g. the Docker
# setup of infra/docker-compose.yml).
set -uo pipefail
url="${DATABASE_URL:-postgres://relay:relay@localhost:5432/relay}"
if ! command -v psql >/dev/null 2>&1; then
  exit 0 # nothing to check with; `relay migrate` will say what is wrong
fi
if psql "$url" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  exit 0
fi

# user, password, database, host and port of the URL, percent-decoded, NUL-separated (a password
# may hold any character). libpq's defaults fill what the URL leaves out: the user is PGUSER or the
# login name, the database is PGDATABASE or the user.
parts=()
while IFS= read -r -d '' part; do parts+=("$part"); done < <(node -e '
  const u = new URL(process.argv[1]);
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw new Error(`not a postgres:// URL: ${u.protocol}`);
  const user = decodeURIComponent(u.username) || process.env.PGUSER || require("node:os").userInfo().username;
  const db = decodeURIComponent(u.pathname.slice(1)) || process.env.PGDATABASE || user;
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  process.stdout.write([user, decodeURIComponent(u.password), db, host, u.port].join("\0") + "\0");
' "$url" 2>/dev/null)
if [ "${#parts[@]}" -ne 5 ]; then
  echo "ensure-relay-db: DATABASE_URL is not a postgres://user:password@host:port/database URL" >&2
  exit 1
fi
role="${parts[0]}" password="${parts[1]}" database="${parts[2]}"
host="${PGHOST:-${parts[3]:-127.0.0.1}}" port="${PGPORT:-${parts[4]:-5432}}"

# Values reach SQL only as psql variables: :'name' quotes a literal, :"name" an identifier.
admin=(psql -h "$host" -p "$port" -U "${PGADMIN:-postgres}" -d postgres -v ON_ERROR_STOP=1 -qtAX
  -v "role=$role" -v "password=$password" -v "database=$database")
if ! "${admin[@]}" -c 'SELECT 1' >/dev/null 2>&1; then
  echo "ensure-relay-db: $url does not answer and there is no local superuser to create it with;" >&2
  echo "ensure-relay-db: create role $role and database $database (see README.md), or set DATABASE_URL" >&2
  exit 1
fi
if [ "$("${admin[@]}" <<<"SELECT 1 FROM pg_roles WHERE rolname = :'role';")" != "1" ]; then
  if [ -n "$password" ]; then
    create_role="CREATE ROLE :\"role\" LOGIN CREATEDB PASSWORD :'password';"
  else
    create_role="CREATE ROLE :\"role\" LOGIN CREATEDB;"
  fi
  "${admin[@]}" <<<"$create_role" || exit 1
  echo "ensure-relay-db: created role $role"
fi
if [ "$("${admin[@]}" <<<"SELECT 1 FROM pg_database WHERE datname = :'database';")" != "1" ]; then
  "${admin[@]}" <<<"CREATE DATABASE :\"database\" OWNER :\"role\";" || exit 1
  echo "ensure-relay-db: created database $database"
fi
