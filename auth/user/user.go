// Package user is the auth service's account: its rules, its store and the
// store's MongoDB implementation.
package user

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"
)

// User is an account. Hash is the bcrypt hash of the password.
type User struct {
	ID        bson.ObjectID `bson:"_id"`
	Email     string        `bson:"email"`
	Hash      []byte        `bson:"password"`
	CreatedAt time.Time     `bson:"createdAt"`
}

// View is the only shape a user is shown in: never the hash or _id.
type View struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// View returns the public shape of u.
func (u User) View() View { return View{ID: u.ID.Hex(), Email: u.Email} }

// NormalizeEmail trims and lower-cases, so A@x.io and a@x.io are one account.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidCost checks a bcrypt cost setting.
func ValidCost(cost int) error {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return fmt.Errorf("must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	return nil
}

// PasswordProblems returns one message per rule of the password policy that
// p breaks: 8 to 64 characters with an upper-case letter, a lower-case letter,
// a digit and a special character. bcrypt reads at most 72 bytes, so a longer
// password is refused rather than silently truncated.
func PasswordProblems(p string) []string {
	var upper, lower, digit, special bool
	for _, r := range p {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ':
			special = true
		}
	}
	var out []string
	if n := utf8.RuneCountInString(p); n < 8 || n > 64 {
		out = append(out, "Password must be between 8 and 64 characters")
	} else if len(p) > 72 {
		out = append(out, "Password must be at most 72 bytes long")
	}
	if !upper {
		out = append(out, "Password must contain an upper-case letter")
	}
	if !lower {
		out = append(out, "Password must contain a lower-case letter")
	}
	if !digit {
		out = append(out, "Password must contain a digit")
	}
	if !special {
		out = append(out, "Password must contain a special character")
	}
	return out
}

// New returns a user with a fresh id and the password hashed at cost.
func New(email, password string, cost int) (User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return User{}, fmt.Errorf("hashing password: %w", err)
	}
	return User{ID: bson.NewObjectID(), Email: email, Hash: hash, CreatedAt: time.Now().UTC()}, nil
}

// PasswordMatches reports whether password is the user's.
func (u User) PasswordMatches(password string) bool {
	return bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) == nil
}

var (
	// ErrEmailInUse is returned by Create for a taken e-mail.
	ErrEmailInUse = errors.New("user: email in use")
	// ErrNotFound is returned by ByEmail for an unknown e-mail.
	ErrNotFound = errors.New("user: not found")
)
