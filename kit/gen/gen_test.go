package gen_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/gen"
	"github.com/ticketing-go/ticketing/kit/services"
)

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRenderListAndPerService: a template renders once with the table, a
// __service__ template once per service, each under the marker line.
func TestRenderListAndPerService(t *testing.T) {
	root := t.TempDir()
	write(t, root, "k/list.yaml.tmpl", "names:<% range .Services %> <% .Name %><% end %>\nbus:<% range bus .Services %> <% .Name %><% end %>\n")
	write(t, root, "k/__service__/x.yaml.tmpl", "name: <% .Service.Name %>\n")
	if _, err := gen.Write(root); err != nil {
		t.Fatal(err)
	}
	want := "# " + gen.Marker + "k/list.yaml.tmpl. DO NOT EDIT.\nnames: auth tickets orders expiration payments\nbus: tickets orders expiration payments\n"
	if got := read(t, root, "k/list.yaml"); got != want {
		t.Fatalf("list.yaml:\n%s\nwant\n%s", got, want)
	}
	for _, s := range services.All {
		if got := read(t, root, "k/"+s.Name+"/x.yaml"); !strings.HasSuffix(got, "name: "+s.Name+"\n") {
			t.Fatalf("%s/x.yaml: %q", s.Name, got)
		}
	}
	if problems, err := gen.Check(root); err != nil || len(problems) > 0 {
		t.Fatalf("fresh output: %v %v", problems, err)
	}
}

// TestCheckFindsEditedMissingAndStale: a hand edit of the output, a
// deleted output, and a service's file left after it left the table.
func TestCheckFindsEditedMissingAndStale(t *testing.T) {
	root := t.TempDir()
	write(t, root, "k/list.yaml.tmpl", "names:<% range .Services %> <% .Name %><% end %>\n")
	write(t, root, "k/__service__.yaml.tmpl", "name: <% .Service.Name %>\n")
	six := append(slices.Clone(services.All), services.Service{Name: "reviews"})
	if _, err := gen.WriteFor(root, six); err != nil {
		t.Fatal(err)
	}
	write(t, root, "k/list.yaml", read(t, root, "k/list.yaml")+"extra: edit\n")
	if err := os.Remove(filepath.Join(root, "k/auth.yaml")); err != nil {
		t.Fatal(err)
	}
	problems, err := gen.Check(root)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"k/list.yaml: differs", "k/auth.yaml: missing", "k/reviews.yaml: generated, but no template renders it now"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Check missed %q; it said:\n%s", want, joined)
		}
	}
	changed, err := gen.Write(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(changed, "k/reviews.yaml (removed)") {
		t.Fatalf("Write did not remove the stale file: %v", changed)
	}
	if problems, _ := gen.Check(root); len(problems) > 0 {
		t.Fatalf("after Write: %v", problems)
	}
}

// TestHandWrittenFilesAreLeftAlone: a file without the marker beside the
// generated ones is not stale.
func TestHandWrittenFilesAreLeftAlone(t *testing.T) {
	root := t.TempDir()
	write(t, root, "k/__service__.yaml.tmpl", "name: <% .Service.Name %>\n")
	write(t, root, "k/client.yaml", "name: client\n")
	if _, err := gen.Write(root); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, "k/client.yaml"); got != "name: client\n" {
		t.Fatalf("client.yaml: %q", got)
	}
}

// TestUnknownSyntaxAndBadTemplateFail: the generator refuses a file whose
// comment syntax it does not know, and a template that names a field the
// data lacks.
func TestUnknownSyntaxAndBadTemplateFail(t *testing.T) {
	root := t.TempDir()
	write(t, root, "x.json.tmpl", "{}\n")
	if _, err := gen.Render(root); err == nil {
		t.Fatal("rendered a .json (no comment syntax for the marker)")
	}
	root = t.TempDir()
	write(t, root, "x.yaml.tmpl", "<% .Nope %>\n")
	if _, err := gen.Render(root); err == nil {
		t.Fatal("rendered a template naming a missing field")
	}
}

// TestHeaderKeepsADirectiveFirst: a script's #! and a Dockerfile's syntax
// directive stay on the first line, the marker follows.
func TestHeaderKeepsADirectiveFirst(t *testing.T) {
	root := t.TempDir()
	write(t, root, "x.sh.tmpl", "#!/bin/sh\necho hi\n")
	write(t, root, "y.Dockerfile.tmpl", "# syntax=docker/dockerfile:1\nFROM scratch\n")
	if _, err := gen.Write(root); err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, root, "x.sh"), "#!/bin/sh\n# "+gen.Marker+"x.sh.tmpl. DO NOT EDIT.\necho hi\n"; got != want {
		t.Fatalf("x.sh: %q, want %q", got, want)
	}
	if got := read(t, root, "y.Dockerfile"); !strings.HasPrefix(got, "# syntax=docker/dockerfile:1\n# "+gen.Marker) {
		t.Fatalf("y.Dockerfile: %q", got)
	}
}
