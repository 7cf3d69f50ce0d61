#!/bin/bash
# Restores one database from its backup volume (CronJob <svc>-mongo-restore,
# suspended: run it with `kubectl create job --from=cronjob/<svc>-mongo-restore`).
# Restores $ARCHIVE (a file name on the volume) or, when empty, the newest
# archive. --drop replaces each collection of the archive by its contents:
# everything written since that backup is gone. As the administrator root
# (restore needs more than the backup user's read-only role).
set -euo pipefail
: "${SVC:?}" "${ROOT_PASSWORD:?}"
hosts="$SVC-mongo-0.$SVC-mongo-hl:27017,$SVC-mongo-1.$SVC-mongo-hl:27017,$SVC-mongo-2.$SVC-mongo-hl:27017"
file="${ARCHIVE:-$(ls -1t /backup/"$SVC"-*.archive.gz | head -n 1 | xargs -r basename)}"
[ -n "$file" ] && [ -f "/backup/$file" ] || { echo "no archive ${ARCHIVE:-of $SVC} on the backup volume" >&2; ls -l /backup >&2; exit 1; }
umask 077
printf 'password: "%s"\n' "$ROOT_PASSWORD" > /tmp/restore.yaml
uri="mongodb://root@$hosts/?replicaSet=rs0&authSource=admin"
echo "restoring $file into $SVC"
# RESTORE: mongorestore --uri=<uri> --config=<file> --gzip --archive=<file> --nsInclude=<svc>.* --drop
mongorestore --uri="$uri" --config=/tmp/restore.yaml --gzip --archive="/backup/$file" --nsInclude="$SVC.*" --drop
echo "restored $file"
