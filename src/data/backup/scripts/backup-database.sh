#!/usr/bin/env bash
# Dumps PostgreSQL databases and uploads the dumps to the backup storage.
#
#   backup-database.sh dump   <workdir>   pg_dump every database into <workdir>
#   backup-database.sh upload <workdir>   verify the dumps and upload them
#   backup-database.sh all    <workdir>   both, in one process
#
# The CronJob runs `dump` in a postgres image (init container) and `upload` in
# an AWS CLI image, sharing <workdir> on an emptyDir. The upload step only runs
# after the dump step exited 0, and it checks every file against the
# checksums the dump step wrote, so a failed, partial or empty dump is never
# uploaded.
#
# Settings (environment):
#   PGHOST, PGPORT, PGUSER, PGPASSWORD  libpq connection (PGPASSWORD from a Secret)
#   DATABASES            space-separated database names to dump
#   BACKUP_DESTINATION   s3://bucket[/base] or file:///dir (see backup-lib.sh)
#   BACKUP_PREFIX        key prefix, e.g. database/daily/
#   INCLUDE_GLOBALS      "true" (default) also saves roles and tablespaces
#   RETENTION_SECONDS    upload: afterwards delete this prefix's dumps older than this
set -euo pipefail
# shellcheck source=src/data/backup/scripts/backup-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

dump() {
  local workdir=$1 stamp folder db size
  require_env PGHOST PGUSER DATABASES BACKUP_PREFIX
  export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
  stamp=$(timestamp)
  folder="$workdir/staging/$(normalize_prefix "$BACKUP_PREFIX")${stamp}"
  mkdir -p "$folder"
  for db in $DATABASES; do
    log "dumping database ${db} from ${PGHOST}:${PGPORT:-5432}"
    # Custom format: compressed, and restorable table by table with pg_restore.
    pg_dump --no-password --format=custom --compress=6 --dbname="$db" --file="$folder/${db}.dump"
    [[ -s "$folder/${db}.dump" ]] || die "dump of ${db} is empty"
    # Reads the whole table of contents back: a truncated archive fails here.
    pg_restore --list "$folder/${db}.dump" >/dev/null || die "dump of ${db} is unreadable"
  done
  if [[ "${INCLUDE_GLOBALS:-true}" == "true" ]]; then
    log "dumping roles and tablespaces"
    pg_dumpall --no-password --globals-only | gzip -6 >"$folder/globals.sql.gz"
    gzip --test "$folder/globals.sql.gz"
  fi
  write_manifest "$folder"
  size=$(du -sh "$folder" | cut -f1)
  publish_staging "$workdir"
  log "dump ${stamp} complete: ${size}"
}

# After a successful upload only: a failing dump never deletes the last good ones.
prune() {
  if [[ -n "${RETENTION_SECONDS:-}" ]]; then
    require_env BACKUP_PREFIX
    prune_older_than "$BACKUP_PREFIX" "$RETENTION_SECONDS"
  fi
}

main() {
  local mode=${1:-} workdir=${2:-}
  [[ -n "$workdir" ]] || die "usage: ${0##*/} dump|upload|all <workdir>"
  mkdir -p "$workdir"
  case "$mode" in
    dump) dump "$workdir" ;;
    upload) upload_workdir "$workdir"; prune ;;
    all) destination_parts >/dev/null; dump "$workdir"; upload_workdir "$workdir"; prune ;;
    *) die "usage: ${0##*/} dump|upload|all <workdir>" ;;
  esac
}

main "$@"
