#!/usr/bin/env bash
# Archives application volumes (configuration, user data) and uploads them.
#
#   backup-application.sh archive <workdir>   tar+gzip every source into <workdir>
#   backup-application.sh upload  <workdir>   verify the archives and upload them
#   backup-application.sh all     <workdir>   both, in one process
#
# Settings (environment):
#   BACKUP_SOURCES       space-separated <name>=<directory> pairs; each archive
#                        goes under the key prefix <name>/, e.g.
#                        "config=/backup/config user-data=/backup/user-data"
#   BACKUP_DESTINATION   s3://bucket[/base] or file:///dir (see backup-lib.sh)
set -euo pipefail
# shellcheck source=src/data/backup/scripts/backup-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

archive() {
  local workdir=$1 stamp source name dir folder
  require_env BACKUP_SOURCES
  stamp=$(timestamp)
  for source in $BACKUP_SOURCES; do
    [[ "$source" == ?*=/* ]] || die "BACKUP_SOURCES entries are <name>=<absolute directory>, got '${source}'"
    name=${source%%=*}
    dir=${source#*=}
    [[ -d "$dir" ]] || die "source ${name}: ${dir} is not a directory (volume not mounted?)"
    [[ -r "$dir" ]] || die "source ${name}: ${dir} is not readable"
    folder="$workdir/staging/$(normalize_prefix "$name")${stamp}"
    mkdir -p "$folder"
    log "archiving ${name} from ${dir}"
    tar --create --gzip --file="$folder/${name}.tar.gz" --directory="$dir" .
    # Reads the archive back: a truncated or corrupt archive fails here.
    tar --list --gzip --file="$folder/${name}.tar.gz" >/dev/null
    write_manifest "$folder"
  done
  publish_staging "$workdir"
}

main() {
  local mode=${1:-} workdir=${2:-}
  [[ -n "$workdir" ]] || die "usage: ${0##*/} archive|upload|all <workdir>"
  mkdir -p "$workdir"
  case "$mode" in
    archive) archive "$workdir" ;;
    upload) upload_workdir "$workdir" ;;
    all) destination_parts >/dev/null; archive "$workdir"; upload_workdir "$workdir" ;;
    *) die "usage: ${0##*/} archive|upload|all <workdir>" ;;
  esac
}

main "$@"
