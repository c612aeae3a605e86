#!/usr/bin/env bash
# Shared helpers for the backup and restore scripts: logging, required
# settings, and the storage transport. Sourced, never executed.
#
# BACKUP_DESTINATION selects the transport:
#   s3://<bucket>[/<base>]  the AWS CLI; S3_ENDPOINT (S3-compatible servers) and
#                           AWS_REGION are honoured, credentials come from the
#                           environment or the pod's IAM role.
#   file:///<directory>     a directory. It stands in for the bucket in tests and
#                           suits a mounted volume; every file is written under a
#                           temporary name and renamed, so like an S3 PUT an
#                           object is either absent or complete.

log() {
  printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

require_env() {
  local name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || die "required setting ${name} is empty"
  done
}

# Prints "<scheme> <base>" for BACKUP_DESTINATION, with the base's trailing
# slashes removed.
destination_parts() {
  require_env BACKUP_DESTINATION
  case "$BACKUP_DESTINATION" in
    s3://?*) printf 's3 %s\n' "${BACKUP_DESTINATION%/}" ;;
    file:///*) printf 'file %s\n' "${BACKUP_DESTINATION#file://}" ;;
    *) die "BACKUP_DESTINATION must start with s3:// or file:///, got '${BACKUP_DESTINATION}'" ;;
  esac
}

# aws_s3 <subcommand> [args]: `aws s3` with the endpoint and region; transfers
# only report errors (`ls` has no such option).
aws_s3() {
  local sub=$1 args=(s3)
  shift
  [[ -n "${S3_ENDPOINT:-}" ]] && args+=(--endpoint-url "$S3_ENDPOINT")
  [[ -n "${AWS_REGION:-}" ]] && args+=(--region "$AWS_REGION")
  args+=("$sub")
  [[ "$sub" == ls ]] || args+=(--only-show-errors)
  aws "${args[@]}" "$@"
}

# put_object <local file> <key>
put_object() {
  local file=$1 key=$2 scheme base
  read -r scheme base < <(destination_parts)
  case "$scheme" in
    s3) aws_s3 cp "$file" "${base}/${key}" ;;
    file)
      mkdir -p "$(dirname "${base}/${key}")"
      cp "$file" "${base}/${key}.partial"
      mv "${base}/${key}.partial" "${base}/${key}"
      ;;
  esac
}

# get_object <key> <local file>
get_object() {
  local key=$1 file=$2 scheme base
  read -r scheme base < <(destination_parts)
  case "$scheme" in
    s3) aws_s3 cp "${base}/${key}" "$file" ;;
    file) [[ -f "${base}/${key}" ]] || die "backup object '${key}' not found in ${BACKUP_DESTINATION}"
      cp "${base}/${key}" "$file" ;;
  esac
}

# files_under <directory> [SHA256SUMS]: relative paths of the regular files
# under the directory, sorted; data files, or with the second argument the
# manifests. Bash globbing instead of find: the AWS CLI image has no findutils
# guarantee.
files_under() {
  local root=$1 want=${2:-data} path name
  shopt -s globstar nullglob dotglob
  for path in "$root"/**; do
    [[ -f "$path" ]] || continue
    name=${path##*/}
    if [[ "$want" == SHA256SUMS && "$name" == SHA256SUMS ]] || [[ "$want" == data && "$name" != SHA256SUMS* ]]; then
      printf '%s\n' "${path#"$root"/}"
    fi
  done
}

