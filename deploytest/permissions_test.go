package deploytest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// busUse is what a service's code does on the bus: the subjects it
// publishes and the (queue group, subject) pairs it listens to.
type busUse struct {
	publishes []string
	listens   [][2]string
}

var (
	eventConstRE = regexp.MustCompile(`\b((?:Subject|Group)\w+)\s*=\s*"([^"]+)"`)
	topicRE      = regexp.MustCompile(`\b(Topic\w+)\s*=\s*Topic\[\w+\]\{(Subject\w+)\}`)
	listenRE     = regexp.MustCompile(`events\.On\(\s*events\.((?:Subject|Topic)\w+),\s*events\.(Group\w+)`)
	subjectRefRE = regexp.MustCompile(`events\.((?:Subject|Topic)\w+)`)
)

// servicesBusUse reads each Go service's non-test sources: a subject in an
// events.On listener is listened to; any other reference to a subject is a
// publish (the services publish through their outbox).
func servicesBusUse(t *testing.T) map[string]busUse {
	t.Helper()
	var src []byte
	for _, f := range []string{"events.go", "topic.go"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "common", "events", f))
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	// Subjects and groups by constant name, and each topic (events.Topic
	// value, what the services pass) by the subject it binds.
	consts := map[string]string{}
	for _, m := range eventConstRE.FindAllStringSubmatch(string(src), -1) {
		consts[m[1]] = m[2]
	}
	for _, m := range topicRE.FindAllStringSubmatch(string(src), -1) {
		consts[m[1]] = consts[m[2]]
	}
	uses := map[string]busUse{}
	for svc := range goServices {
		var u busUse
		err := filepath.WalkDir(filepath.Join(repoRoot, svc), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			text := string(data)
			for _, m := range listenRE.FindAllStringSubmatch(text, -1) {
				u.listens = append(u.listens, [2]string{consts[m[2]], consts[m[1]]})
			}
			for _, m := range subjectRefRE.FindAllStringSubmatch(listenRE.ReplaceAllString(text, ""), -1) {
				if subject := consts[m[1]]; subject != "" && !slices.Contains(u.publishes, subject) {
					u.publishes = append(u.publishes, subject)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		uses[svc] = u
	}
	return uses
}

// wantPublish is the publish allow list a service's NATS user needs: its own
// subjects, the stream's info and creation, and for each of its listeners
// the consumer's creation, info, pulls and acks — nothing else.
func wantPublish(u busUse) []string {
	allow := append(slices.Clone(u.publishes), "$JS.API.STREAM.INFO.TICKETING", "$JS.API.STREAM.CREATE.TICKETING")
	for _, l := range u.listens {
		cons := l[0] + "_" + strings.ReplaceAll(l[1], ":", "-")
		allow = append(allow, "$JS.API.CONSUMER.CREATE.TICKETING."+cons+"."+l[1], "$JS.API.CONSUMER.INFO.TICKETING."+cons,
			"$JS.API.CONSUMER.MSG.NEXT.TICKETING."+cons, "$JS.ACK.TICKETING."+cons+".>")
	}
	slices.Sort(allow)
	return allow
}

// checkPermissions compares nats.conf's users with what the services' code
// does: a missing permission breaks the service in prod only (a listener's
// consumer cannot be created, a publish is refused), an extra one is more
// than it needs.
func checkPermissions(conf string, uses map[string]busUse) []string {
	var errs []string
	users := natsUsers(conf)
	for _, svc := range sortedKeys(uses) {
		u := uses[svc]
		if len(u.publishes) == 0 && len(u.listens) == 0 {
			if _, ok := users[svc]; ok {
				errs = append(errs, fmt.Sprintf("nats.conf: user %s, but the service does not use the bus", svc))
			}
			continue
		}
		got, ok := users[svc]
		if !ok {
			errs = append(errs, fmt.Sprintf("nats.conf: no user %s", svc))
			continue
		}
		have := slices.Sorted(slices.Values(got.publish))
		want := wantPublish(u)
		for _, w := range want {
			if !slices.Contains(have, w) {
				errs = append(errs, fmt.Sprintf("nats.conf: user %s may not publish %s, which its code needs", svc, w))
			}
		}
		for _, h := range have {
			if !slices.Contains(want, h) {
				errs = append(errs, fmt.Sprintf("nats.conf: user %s may publish %s, which its code does not need", svc, h))
			}
		}
		if !strings.Contains(conf, fmt.Sprintf(`subscribe: { allow: ["_INBOX_%s.>"] }`, svc)) {
			errs = append(errs, fmt.Sprintf("nats.conf: user %s may subscribe to more (or other) than its inboxes _INBOX_%s.>", svc, svc))
		}
	}
	return errs
}

// The production NATS users allow exactly what each service's code does on
// the bus; a listener added without its permission (or a permission left
// behind) is reported.
func TestNATSPermissionsMatchTheServices(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join(repoRoot, "infra", "k8s", "components", "jetstream-cluster", "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	uses := servicesBusUse(t)
	if len(uses["orders"].listens) == 0 || len(uses["tickets"].publishes) == 0 {
		t.Fatalf("read no bus use from the services' code: %+v", uses)
	}
	for _, e := range checkPermissions(string(conf), uses) {
		t.Error(e)
	}

	// Planted: a new listener without its permission; a publish permission
	// the code no longer needs.
	more := uses["payments"]
	more.listens = append(slices.Clone(more.listens), [2]string{"payments-service", "ticket:created"})
	planted := map[string]busUse{"payments": more}
	if errs := checkPermissions(string(conf), planted); !slices.ContainsFunc(errs, func(e string) bool {
		return strings.Contains(e, "user payments may not publish $JS.API.CONSUMER.CREATE.TICKETING.payments-service_ticket-created.ticket:created")
	}) {
		t.Errorf("a listener without its permission was not caught: %v", errs)
	}
	fewer := uses["tickets"]
	fewer.publishes = slices.DeleteFunc(slices.Clone(fewer.publishes), func(s string) bool { return s == "ticket:updated" })
	if errs := checkPermissions(string(conf), map[string]busUse{"tickets": fewer}); !slices.ContainsFunc(errs, func(e string) bool {
		return strings.Contains(e, "user tickets may publish ticket:updated, which its code does not need")
	}) {
		t.Errorf("a needless publish permission was not caught: %v", errs)
	}
}
