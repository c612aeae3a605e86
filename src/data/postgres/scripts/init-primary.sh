#!/usr/bin/env bash
# Runs once, when the official postgres image initialises an empty data
# directory (/docker-entrypoint-initdb.d): creates the application role that
# owns the application database and the role replicas stream WAL with, and
# lets that role connect for replication.
#
# Settings (environment, from the credentials Secret):
#   POSTGRES_USER, POSTGRES_DB   set by the image's own entrypoint contract
#   APP_USER, APP_PASSWORD       the role the services connect as
#   REPLICATION_USER, REPLICATION_PASSWORD
set -euo pipefail

for name in POSTGRES_USER POSTGRES_DB APP_USER APP_PASSWORD REPLICATION_USER REPLICATION_PASSWORD PGDATA; do
  [[ -n "${!name:-}" ]] || { echo "init-primary.sh: required setting ${name} is empty" >&2; exit 1; }
done

psql --no-psqlrc --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
  --set=db="$POSTGRES_DB" \
  --set=app_user="$APP_USER" --set=app_password="$APP_PASSWORD" \
  --set=repl_user="$REPLICATION_USER" --set=repl_password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
-- Owner of the database: since PostgreSQL 15 only the owner may create in
-- its public schema.
ALTER DATABASE :"db" OWNER TO :"app_user";
CREATE ROLE :"repl_user" WITH REPLICATION LOGIN PASSWORD :'repl_password';
SQL

# The image's own rule, `host all all all`, does not match replication
# connections.
printf 'host replication %s all scram-sha-256\n' "$REPLICATION_USER" >>"$PGDATA/pg_hba.conf"
