#!/bin/bash
# Restores one database from its backup volume (CronJob <svc>-mongo-restore,
# suspended: run it with `kubectl create job --from=cronjob/<svc>-mongo-restore`).
# Restores $BACKUP_NAME (a backup's directory on the volume, <svc>-<UTC
# time>) or, when empty, the newest. --drop replaces each collection of the
# backup by its contents: everything written since that backup is gone. As
# the administrator root (restore needs more than the backup user's
# read-only role). kit/mongokit's TestBackupRestore runs the RESTORE line of
# this file, with its flags, against a real server.
set -euo pipefail
shopt -s nullglob
: "${SVC:?}" "${ROOT_PASSWORD:?}"
# The backup volume and a private scratch directory (the pod's memory-backed
# /tmp); kit/mongokit's tests point them elsewhere.
backup="${BACKUP_DIR:-/backup}" tmp="${TMPDIR:-/tmp}"
hosts="$SVC-mongo-0.$SVC-mongo-hl:27017,$SVC-mongo-1.$SVC-mongo-hl:27017,$SVC-mongo-2.$SVC-mongo-hl:27017"
name="${BACKUP_NAME:-}"
if [ -z "$name" ]; then
  # The newest finished backup by the UTC time in its name (an unfinished
  # <name>.part never matches *Z).
  finished=("$backup/$SVC"-*Z)
  if [ ${#finished[@]} -gt 0 ]; then
    name="$(basename "$(printf '%s\n' "${finished[@]}" | LC_ALL=C sort | tail -n 1)")"
  fi
fi
[ -n "$name" ] && [ -d "$backup/$name/$SVC" ] || { echo "no backup ${BACKUP_NAME:-of $SVC} on the backup volume" >&2; ls -l "$backup" >&2; exit 1; }
umask 077
printf '%s' "$ROOT_PASSWORD" > "$tmp/password"
uri="mongodb://root@$hosts/?replicaSet=rs0&authSource=admin"
echo "restoring $name into $SVC"
# RESTORE: drops each collection of the backup, inserts its documents, creates its indexes.
mongobackup restore --uri="$uri" --password-file="$tmp/password" --dir="$backup/$name" --db="$SVC" --drop
echo "restored $name"
