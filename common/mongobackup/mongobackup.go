// Package mongobackup dumps a MongoDB database to a directory and restores
// it: the nightly backup CronJobs' tool (common/cmd/mongobackup), and what
// kit/mongokit's backup test runs with the CronJobs' own flags.
//
// A dump is mongodump's directory layout with --gzip, so a stock
// `mongorestore --gzip --dir=<dump>` reads it too:
//
//	<out>/<db>/<collection>.bson.gz           the documents, concatenated BSON
//	<out>/<db>/<collection>.metadata.json.gz  options and indexes (extended JSON)
//
// It is written to <out>.part and renamed to <out> only when every
// collection is on disk, so a half-written backup never looks complete.
//
// It exists because mongodump and mongorestore (github.com/mongodb/mongo-tools)
// cannot be built here, so a backup made with them could never be tested.
package mongobackup

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// Exit codes of the command.
const (
	ExitOK    = 0
	ExitError = 1 // the dump or restore failed; nothing was renamed complete
	ExitUsage = 2 // bad command line; nothing was touched
)

// UsageError is a bad command line.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &UsageError{fmt.Sprintf(format, args...)} }

// ExitCode maps Run's error to the command's exit status.
func ExitCode(err error) int {
	var u *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &u):
		return ExitUsage
	default:
		return ExitError
	}
}

const usage = `usage:
  mongobackup dump    --uri=URI [--password-file=FILE] --db=DB --out=DIR
  mongobackup restore --uri=URI [--password-file=FILE] --dir=DIR [--db=DB] [--drop]

dump writes DIR.part/DB/<coll>.bson.gz and <coll>.metadata.json.gz, then
renames DIR.part to DIR. restore reads DIR/<db>/ (every database in DIR, or
only --db), and with --drop replaces each collection by the dump's.
The password is read from FILE (never the command line) for the URI's user.
`

// Run runs the command line args (without the program name): "dump ..." or
// "restore ...". Log lines, one per collection, go to logw.
func Run(ctx context.Context, args []string, logw io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", usage)
	}
	fs := flag.NewFlagSet("mongobackup "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	uri := fs.String("uri", "", "MongoDB connection string (readPreference=secondaryPreferred for a dump)")
	pwFile := fs.String("password-file", "", "file holding the password of the URI's user")
	db := fs.String("db", "", "database")
	var out, dir *string
	var drop *bool
	switch args[0] {
	case "dump":
		out = fs.String("out", "", "directory to create (written as DIR.part, then renamed)")
	case "restore":
		dir = fs.String("dir", "", "a dump directory")
		drop = fs.Bool("drop", false, "drop each collection before restoring it")
	default:
		return usagef("unknown command %q\n%s", args[0], usage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usagef("%v\n%s", err, usage)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q\n%s", fs.Args(), usage)
	}
	if *uri == "" {
		return usagef("--uri is required\n%s", usage)
	}
	switch {
	case out != nil && (*db == "" || *out == ""):
		return usagef("dump needs --db and --out\n%s", usage)
	case dir != nil && *dir == "":
		return usagef("restore needs --dir\n%s", usage)
	}
	client, err := connect(*uri, *pwFile)
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.WithoutCancel(ctx)) }()
	if out != nil {
		return Dump(ctx, client, *db, *out, logw)
	}
	return Restore(ctx, client, *dir, *db, *drop, logw)
}

// connect builds a client for uri; the password of the URI's user comes
// from pwFile, so it never appears in argv (ps, /proc/*/cmdline).
func connect(uri, pwFile string) (*mongo.Client, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, usagef("--uri: %v", err)
	}
	if cs.PasswordSet {
		return nil, usagef("--uri carries a password; put it in --password-file")
	}
	opts := options.Client().ApplyURI(uri)
	if cs.Username != "" {
		if pwFile == "" {
			return nil, usagef("--uri names user %q: --password-file is required", cs.Username)
		}
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			return nil, fmt.Errorf("password file: %w", err)
		}
		opts.Auth.Password = strings.TrimRight(string(pw), "\r\n")
		opts.Auth.PasswordSet = true
	}
	return mongo.Connect(opts)
}

