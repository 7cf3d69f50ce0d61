#!/bin/bash
# The rs-init container of every <svc>-mongo pod (components/production).
#
# With a keyFile, mongod requires authentication, and the first user can only
# be created over localhost (MongoDB's localhost exception): this is why the
# initiation runs beside mongod in its pod rather than in a Job. On member 0
# it initiates the replica set once, creates the administrator `root` once,
# then (every start, idempotently, on the primary) the service's user and the
# backup user with the least roles they need:
#   <svc>   readWrite on the database <svc> (the service: reads, writes, indexes)
#   backup  backup on admin (mongodump of the nightly CronJob, read-only)
# Passwords come from the Secret <svc>-mongo-auth mounted at /auth. Other
# members only wait. Then it sleeps: a container that exits would restart.
set -euo pipefail
svc=${HOSTNAME%-mongo-*}
ordinal=${HOSTNAME##*-}
if [ "$ordinal" != 0 ]; then
  exec sleep infinity
fi
until mongosh --quiet --eval 'db.adminCommand("ping").ok' >/dev/null 2>&1; do sleep 2; done
export SVC=$svc
mongosh --quiet --eval '
const fs = require("fs");
const secret = (k) => fs.readFileSync("/auth/" + k, "utf8").trim();
const svc = process.env.SVC;
const hosts = [0, 1, 2].map((i) => `${svc}-mongo-${i}.${svc}-mongo-hl:27017`);
const admin = db.getSiblingDB("admin");
let haveRoot = true;
try { admin.auth("root", secret("root-password")); }
catch (e) { haveRoot = false; } // no user yet: the localhost exception applies
if (!haveRoot) {
  try { rs.status(); }
  catch (e) {
    if (e.codeName !== "NotYetInitialized") { throw e; }
    // Member 0 is preferred as primary so the first user can be created here.
    rs.initiate({_id: "rs0", members: hosts.map((host, i) => ({_id: i, host, priority: i === 0 ? 2 : 1}))});
    print("replica set initiated");
  }
  while (!db.hello().isWritablePrimary) { sleep(1000); }
  admin.createUser({user: "root", pwd: secret("root-password"), roles: ["root"]});
  print("administrator created");
}
const rsConn = new Mongo(`mongodb://root:${encodeURIComponent(secret("root-password"))}@${hosts.join(",")}/admin?replicaSet=rs0`);
const upsert = (dbName, user, pwd, roles) => {
  const d = rsConn.getDB(dbName);
  if (d.getUser(user)) { d.updateUser(user, {pwd, roles}); } else { d.createUser({user, pwd, roles}); }
  print(`user ${user} on ${dbName}: ${JSON.stringify(roles)}`);
};
upsert(svc, svc, secret("app-password"), [{role: "readWrite", db: svc}]);
upsert("admin", "backup", secret("backup-password"), ["backup"]);
'
exec sleep infinity
