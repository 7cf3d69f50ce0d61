#!/bin/bash
# The nightly backup of one database (CronJob <svc>-mongo-backup): a logical
# dump of the database <svc> by the read-only user backup, gzipped into one
# archive file on the volume <svc>-mongo-backup, keeping the newest $KEEP.
# Restore: infra/README.md, "Restore a backup" (mongorestore with the same
# --gzip --archive flags). kit/mongokit's TestBackupRestore runs the dump and
# restore lines of this file (the DUMP and RESTORE flags below) when the tools
# are installed.
set -euo pipefail
: "${SVC:?}" "${BACKUP_PASSWORD:?}" "${KEEP:=7}"
hosts="$SVC-mongo-0.$SVC-mongo-hl:27017,$SVC-mongo-1.$SVC-mongo-hl:27017,$SVC-mongo-2.$SVC-mongo-hl:27017"
# The password goes in a config file, not on the command line (ps shows that).
umask 077
printf 'password: "%s"\n' "$BACKUP_PASSWORD" > /tmp/dump.yaml
out="/backup/$SVC-$(date -u +%Y%m%dT%H%M%SZ).archive.gz"
# A secondary when there is one: the dump does not load the primary.
uri="mongodb://backup@$hosts/?replicaSet=rs0&authSource=admin&readPreference=secondaryPreferred"
# DUMP: mongodump --uri=<uri> --config=<file> --db=<svc> --gzip --archive=<file>
mongodump --uri="$uri" --config=/tmp/dump.yaml --db="$SVC" --gzip --archive="$out.part"
mv "$out.part" "$out"
echo "backup written: $out ($(stat -c %s "$out") bytes)"
# Keep the newest $KEEP archives of this database.
ls -1t /backup/"$SVC"-*.archive.gz | tail -n +$((KEEP + 1)) | xargs -r rm -v --
