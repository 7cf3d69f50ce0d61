package mongokit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/mongobackup"
	"github.com/ticketing-go/ticketing/kit/mongokit"
)

// The scripts the production backup and restore CronJobs run.
var (
	backupScript  = filepath.Join("..", "..", "infra", "k8s", "components", "production", "mongo-backup.sh")
	restoreScript = filepath.Join("..", "..", "infra", "k8s", "components", "production", "mongo-restore.sh")
)

// scriptRun is the command line of a CronJob script that runs cmd
// ("mongobackup dump"), as the script has it: this test runs exactly those
// arguments, so it fails when a script changes what it runs and the test
// does not follow.
type scriptRun struct {
	script string
	args   []string // after cmd, with the script's quotes removed
}

func scriptCommand(t *testing.T, script, cmd string) scriptRun {
	t.Helper()
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(cmd)+` (.*)$`).FindAllStringSubmatch(string(data), -1)
	if len(lines) != 1 {
		t.Fatalf("%s runs %q %d times, want once", script, cmd, len(lines))
	}
	var args []string
	for _, f := range strings.Fields(lines[0][1]) {
		args = append(args, strings.ReplaceAll(f, `"`, ""))
	}
	return scriptRun{script: script, args: args}
}

// flags lists the flag names of the command line, sorted.
func (r scriptRun) flags() []string {
	var out []string
	for _, a := range r.args {
		name, _, _ := strings.Cut(a, "=")
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// expand substitutes the script's shell variables by vars; every one must
// be given.
func (r scriptRun) expand(t *testing.T, vars map[string]string) []string {
	t.Helper()
	var out []string
	for _, a := range r.args {
		out = append(out, os.Expand(a, func(v string) string {
			val, ok := vars[v]
			if !ok {
				t.Fatalf("%s: the test has no value for $%s (in %s)", r.script, v, a)
			}
			return val
		}))
	}
	return out
}

// backupCase is a source server with a service's database in it, and the
// paths the scripts use, moved into temporary directories.
type backupCase struct {
	src, dst  *mongokit.Server
	srcDB     *mongo.Database
	dstDB     *mongo.Database
	ids       map[string][]bson.ObjectID // collection -> ids
	backupDir string                     // the scripts' $backup (the volume)
	tmpDir    string                     // their $tmp (the password file)
	dump      scriptRun
	restore   scriptRun
}

const (
	backupDB   = "tickets"
	backupName = "tickets-20261202T021000Z" // what mongo-backup.sh names $out
)

// newBackupCase fills the source: two collections of documents of every
// BSON type the services store, their indexes (a compound unique and a
// plain one), and an empty collection with an index.
func newBackupCase(ctx context.Context, t *testing.T) *backupCase {
	t.Helper()
	c := &backupCase{src: start(t), dst: start(t), ids: map[string][]bson.ObjectID{},
		backupDir: t.TempDir(), tmpDir: t.TempDir(),
		dump:    scriptCommand(t, backupScript, "mongobackup dump"),
		restore: scriptCommand(t, restoreScript, "mongobackup restore"),
	}
	// The kit's servers have no users, so the URI names none and the
	// password file is not read; the scripts write it all the same.
	if err := os.WriteFile(filepath.Join(c.tmpDir, "password"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.srcDB = connect(t, c.src.URI()).Database(backupDB)
	c.dstDB = connect(t, c.dst.URI()).Database(backupDB)
	at := time.Date(2026, 12, 2, 2, 10, 0, 0, time.UTC)
	for i := range 300 {
		coll := "tickets"
		if i%3 == 0 {
			coll = "outbox"
		}
		id := bson.NewObjectID()
		c.ids[coll] = append(c.ids[coll], id)
		doc := bson.D{
			{Key: "_id", Value: id},
			{Key: "title", Value: fmt.Sprintf("concert %d", i)},
			{Key: "price", Value: int64(1000 + i)},
			{Key: "ratio", Value: float64(i) / 7},
			{Key: "version", Value: int32(i % 5)},
			{Key: "userId", Value: fmt.Sprintf("user-%d", i%17)},
			{Key: "reserved", Value: i%2 == 0},
			{Key: "orderId", Value: nil},
			{Key: "createdAt", Value: bson.NewDateTimeFromTime(at.Add(time.Duration(i) * time.Second))},
			{Key: "tags", Value: bson.A{"a", int32(i), bson.D{{Key: "k", Value: "v"}}}},
			{Key: "events", Value: bson.D{{Key: "topic", Value: "ticket:created"}, {Key: "data", Value: bson.D{{Key: "n", Value: int32(i)}}}}},
		}
		if _, err := c.srcDB.Collection(coll).InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	indexes := map[string]mongo.IndexModel{
		"tickets": {Keys: bson.D{{Key: "userId", Value: 1}, {Key: "title", Value: 1}}, Options: options.Index().SetName("user_title").SetUnique(true)},
		"outbox":  {Keys: bson.D{{Key: "createdAt", Value: -1}}, Options: options.Index().SetName("created_desc")},
		"leases":  {Keys: bson.D{{Key: "holder", Value: 1}}, Options: options.Index().SetName("holder")},
	}
	for coll, ix := range indexes {
		if _, err := c.srcDB.Collection(coll).Indexes().CreateOne(ctx, ix); err != nil {
			t.Fatalf("create index on %s: %v", coll, err)
		}
	}
	return c
}

// runDump runs the DUMP line of mongo-backup.sh against the source.
func (c *backupCase) runDump(ctx context.Context, t *testing.T, log *bytes.Buffer) error {
	t.Helper()
	args := c.dump.expand(t, map[string]string{"uri": c.src.URI(), "SVC": backupDB, "tmp": c.tmpDir, "out": filepath.Join(c.backupDir, backupName)})
	return mongobackup.Run(ctx, append([]string{"dump"}, args...), log)
}

// dumpedCase is a backupCase whose source was dumped (runDump), with the
// dump's log.
func dumpedCase(t *testing.T) (context.Context, *backupCase, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	c := newBackupCase(ctx, t)
	var log bytes.Buffer
	if err := c.runDump(ctx, t, &log); err != nil {
		t.Fatalf("dump: %v\n%s", err, &log)
	}
	return ctx, c, &log
}

// runRestore runs the RESTORE line of mongo-restore.sh into the fresh server.
func (c *backupCase) runRestore(ctx context.Context, t *testing.T, log *bytes.Buffer) error {
	t.Helper()
	args := c.restore.expand(t, map[string]string{"uri": c.dst.URI(), "SVC": backupDB, "tmp": c.tmpDir, "backup": c.backupDir, "name": backupName})
	return mongobackup.Run(ctx, append([]string{"restore"}, args...), log)
}

// TestBackupRestore dumps a database with the production backup's command
// line (mongo-backup.sh), restores it into a fresh server with the restore
// CronJob's (mongo-restore.sh), and finds every document, equal to the
// original, and every index.
func TestBackupRestore(t *testing.T) {
	// --uri and --password-file say where and as whom; --db which database;
	// the restore reads the directory the dump wrote and replaces each
	// collection (--drop).
	dump, restore := scriptCommand(t, backupScript, "mongobackup dump"), scriptCommand(t, restoreScript, "mongobackup restore")
	if got, want := dump.flags(), []string{"--db", "--out", "--password-file", "--uri"}; !slices.Equal(got, want) {
		t.Fatalf("%s dumps with %v; this test expects %v", backupScript, got, want)
	}
	if got, want := restore.flags(), []string{"--db", "--dir", "--drop", "--password-file", "--uri"}; !slices.Equal(got, want) {
		t.Fatalf("%s restores with %v; this test expects %v", restoreScript, got, want)
	}
	ctx, c, log := dumpedCase(t)
	out := filepath.Join(c.backupDir, backupName)
	// mongodump's gzipped layout, so a stock mongorestore --gzip --dir reads it.
	for _, f := range []string{"tickets.bson.gz", "tickets.metadata.json.gz", "outbox.bson.gz", "outbox.metadata.json.gz", "leases.bson.gz", "leases.metadata.json.gz"} {
		if _, err := os.Stat(filepath.Join(out, backupDB, f)); err != nil {
			t.Errorf("dump: %v\n%s", err, log)
		}
	}
	if _, err := os.Stat(out + ".part"); !os.IsNotExist(err) {
		t.Errorf("%s.part still there after a finished dump (%v)", out, err)
	}
	for _, line := range []string{
		"dumped tickets.leases: 0 documents, 2 indexes\n",
		"dumped tickets.outbox: 100 documents, 2 indexes\n",
		"dumped tickets.tickets: 200 documents, 2 indexes\n",
	} {
		if !strings.Contains(log.String(), line) {
			t.Errorf("the dump's log has no line %q:\n%s", line, log)
		}
	}

	log.Reset()
	if err := c.runRestore(ctx, t, log); err != nil {
		t.Fatalf("restore: %v\n%s", err, log)
	}
	if !strings.Contains(log.String(), "restored tickets.tickets: 200 documents, 1 indexes\n") {
		t.Errorf("the restore's log has no line for tickets.tickets:\n%s", log)
	}
	c.requireSame(ctx, t)
}

// requireSame: every document of the source is in the destination, byte
// for byte, found by _id; the destination has no others; each collection
// has the source's indexes.
func (c *backupCase) requireSame(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, coll := range []string{"tickets", "outbox", "leases"} {
		missing := 0
		for _, id := range c.ids[coll] {
			want, err := c.srcDB.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.dstDB.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
			if err != nil {
				missing++
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s restored as %s, was %s", coll, id.Hex(), got, want)
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d documents not restored", coll, missing, len(c.ids[coll]))
		}
		if n, err := c.dstDB.Collection(coll).CountDocuments(ctx, bson.D{}); err != nil || n != int64(len(c.ids[coll])) {
			t.Errorf("%s: %d documents after the restore (%v), want %d", coll, n, err, len(c.ids[coll]))
		}
		if got, want := indexSpecs(ctx, t, c.dstDB.Collection(coll)), indexSpecs(ctx, t, c.srcDB.Collection(coll)); !slices.Equal(got, want) {
			t.Errorf("%s: indexes %v after the restore, want %v", coll, got, want)
		}
	}
}

// indexSpecs lists a collection's indexes as "name key unique", sorted.
func indexSpecs(ctx context.Context, t *testing.T, coll *mongo.Collection) []string {
	t.Helper()
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var specs []struct {
		Name   string `bson:"name"`
		Key    bson.D `bson:"key"`
		Unique bool   `bson:"unique"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range specs {
		out = append(out, fmt.Sprintf("%s %v unique=%v", s.Name, s.Key, s.Unique))
	}
	slices.Sort(out)
	return out
}

// TestRestoreDropReplacesStale: restoring over a database that moved on
// since the backup (the restore's --drop) leaves exactly the backup: a
// document changed since is the backup's again, one written since is gone.
func TestRestoreDropReplacesStale(t *testing.T) {
	ctx, c, log := dumpedCase(t)
	tickets := c.dstDB.Collection("tickets")
	stale := c.ids["tickets"][0]
	if _, err := tickets.InsertOne(ctx, bson.D{{Key: "_id", Value: stale}, {Key: "title", Value: "changed since the backup"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tickets.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "title", Value: "written since the backup"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.runRestore(ctx, t, log); err != nil {
		t.Fatalf("restore: %v\n%s", err, log)
	}
	c.requireSame(ctx, t)
}

// cancelOnWrite cancels a context at the first log line containing match.
type cancelOnWrite struct {
	mu     sync.Mutex
	match  string
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Contains(p, []byte(w.match)) {
		w.cancel()
	}
	return w.buf.Write(p)
}

// TestInterruptedDumpLeavesOnlyPart: a dump stopped half-way (the Job's
// deadline, a deleted pod) leaves <out>.part and no <out>, so neither the
// retention nor the restore takes it for a backup; the next dump starts
// over.
func TestInterruptedDumpLeavesOnlyPart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newBackupCase(ctx, t)
	out := filepath.Join(c.backupDir, backupName)
	args := append([]string{"dump"}, c.dump.expand(t, map[string]string{"uri": c.src.URI(), "SVC": backupDB, "tmp": c.tmpDir, "out": out})...)

	// Stopped once the first of three collections is on disk.
	dumpCtx, stop := context.WithCancel(ctx)
	defer stop()
	w := &cancelOnWrite{match: "dumped ", cancel: stop}
	err := mongobackup.Run(dumpCtx, args, w)
	if err == nil {
		t.Fatalf("the interrupted dump succeeded:\n%s", &w.buf)
	}
	if code := mongobackup.ExitCode(err); code != mongobackup.ExitError {
		t.Errorf("exit code %d, want %d (%v)", code, mongobackup.ExitError, err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("an interrupted dump left %s (%v)", out, err)
	}
	if _, err := os.Stat(filepath.Join(out+".part", backupDB)); err != nil {
		t.Fatalf("an interrupted dump left no %s.part: %v", out, err)
	}
	var log bytes.Buffer
	if err := c.runRestore(ctx, t, &log); err == nil {
		t.Errorf("a restore found a backup after an interrupted dump:\n%s", &log)
	}

	log.Reset()
	if err := mongobackup.Run(ctx, args, &log); err != nil {
		t.Fatalf("the next dump: %v\n%s", err, &log)
	}
	if _, err := os.Stat(out + ".part"); !os.IsNotExist(err) {
		t.Errorf("the next dump left %s.part (%v)", out, err)
	}
}

// TestBackupScripts runs the CronJobs' scripts themselves with bash and the
// tool built from source: a backup keeps the newest $KEEP by the time in
// their names (old mongodump archives included) and clears a .part, and a
// restore without BACKUP_NAME restores the newest finished backup, all of
// it. Only the cluster's addresses are replaced (by a wrapper on PATH that
// swaps --uri for a kit server's and records the script's own).
func TestBackupScripts(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "mongobackup-built"), "github.com/ticketing-go/ticketing/common/cmd/mongobackup")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build mongobackup: %v\n%s", err, out)
	}
	wrapper := `#!/bin/bash
args=()
for a in "$@"; do
  case $a in
    --uri=*) echo "${a#--uri=}" >> "$SCRIPT_URIS"; args+=("--uri=$TEST_URI") ;;
    *) args+=("$a") ;;
  esac
done
exec "$(dirname "$0")/mongobackup-built" "${args[@]}"
`
	if err := os.WriteFile(filepath.Join(bin, "mongobackup"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	c := newBackupCase(ctx, t)
	uris := filepath.Join(t.TempDir(), "uris")
	script := func(path, uri string, env ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bash, path)
		cmd.Env = append(os.Environ(), append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "SVC=" + backupDB,
			"BACKUP_DIR=" + c.backupDir, "TMPDIR=" + c.tmpDir, "TEST_URI=" + uri, "SCRIPT_URIS=" + uris}, env...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// Older backups: two archives of the mongodump days, three directories
	// (one with a newer mtime than its name), and a dump that never finished.
	for _, name := range []string{"tickets-20000101T021000Z.archive.gz", "tickets-20000102T021000Z.archive.gz"} {
		if err := os.WriteFile(filepath.Join(c.backupDir, name), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"tickets-20000103T021000Z", "tickets-20000104T021000Z", "tickets-20000105T021000Z", "tickets-20991231T021000Z.part"} {
		if err := os.MkdirAll(filepath.Join(c.backupDir, name, backupDB), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(c.backupDir, "tickets-20000103T021000Z"), time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	out, err := script(backupScript, c.src.URI(), "BACKUP_PASSWORD=s3cret", "KEEP=3")
	if err != nil {
		t.Fatalf("%s: %v\n%s", backupScript, err, out)
	}
	entries, err := os.ReadDir(c.backupDir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) != 3 || left[0] != "tickets-20000104T021000Z" || left[1] != "tickets-20000105T021000Z" || !regexp.MustCompile(`^tickets-\d{8}T\d{6}Z$`).MatchString(left[2]) {
		t.Errorf("after a backup with KEEP=3 the volume holds %v, want the two newest old backups and the new one\n%s", left, out)
	}
	if pw, err := os.ReadFile(filepath.Join(c.tmpDir, "password")); err != nil || string(pw) != "s3cret" {
		t.Errorf("password file %q (%v)", pw, err)
	}

	out, err = script(restoreScript, c.dst.URI(), "ROOT_PASSWORD=r00t", "BACKUP_NAME=")
	if err != nil {
		t.Fatalf("%s: %v\n%s", restoreScript, err, out)
	}
	if !strings.Contains(out, "restoring "+left[len(left)-1]+" into tickets") {
		t.Errorf("the restore did not choose the newest backup %s:\n%s", left[len(left)-1], out)
	}
	c.requireSame(ctx, t)

	out, err = script(restoreScript, c.dst.URI(), "ROOT_PASSWORD=r00t", "BACKUP_NAME=tickets-20991231T021000Z")
	if err == nil || !strings.Contains(out, "no backup tickets-20991231T021000Z on the backup volume") {
		t.Errorf("a restore of a missing backup: %v\n%s", err, out)
	}

	// The addresses the scripts would use: the dump reads a secondary as
	// the backup user, the restore writes as root.
	got, err := os.ReadFile(uris)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "mongodb://backup@") || !strings.Contains(lines[0], "readPreference=secondaryPreferred") ||
		!strings.HasPrefix(lines[1], "mongodb://root@") {
		t.Errorf("the scripts connect to %q", lines)
	}
}

func start(t *testing.T) *mongokit.Server {
	t.Helper()
	s, err := mongokit.Start(mongokit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}