// Dump writes database db to out (via out.part, see the package comment).
func Dump(ctx context.Context, client *mongo.Client, db, out string, logw io.Writer) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists: a dump never overwrites one", out)
	}
	part := out + ".part"
	// A .part is a dump that did not finish (killed, or failed): never
	// anything to keep.
	if err := os.RemoveAll(part); err != nil {
		return err
	}
	colls, err := collections(ctx, client.Database(db))
	if err != nil {
		return fmt.Errorf("list collections of %s: %w", db, err)
	}
	if len(colls) == 0 {
		// Every service creates its collections at start: an empty list
		// is a wrong database name, not an empty backup to keep.
		return fmt.Errorf("database %s has no collections", db)
	}
	dbDir := filepath.Join(part, db)
	if err := os.MkdirAll(dbDir, 0o750); err != nil {
		return err
	}
	for _, c := range colls {
		n, idx, err := dumpCollection(ctx, client.Database(db), c, dbDir)
		if err != nil {
			return fmt.Errorf("dump %s.%s: %w", db, c.Name, err)
		}
		fmt.Fprintf(logw, "dumped %s.%s: %d documents, %d indexes\n", db, c.Name, n, idx)
	}
	if err := syncDir(dbDir); err != nil {
		return err
	}
	if err := os.Rename(part, out); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return err
	}
	fmt.Fprintf(logw, "dump complete: %s (%d collections)\n", out, len(colls))
	return nil
}

// collSpec is one listCollections entry.
type collSpec struct {
	Name    string `bson:"name"`
	Type    string `bson:"type"`
	Options bson.D `bson:"options"`
	Info    struct {
		UUID bson.Binary `bson:"uuid"`
	} `bson:"info"`
}

