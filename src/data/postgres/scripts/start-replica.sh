#!/usr/bin/env bash
# Entry point of a read replica: on an empty volume, clone the primary with
# pg_basebackup (which also writes standby.signal and primary_conninfo), then
# run postgres as a hot standby streaming from the primary. Arguments are
# passed to postgres (the same -c settings as the primary).
#
# Settings (environment):
#   PGDATA                                  data directory on the volume
#   PRIMARY_HOST, PRIMARY_PORT              the primary's Service
#   REPLICATION_USER, REPLICATION_PASSWORD  from the credentials Secret
#   CLONE_TIMEOUT_SECONDS                   wait for the primary (default 600)
set -euo pipefail

log() {
  printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "$*" >&2
}

for name in PGDATA PRIMARY_HOST REPLICATION_USER REPLICATION_PASSWORD; do
  [[ -n "${!name:-}" ]] || { log "ERROR: required setting ${name} is empty"; exit 1; }
done
port=${PRIMARY_PORT:-5432}

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  deadline=$((SECONDS + ${CLONE_TIMEOUT_SECONDS:-600}))
  until pg_isready --quiet --host="$PRIMARY_HOST" --port="$port"; do
    if ((SECONDS >= deadline)); then
      log "ERROR: primary ${PRIMARY_HOST}:${port} not ready after ${CLONE_TIMEOUT_SECONDS:-600}s"
      exit 1
    fi
    sleep 5
  done
  # A previous attempt may have left a partial copy behind.
  mkdir -p "$PGDATA"
  find "$PGDATA" -mindepth 1 -delete
  chmod 700 "$PGDATA"
  log "cloning ${PRIMARY_HOST}:${port} into ${PGDATA}"
  PGPASSWORD=$REPLICATION_PASSWORD pg_basebackup --no-password --host="$PRIMARY_HOST" --port="$port" \
    --username="$REPLICATION_USER" --pgdata="$PGDATA" --wal-method=stream --checkpoint=fast --write-recovery-conf
  log "clone complete"
fi

exec postgres "$@"
