package mongobackup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandLine: a bad command line is exit status 2 and says what is
// wrong, before any connection or file is touched; a password never rides
// on the command line.
func TestCommandLine(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage:"},
		{"unknown command", []string{"backup"}, `unknown command "backup"`},
		{"unknown flag", []string{"dump", "--uri=mongodb://h", "--db=x", "--out=" + out, "--gzip"}, "flag provided but not defined: -gzip"},
		{"dump without --out", []string{"dump", "--uri=mongodb://h", "--db=x"}, "dump needs --db and --out"},
		{"dump without --db", []string{"dump", "--uri=mongodb://h", "--out=" + out}, "dump needs --db and --out"},
		{"restore without --dir", []string{"restore", "--uri=mongodb://h"}, "restore needs --dir"},
		{"no --uri", []string{"restore", "--dir=" + out}, "--uri is required"},
		{"password in the URI", []string{"dump", "--uri=mongodb://backup:secret@h/", "--db=x", "--out=" + out}, "put it in --password-file"},
		{"user without a password file", []string{"dump", "--uri=mongodb://backup@h/", "--db=x", "--out=" + out}, "--password-file is required"},
		{"stray argument", []string{"restore", "--uri=mongodb://h", "--dir=" + out, "now"}, "unexpected arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			err := Run(context.Background(), c.args, &log)
			if code := ExitCode(err); code != ExitUsage {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitUsage)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if _, err := os.Stat(out + ".part"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a bad command line created %s.part", out)
			}
		})
	}
}

// TestRestoreRefusesPart: an unfinished dump is never restored.
func TestRestoreRefusesPart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tickets-20261202T021000Z.part")
	err := Run(context.Background(), []string{"restore", "--uri=mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100", "--dir=" + dir}, &bytes.Buffer{})
	if ExitCode(err) != ExitError || err == nil || !strings.Contains(err.Error(), "unfinished dump") {
		t.Fatalf("restore of a .part: %v (exit %d)", err, ExitCode(err))
	}
}

// TestReadDocument: a truncated or corrupt dump is an error, never a
// silently shorter restore.
func TestReadDocument(t *testing.T) {
	doc := []byte{9, 0, 0, 0, 0x08, 'a', 0, 1, 0} // {a: true}
	if got, err := readDocument(bytes.NewReader(doc)); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("a valid document: %v, %v", got, err)
	}
	if _, err := readDocument(bytes.NewReader(nil)); !errors.Is(err, io.EOF) {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
	for name, in := range map[string][]byte{
		"truncated length":   doc[:2],
		"truncated document": doc[:6],
		"absurd length":      {0xff, 0xff, 0xff, 0x7f, 0},
		"not BSON":           {9, 0, 0, 0, 0x42, 'a', 0, 1, 0},
	} {
		if _, err := readDocument(bytes.NewReader(in)); err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%s: %v, want an error other than io.EOF", name, err)
		}
	}
}
