#!/usr/bin/env bash
# Restores one PostgreSQL dump written by backup-database.sh.
#
#   restore-database.sh download <workdir>  fetch the dump and check its checksum
#   restore-database.sh restore  <workdir>  pg_restore it into the target database
#   restore-database.sh all      <workdir>  both, in one process
#
# The restore Job runs `download` in an AWS CLI image (init container) and
# `restore` in a postgres image, sharing <workdir> on an emptyDir.
#
# Settings (environment):
#   BACKUP_DESTINATION   s3://bucket[/base] or file:///dir (see backup-lib.sh)
#   RESTORE_KEY          key of the dump, e.g. database/daily/20260101T020000Z/rauli.dump
#   PGHOST, PGPORT, PGUSER, PGPASSWORD  libpq connection of the target server
#   RESTORE_DATABASE     target database (default: the dump's file name); created
#                        when missing
#   RESTORE_CLEAN        "true" drops the dump's objects first; without it a
#                        target that already holds tables is refused
#   RESTORE_NO_OWNER     "true" skips ownership (restoring as another role)
set -euo pipefail
# shellcheck source=src/data/backup/scripts/backup-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

download() {
  local workdir=$1 folder file
  require_env RESTORE_KEY
  destination_parts >/dev/null
  [[ "$RESTORE_KEY" == *.dump ]] || die "RESTORE_KEY must name a .dump object, got '${RESTORE_KEY}'"
  folder=$(dirname "$RESTORE_KEY")
  file=$(basename "$RESTORE_KEY")
  mkdir -p "$workdir/staging"
  log "downloading ${RESTORE_KEY}"
  get_object "$RESTORE_KEY" "$workdir/staging/$file"
  get_object "$folder/SHA256SUMS" "$workdir/staging/SHA256SUMS.all"
  # Check just this dump: the folder's other files were not downloaded.
  grep -E "^[0-9a-f]{64}  ${file//./\\.}\$" "$workdir/staging/SHA256SUMS.all" >"$workdir/staging/SHA256SUMS" ||
    die "${file} is not listed in ${folder}/SHA256SUMS: the backup is incomplete"
  rm "$workdir/staging/SHA256SUMS.all"
  verify_manifest "$workdir/staging"
  publish_staging "$workdir"
  log "downloaded and verified ${RESTORE_KEY}"
}

psql_value() {
  psql --no-password --no-psqlrc --tuples-only --no-align --set=ON_ERROR_STOP=1 "$@"
}

restore() {
  local workdir=$1 dump target exists tables args=()
  require_env PGHOST PGUSER
  export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
  [[ -f "$workdir/out/SHA256SUMS" ]] || die "no verified dump in ${workdir}: the download step failed or did not run"
  verify_manifest "$workdir/out"
  dump=$(files_under "$workdir/out")
  [[ "$dump" == *.dump && "$dump" != *$'\n'* ]] || die "expected exactly one .dump in ${workdir}/out"
  target=${RESTORE_DATABASE:-${dump%.dump}}
  exists=$(psql_value --dbname=postgres --set=target="$target" <<<"SELECT count(*) FROM pg_database WHERE datname = :'target'")
  if [[ "$exists" == 0 ]]; then
    log "creating database ${target}"
    psql_value --dbname=postgres --set=target="$target" <<<'CREATE DATABASE :"target"' >/dev/null
  fi
  tables=$(psql_value --dbname="$target" <<<"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")
  if [[ "${RESTORE_CLEAN:-false}" == "true" ]]; then
    args+=(--clean --if-exists)
  elif [[ "$tables" != 0 ]]; then
    die "database ${target} already holds ${tables} table(s); set RESTORE_CLEAN=true to replace them"
  fi
  [[ "${RESTORE_NO_OWNER:-false}" == "true" ]] && args+=(--no-owner --no-acl)
  log "restoring ${dump} into ${target} on ${PGHOST}:${PGPORT:-5432}"
  # One transaction: the target gets all of the dump or none of it.
  pg_restore --no-password --exit-on-error --single-transaction "${args[@]}" --dbname="$target" "$workdir/out/$dump"
  log "restore of ${dump} into ${target} complete"
}

main() {
  local mode=${1:-} workdir=${2:-}
  [[ -n "$workdir" ]] || die "usage: ${0##*/} download|restore|all <workdir>"
  mkdir -p "$workdir"
  case "$mode" in
    download) download "$workdir" ;;
    restore) restore "$workdir" ;;
    all) download "$workdir"; restore "$workdir" ;;
    *) die "usage: ${0##*/} download|restore|all <workdir>" ;;
  esac
}

main "$@"
