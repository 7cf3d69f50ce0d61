// Package money keeps prices exactly: integer cents inside, a decimal JSON
// number outside (20, 20.5, 19.99) — never binary floating point arithmetic.
package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Cents is an amount in cents of a currency unit.
type Cents int64

// ErrInvalid is returned for anything that is not a plain decimal amount with
// at most two decimals.
var ErrInvalid = errors.New("money: not an amount with at most two decimals")

// maxUnits keeps cents far from int64 overflow.
const maxUnits = math.MaxInt64 / 100 / 10

// Parse reads a decimal amount such as "20", "20.5", "-3.25" or "1e3".
// Exponents are accepted when the value is still exact in cents ("1.5e1");
// more than two decimals, NaN, infinities and huge values are ErrInvalid.
func Parse(s string) (Cents, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return 0, ErrInvalid
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 20 || e < -20 {
			return 0, ErrInvalid
		}
		mant, exp = s[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !digits(intPart) || !digits(frac) {
		return 0, ErrInvalid
	}
	// Shift the decimal point by the exponent, on the digit string.
	all := intPart + frac
	point := len(intPart) + exp
	for point > len(all) {
		all += "0"
	}
	for point < 0 {
		all, point = "0"+all, point+1
	}
	whole, fraction := strings.TrimLeft(all[:point], "0"), strings.TrimRight(all[point:], "0")
	if len(fraction) > 2 {
		return 0, ErrInvalid
	}
	if len(whole) > 17 {
		return 0, ErrInvalid
	}
	units := int64(0)
	if whole != "" {
		u, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || u > maxUnits {
			return 0, ErrInvalid
		}
		units = u
	}
	fraction += strings.Repeat("0", 2-len(fraction))
	cents, _ := strconv.ParseInt(fraction, 10, 64)
	c := Cents(units*100 + cents)
	if neg {
		c = -c
	}
	return c, nil
}

func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats c as a decimal without trailing zeros: 2000 → "20",
// 2050 → "20.5", 1999 → "19.99".
func (c Cents) String() string {
	sign := ""
	v := int64(c)
	if v < 0 {
		sign, v = "-", -v
	}
	s := fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// MarshalJSON writes a JSON number.
func (c Cents) MarshalJSON() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalJSON accepts a JSON number or a string holding one ("20.00", as
// HTML forms send).
func (c *Cents) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return ErrInvalid
		}
		b = []byte(s)
	}
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
