package deploytest

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }

// plantedCase is one broken variant of a render and the problem it must
// raise.
type plantedCase struct {
	name, want string
	mutate     func(b *bundle)
}

// runPlanted decodes src afresh for each case, requires check to find
// nothing before the mutation and a problem containing want after it.
func runPlanted(t *testing.T, src []byte, check func(*bundle) []string, cases []plantedCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := decode(src)
			if err != nil {
				t.Fatal(err)
			}
			if errs := check(b); len(errs) > 0 {
				t.Fatalf("not clean before mutation: %v", errs)
			}
			c.mutate(b)
			errs := check(b)
			for _, e := range errs {
				if strings.Contains(e, c.want) {
					return
				}
			}
			t.Errorf("planted mistake not caught; want %q, got:\n%s", c.want, strings.Join(errs, "\n"))
		})
	}
}
