// Package money holds amounts as whole cents, so prices travel through JSON,
// MongoDB and Stripe without floating-point rounding (docs/contract.md, "Tickets" and "Payments").
package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Cents is an amount in cents. On the wire it is a JSON number in currency
// units with at most two decimals: 2000 is 20, 2050 is 20.5, 1999 is 19.99.
type Cents int64

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid amount")

// maxExponent bounds the exponent of forms like 1e2: larger ones cannot be a
// price, and bounding it keeps "1e999999999" from building huge strings.
const maxExponent = 20

// Parse reads a decimal number such as "20", "20.5", "19.99", ".5", "-3" or
// "2e1", ignoring surrounding spaces. The value must be a whole number of
// cents: "19.999" is rejected, while "20.000" (exactly 20) is accepted. Range
// checks (> 0, a maximum) are the caller's business.
func Parse(s string) (Cents, error) {
	c, err := parse(s)
	if err != nil {
		return 0, fmt.Errorf("%w %q: %s", ErrInvalid, s, err)
	}
	return c, nil
}

func parse(s string) (Cents, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if !digits(intPart + frac) {
		return 0, errors.New("not a decimal number")
	}
	exp := 0
	if hasExp {
		sign := 1
		if rest, ok := strings.CutPrefix(expPart, "-"); ok {
			sign, expPart = -1, rest
		} else {
			expPart = strings.TrimPrefix(expPart, "+")
		}
		if !digits(expPart) {
			return 0, errors.New("bad exponent")
		}
		e, err := strconv.Atoi(expPart)
		if err != nil || e > maxExponent {
			e = maxExponent + 1 // too large either way; judged below
		}
		exp = sign * e
	}
	// The value is D × 10^(exp − len(frac)) with D the digits without the
	// point, so in cents it is D × 10^shift.
	d := strings.TrimLeft(intPart+frac, "0")
	if d == "" {
		return 0, nil
	}
	if exp > maxExponent || exp < -maxExponent {
		return 0, errors.New("out of range")
	}
	shift := exp - len(frac) + 2
	if shift >= 0 {
		d += strings.Repeat("0", shift)
	} else {
		cut := len(d) + shift // digits left of the cents' point
		if cut < 0 || strings.Trim(d[max(cut, 0):], "0") != "" {
			return 0, errors.New("more than two decimals")
		}
		d = d[:cut]
	}
	if neg {
		d = "-" + d
	}
	n, err := strconv.ParseInt(d, 10, 64)
	if err != nil {
		return 0, errors.New("out of range")
	}
	return Cents(n), nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String formats c in currency units with no trailing zeros: 20, 20.5, 19.99.
func (c Cents) String() string {
	u := uint64(c) // two's complement keeps math.MinInt64's magnitude exact
	sign := ""
	if c < 0 {
		sign, u = "-", -u
	}
	whole := strconv.FormatUint(u/100, 10)
	switch frac := u % 100; {
	case frac == 0:
		return sign + whole
	case frac%10 == 0:
		return fmt.Sprintf("%s%s.%d", sign, whole, frac/10)
	default:
		return fmt.Sprintf("%s%s.%02d", sign, whole, frac)
	}
}

// MarshalJSON writes c as a JSON number in currency units.
func (c Cents) MarshalJSON() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalJSON reads a JSON number, or a string holding one — the browser
// client sends prices as strings such as "20.00" (docs/contract.md, "Tickets"). null leaves
// c unchanged, as encoding/json does for built-in types.
func (c *Cents) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}
