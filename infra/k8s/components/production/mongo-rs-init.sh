#!/bin/bash
# The rs-init container of every <svc>-mongo pod (components/production).
#
# With a keyFile, mongod requires authentication, and the first user can only
# be created over localhost, on the primary (MongoDB's localhost exception):
# this is why the initiation runs beside mongod in its pod rather than in a
# Job. Member 0 initiates the replica set once; whichever member is primary
# while no user exists creates the administrator `root`; then member 0 makes
# sure (every start, idempotently, on the primary) of the service's user and
# the backup user with the least roles they need:
#   <svc>   readWrite on the database <svc> (the service: reads, writes, indexes)
#   backup  backup on admin (mongodump of the nightly CronJob, read-only)
# Passwords come from the Secret <svc>-mongo-auth mounted at /auth. Then it
# sleeps: a container that exits would restart.
set -euo pipefail
export SVC=${HOSTNAME%-mongo-*} ORDINAL=${HOSTNAME##*-}
until mongosh --quiet --eval 'db.adminCommand("ping").ok' >/dev/null 2>&1; do sleep 2; done
mongosh --quiet --eval '
const fs = require("fs");
const secret = (k) => fs.readFileSync("/auth/" + k, "utf8").trim();
const svc = process.env.SVC;
const first = process.env.ORDINAL === "0";
const hosts = [0, 1, 2].map((i) => `${svc}-mongo-${i}.${svc}-mongo-hl:27017`);
const admin = db.getSiblingDB("admin");
const haveRoot = () => { try { admin.auth("root", secret("root-password")); return true; } catch (e) { return false; } };
if (first && !haveRoot()) {
  try { rs.status(); }
  catch (e) {
    if (e.codeName !== "NotYetInitialized") { throw e; }
    // Member 0 is preferred as primary, so it usually creates the first user.
    rs.initiate({_id: "rs0", members: hosts.map((host, i) => ({_id: i, host, priority: i === 0 ? 2 : 1}))});
    print("replica set initiated");
  }
}
while (!haveRoot()) {
  if (db.hello().isWritablePrimary) {
    try { admin.createUser({user: "root", pwd: secret("root-password"), roles: ["root"]}); print("administrator created"); }
    catch (e) { if (e.code !== 51003) { throw e; } } // another member was first
  } else {
    sleep(2000);
  }
}
if (!first) { quit(0); }
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
