package mongokit_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/kit/mongokit"
)

// The scripts the production backup and restore CronJobs run.
var (
	backupScript  = filepath.Join("..", "..", "infra", "k8s", "components", "production", "mongo-backup.sh")
	restoreScript = filepath.Join("..", "..", "infra", "k8s", "components", "production", "mongo-restore.sh")
)

// toolFlags returns the flag names of the script's command line that runs
// tool.
func toolFlags(t *testing.T, script, tool string) []string {
	t.Helper()
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^` + tool + ` (.*)$`).FindStringSubmatch(string(data))
	if line == nil {
		t.Fatalf("%s runs no %s", script, tool)
	}
	flags := regexp.MustCompile(`--[a-zA-Z]+`).FindAllString(line[1], -1)
	slices.Sort(flags)
	return flags
}

// TestBackupRestore dumps a database with mongodump and the production
// backup's flags, restores the archive into a fresh server with mongorestore
// (the restore CronJob's flags), and finds every document. The flags are
// read from the CronJobs' scripts, so the test fails when a script changes
// what it runs and the test does not follow.
//
// mongodump and mongorestore are Go (github.com/mongodb/mongo-tools), but the
// module proxy here refuses that module and Debian carries no package of
// them, so on this machine the dump-and-restore part is skipped unless
// they are on PATH (the mongo image the CronJobs run ships them).
func TestBackupRestore(t *testing.T) {
	// --uri and --config carry the address and the user's password; the
	// others decide what the archive holds and how it is read back. The
	// restore must read what the dump wrote (--gzip --archive), limited to
	// the service's database, replacing its collections.
	if got, want := toolFlags(t, backupScript, "mongodump"), []string{"--archive", "--config", "--db", "--gzip", "--uri"}; !slices.Equal(got, want) {
		t.Fatalf("%s dumps with %v; this test runs %v", backupScript, got, want)
	}
	if got, want := toolFlags(t, restoreScript, "mongorestore"), []string{"--archive", "--config", "--drop", "--gzip", "--nsInclude", "--uri"}; !slices.Equal(got, want) {
		t.Fatalf("%s restores with %v; this test runs %v", restoreScript, got, want)
	}
	dump, errDump := exec.LookPath("mongodump")
	restore, errRestore := exec.LookPath("mongorestore")
	if errDump != nil || errRestore != nil {
		t.Skip("mongodump/mongorestore not on PATH (github.com/mongodb/mongo-tools is not served by the module proxy here); the CronJob's flags were checked")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	src := start(t)
	dst := start(t)
	const db, n = "tickets", 300
	client := connect(ctx, t, src.URI())
	var ids []string
	for i := range n {
		id := bson.NewObjectID()
		ids = append(ids, id.Hex())
		coll := "tickets"
		if i%3 == 0 {
			coll = "outbox"
		}
		if _, err := client.Database(db).Collection(coll).InsertOne(ctx, bson.M{"_id": id, "title": fmt.Sprintf("ticket %d", i), "price": i}); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(t.TempDir(), "tickets.archive.gz")
	// The script's flags; the password file is empty here (no auth in the kit).
	config := filepath.Join(t.TempDir(), "dump.yaml")
	if err := os.WriteFile(config, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	run(ctx, t, dump, "--uri="+src.URI(), "--config="+config, "--db="+db, "--gzip", "--archive="+archive)
	run(ctx, t, restore, "--uri="+dst.URI(), "--config="+config, "--gzip", "--archive="+archive, "--nsInclude="+db+".*", "--drop")

	restored := connect(ctx, t, dst.URI()).Database(db)
	var got []string
	for _, coll := range []string{"tickets", "outbox"} {
		cur, err := restored.Collection(coll).Find(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			got = append(got, d.ID.Hex())
		}
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Fatalf("restored %d of %d documents", len(got), len(ids))
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

func connect(ctx context.Context, t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func run(ctx context.Context, t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}
