package replica

import (
	"errors"
	"testing"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name     string
		current  int64
		exists   bool
		incoming int64
		want     Outcome
		err      error
	}{
		{"first copy", 0, false, 0, Applied, nil},
		{"update before create waits", 0, false, 1, 0, ErrAhead},
		{"next version", 3, true, 4, Applied, nil},
		{"same version is a duplicate", 3, true, 3, Duplicate, nil},
		{"older version is a duplicate", 3, true, 1, Duplicate, nil},
		{"skipping ahead waits", 3, true, 5, 0, ErrAhead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decide(tc.current, tc.exists, tc.incoming)
			if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
				t.Fatalf("Decide(%d,%v,%d) = %v, %v", tc.current, tc.exists, tc.incoming, got, err)
			}
		})
	}
}
