package money

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Cents{
		"20": 2000, "20.00": 2000, "20.5": 2050, "19.99": 1999, "0.1": 10, ".5": 50, "5.": 500,
		"-1": -100, "0": 0, "1e3": 100000, "1.5e1": 1500, "1234e-2": 1234, "1000000": 100000000, " 7 ": 700,
		"20.000": 2000, "1E+2": 10000, "-.5": -50, "0.0000e9": 0, "-9223372036854775808e-2": -9223372036854775808,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "20.001", "1e400", "1e-400", "NaN", "Infinity", "0x10", "1,5", "--1", "1e", ".", "1.2.3", "99999999999999999999",
		"+5", "1e+-2", "0.005", "0.0005", "1e99999999999999999999", "92233720368547758.08"} {
		if got, err := Parse(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %d, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestJSON(t *testing.T) {
	var v struct{ Price Cents }
	for in, want := range map[string]Cents{`{"Price":20}`: 2000, `{"Price":"20.00"}`: 2000, `{"Price":0.3}`: 30} {
		if err := json.Unmarshal([]byte(in), &v); err != nil || v.Price != want {
			t.Errorf("%s → %d, %v", in, v.Price, err)
		}
	}
	for _, in := range []string{`{"Price":"abc"}`, `{"Price":20.001}`, `{"Price":true}`, `{"Price":{}}`} {
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
	for c, want := range map[Cents]string{2000: "20", 2050: "20.5", 1999: "19.99", 5: "0.05", -150: "-1.5", 0: "0"} {
		b, _ := json.Marshal(c)
		if string(b) != want {
			t.Errorf("Marshal(%d) = %s, want %s", c, b, want)
		}
	}
}

func FuzzParseRoundTrip(f *testing.F) {
	for _, s := range []string{"20", "19.99", "1e3", "0.01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(c.String())
		if err != nil || back != c {
			t.Fatalf("%q → %d → %q → %d, %v", s, c, c.String(), back, err)
		}
	})
}
