#!/bin/bash
# The nightly backup of one database (CronJob <svc>-mongo-backup): a logical
# dump of the database <svc> by the read-only user backup with mongobackup
# (common/cmd/mongobackup), into the directory <svc>-<UTC time> on the volume
# <svc>-mongo-backup in mongodump's gzipped layout, keeping the newest $KEEP.
# Restore: mongo-restore.sh (infra/README.md, "Restore a backup").
# kit/mongokit's TestBackupRestore runs the DUMP line of this file, with its
# flags, against a real server.
set -euo pipefail
shopt -s nullglob
: "${SVC:?}" "${BACKUP_PASSWORD:?}" "${KEEP:=7}"
hosts="$SVC-mongo-0.$SVC-mongo-hl:27017,$SVC-mongo-1.$SVC-mongo-hl:27017,$SVC-mongo-2.$SVC-mongo-hl:27017"
# The backup volume and a private scratch directory (the pod's memory-backed
# /tmp); kit/mongokit's tests point them elsewhere.
backup="${BACKUP_DIR:-/backup}" tmp="${TMPDIR:-/tmp}"
# The password goes in a file, not on the command line (ps shows that).
umask 077
printf '%s' "$BACKUP_PASSWORD" > "$tmp/password"
# A dump that did not finish (killed, past the Job's deadline) left only a
# .part; no other dump of this database runs (concurrencyPolicy: Forbid).
rm -rf "$backup/$SVC"-*.part
out="$backup/$SVC-$(date -u +%Y%m%dT%H%M%SZ)"
# A secondary when there is one: the dump does not load the primary.
uri="mongodb://backup@$hosts/?replicaSet=rs0&authSource=admin&readPreference=secondaryPreferred"
# DUMP: writes $out.part, renamed to $out once every collection is on disk.
mongobackup dump --uri="$uri" --password-file="$tmp/password" --db="$SVC" --out="$out"
echo "backup written: $out ($(du -sk "$out" | cut -f1) KiB)"
# Keep the newest $KEEP backups of this database (the directories, and the
# mongodump archives older versions of this job wrote), newest by the UTC
# time in their names: a copy brought back from elsewhere has a new mtime.
backups=("$backup/$SVC"-*Z "$backup/$SVC"-*.archive.gz)
mapfile -t old < <(printf '%s\n' "${backups[@]}" | LC_ALL=C sort -r | tail -n +$((KEEP + 1)))
for f in "${old[@]}"; do
  rm -rf -- "$f"
  echo "removed old backup: $f"
done