// collections lists db's collections by name, without views (mongodump
// keeps their definitions only, and the services define none) and without
// system collections.
func collections(ctx context.Context, db *mongo.Database) ([]collSpec, error) {
	cur, err := db.ListCollections(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var all []collSpec
	if err := cur.All(ctx, &all); err != nil {
		return nil, err
	}
	var out []collSpec
	for _, c := range all {
		if (c.Type == "" || c.Type == "collection") && !strings.HasPrefix(c.Name, "system.") {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b collSpec) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// metadata is mongodump's <coll>.metadata.json.
type metadata struct {
	Options        bson.D   `bson:"options"`
	Indexes        []bson.D `bson:"indexes"`
	UUID           string   `bson:"uuid,omitempty"`
	CollectionName string   `bson:"collectionName"`
	Type           string   `bson:"type"`
}

// dumpCollection streams one collection into <dir>/<name>.bson.gz, one
// document at a time (a collection is never held in memory), and writes
// its metadata. It returns the number of documents and indexes.
func dumpCollection(ctx context.Context, db *mongo.Database, c collSpec, dir string) (int, int, error) {
	coll := db.Collection(c.Name)
	icur, err := coll.Indexes().List(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("list indexes: %w", err)
	}
	var indexes []bson.D
	if err := icur.All(ctx, &indexes); err != nil {
		return 0, 0, fmt.Errorf("list indexes: %w", err)
	}
	for i, ix := range indexes {
		// "ns" is gone from listIndexes since 4.4; restores derive it.
		indexes[i] = slices.DeleteFunc(ix, func(e bson.E) bool { return e.Key == "ns" })
	}
	meta := metadata{Options: c.Options, Indexes: indexes, CollectionName: c.Name, Type: "collection"}
	if meta.Options == nil {
		meta.Options = bson.D{}
	}
	if len(c.Info.UUID.Data) == 16 {
		meta.UUID = fmt.Sprintf("%x", c.Info.UUID.Data)
	}
	js, err := bson.MarshalExtJSON(meta, true, false)
	if err != nil {
		return 0, 0, err
	}
	if err := writeGzip(filepath.Join(dir, c.Name+".metadata.json.gz"), func(w io.Writer) error {
		_, err := w.Write(js)
		return err
	}); err != nil {
		return 0, 0, err
	}
	n := 0
	err = writeGzip(filepath.Join(dir, c.Name+".bson.gz"), func(w io.Writer) error {
		// Natural order, like mongodump; the URI's read preference picks
		// the member (a secondary, so the dump does not load the primary).
		cur, err := coll.Find(ctx, bson.D{})
		if err != nil {
			return err
		}
		defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
		for cur.Next(ctx) {
			if _, err := w.Write(cur.Current); err != nil {
				return err
			}
			n++
		}
		return cur.Err()
	})
	return n, len(indexes), err
}

// writeGzip creates path, lets fill write the uncompressed content, and
// syncs the file: a renamed dump is on disk, not in the page cache.
func writeGzip(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	zw := gzip.NewWriter(bw)
	if err := fill(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Batches of restored documents: a few MB per insert, well under the
// server's 48 MB message limit.
const (
	batchDocs  = 1000
	batchBytes = 8 << 20
	// maxDocSize is the server's 16 MiB document limit plus room for the
	// few bytes mongodump allows over it.
	maxDocSize = 16<<20 + 16<<10
)

// Restore restores every database directory in dir (only db's when db is
// not empty): per collection, drop it (when drop), create it with its
// options, insert its documents in batches, and create its indexes.
func Restore(ctx context.Context, client *mongo.Client, dir, db string, drop bool, logw io.Writer) error {
	if strings.HasSuffix(filepath.Clean(dir), ".part") {
		return fmt.Errorf("%s is an unfinished dump", dir)
	}
	dbs := []string{db}
	if db == "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		dbs = nil
		for _, e := range entries {
			if e.IsDir() {
				dbs = append(dbs, e.Name())
			}
		}
	}
	total := 0
	for _, name := range dbs {
		matches, err := filepath.Glob(filepath.Join(dir, name, "*.bson.gz"))
		if err != nil {
			return err
		}
		if len(matches) == 0 {
			return fmt.Errorf("%s: no collections of %s (<coll>.bson.gz)", dir, name)
		}
		slices.Sort(matches)
		for _, path := range matches {
			coll := strings.TrimSuffix(filepath.Base(path), ".bson.gz")
			n, idx, err := restoreCollection(ctx, client.Database(name), filepath.Dir(path), coll, drop)
			if err != nil {
				return fmt.Errorf("restore %s.%s: %w", name, coll, err)
			}
			fmt.Fprintf(logw, "restored %s.%s: %d documents, %d indexes\n", name, coll, n, idx)
			total++
		}
	}
	fmt.Fprintf(logw, "restore complete: %s (%d collections)\n", dir, total)
	return nil
}

func restoreCollection(ctx context.Context, db *mongo.Database, dir, name string, drop bool) (int, int, error) {
	var meta metadata
	if js, err := readGzip(filepath.Join(dir, name+".metadata.json.gz")); err == nil {
		if err := bson.UnmarshalExtJSON(js, false, &meta); err != nil {
			return 0, 0, fmt.Errorf("metadata: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("metadata: %w", err)
	}
	coll := db.Collection(name)
	if drop {
		if err := coll.Drop(ctx); err != nil {
			return 0, 0, fmt.Errorf("drop: %w", err)
		}
	}
	if len(meta.Options) > 0 {
		cmd := append(bson.D{{Key: "create", Value: name}}, meta.Options...)
		err := db.RunCommand(ctx, cmd).Err()
		var ce mongo.CommandError
		if err != nil && !(errors.As(err, &ce) && ce.Code == 48) { // 48: NamespaceExists
			return 0, 0, fmt.Errorf("create with options: %w", err)
		}
	}
	n, err := insertAll(ctx, coll, filepath.Join(dir, name+".bson.gz"))
	if err != nil {
		return n, 0, err
	}
	var specs bson.A
	for _, ix := range meta.Indexes {
		spec := slices.DeleteFunc(slices.Clone(ix), func(e bson.E) bool { return e.Key == "ns" || e.Key == "v" })
		if nameOf(spec) == "_id_" { // every collection has it
			continue
		}
		specs = append(specs, spec)
	}
	if len(specs) > 0 {
		if err := db.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: name}, {Key: "indexes", Value: specs}}).Err(); err != nil {
			return n, 0, fmt.Errorf("create indexes: %w", err)
		}
	}
	return n, len(specs), nil
}

func nameOf(spec bson.D) string {
	for _, e := range spec {
		if e.Key == "name" {
			s, _ := e.Value.(string)
			return s
		}
	}
	return ""
}

// insertAll streams path's documents into coll in batches.
func insertAll(ctx context.Context, coll *mongo.Collection, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(zr, 256<<10)
	n := 0
	var batch []any
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := coll.InsertMany(ctx, batch); err != nil {
			return fmt.Errorf("insert after %d documents: %w", n, err)
		}
		n += len(batch)
		batch, size = batch[:0], 0
		return nil
	}
	for {
		doc, err := readDocument(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("document %d: %w", n+len(batch)+1, err)
		}
		batch = append(batch, doc)
		size += len(doc)
		if len(batch) >= batchDocs || size >= batchBytes {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// readDocument reads one BSON document: io.EOF at a clean end,
// io.ErrUnexpectedEOF for a truncated file.
func readDocument(r io.Reader) (bson.Raw, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(head[:])
	if size < 5 || size > maxDocSize {
		return nil, fmt.Errorf("invalid document length %d", size)
	}
	doc := make([]byte, size)
	copy(doc, head[:])
	if _, err := io.ReadFull(r, doc[4:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	raw := bson.Raw(doc)
	if err := raw.Validate(); err != nil {
		return nil, err
	}
	return raw, nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