# write_manifest <directory>: a SHA256SUMS file over every file in it.
write_manifest() {
  local dir=$1 files=() file
  while IFS= read -r file; do files+=("$file"); done < <(files_under "$dir")
  ((${#files[@]} > 0)) || die "nothing to back up in ${dir}"
  (cd "$dir" && sha256sum -- "${files[@]}") >"$dir/SHA256SUMS.partial"
  mv "$dir/SHA256SUMS.partial" "$dir/SHA256SUMS"
}

# verify_manifest <directory>: every file listed matches its checksum.
verify_manifest() {
  local dir=$1
  [[ -s "$dir/SHA256SUMS" ]] || die "no SHA256SUMS in ${dir}: the backup step did not finish"
  (cd "$dir" && sha256sum --check --quiet --strict SHA256SUMS) || die "checksum mismatch in ${dir}"
}

# verify_tree <directory>: every SHA256SUMS under the directory checks out, and
# every data file is covered by one.
verify_tree() {
  local root=$1 manifest file covered=0 total=0
  while IFS= read -r manifest; do
    verify_manifest "$(dirname "$root/$manifest")"
    covered=$((covered + $(wc -l <"$root/$manifest")))
  done < <(files_under "$root" SHA256SUMS)
  while IFS= read -r file; do total=$((total + 1)); done < <(files_under "$root")
  ((total > 0)) || die "nothing to upload in ${root}"
  ((covered == total)) || die "${total} file(s) under ${root} but ${covered} checksum(s): the backup step did not finish"
}

# upload_tree <directory>: uploads every file under the directory, keyed by its
# path relative to it. Manifests go last, so a backup folder that shows its
# SHA256SUMS in the bucket is complete.
upload_tree() {
  local root=$1 file count=0
  while IFS= read -r file; do
    put_object "${root}/${file}" "$file"
    count=$((count + 1))
  done < <(files_under "$root")
  while IFS= read -r file; do
    put_object "${root}/${file}" "$file"
  done < <(files_under "$root" SHA256SUMS)
  log "uploaded ${count} object(s) to ${BACKUP_DESTINATION}"
}

# upload_workdir <workdir>: uploads what the backup step published, after
# checking it against its manifests.
upload_workdir() {
  local workdir=$1
  destination_parts >/dev/null
  [[ -d "$workdir/out" ]] || die "nothing finished in ${workdir}: the backup step failed or did not run"
  verify_tree "$workdir/out"
  upload_tree "$workdir/out"
}

# publish_staging <workdir>: makes a finished staging tree the upload source.
# The rename is the commit point: the upload step refuses a workdir without it.
publish_staging() {
  local workdir=$1
  [[ ! -e "$workdir/out" ]] || die "${workdir}/out already exists: use an empty work directory"
  mv "$workdir/staging" "$workdir/out"
}

# prune_older_than <prefix> <seconds>: deletes the backup folders directly
# under <prefix> whose timestamp name is older than <seconds>, on every
# transport (the bucket's lifecycle rules are not the only line of defence: an
# S3-compatible server or a volume has none). Folder names are UTC timestamps
# (see timestamp), so they compare as strings; anything else is left alone.
prune_older_than() {
  local prefix seconds=$2 cutoff scheme base folder folders deleted=0
  prefix=$(normalize_prefix "$1")
  [[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || die "retention must be a positive number of seconds, got '${seconds}'"
  cutoff=$(date -u -d "@$(($(date -u +%s) - seconds))" +%Y%m%dT%H%M%SZ)
  read -r scheme base < <(destination_parts)
  # A command substitution, not a process substitution: a failed listing stops the job.
  folders=$(list_folders "$prefix")
  while IFS= read -r folder; do
    [[ "$folder" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || continue
    [[ "$folder" < "$cutoff" ]] || continue
    case "$scheme" in
      s3) aws_s3 rm --recursive "${base}/${prefix}${folder}/" ;;
      file) rm -rf -- "${base:?}/${prefix}${folder}" ;;
    esac
    deleted=$((deleted + 1))
  done <<<"$folders"
  log "retention: deleted ${deleted} backup(s) under ${prefix} older than ${cutoff}"
}

# list_folders <prefix>: names of the folders directly under <prefix>.
list_folders() {
  local prefix=$1 scheme base line path
  read -r scheme base < <(destination_parts)
  case "$scheme" in
    s3)
      # `aws s3 ls` prints "PRE <name>/" for each common prefix and exits 1,
      # printing nothing, for an absent prefix; any other failure stops the job.
      local out status=0
      out=$(aws_s3 ls "${base}/${prefix}") || status=$?
      if ((status != 0)) && ! [[ $status == 1 && -z "$out" ]]; then die "cannot list ${base}/${prefix} (aws exit ${status})"; fi
      while IFS= read -r line; do
        if [[ "$line" =~ ^[[:space:]]*PRE[[:space:]](.+)/$ ]]; then printf '%s\n' "${BASH_REMATCH[1]}"; fi
      done <<<"$out"
      ;;
    file)
      shopt -s nullglob
      for path in "${base}/${prefix}"*/; do path=${path%/}; printf '%s\n' "${path##*/}"; done
      ;;
  esac
}

# timestamp: the backup's folder name, sortable and unique per second.
timestamp() {
  date -u +%Y%m%dT%H%M%SZ
}

# normalize_prefix <prefix>: no leading slash, exactly one trailing slash.
normalize_prefix() {
  local p=${1#/}
  p=${p%/}
  if [[ -n "$p" ]]; then printf '%s/' "$p"; fi
}

