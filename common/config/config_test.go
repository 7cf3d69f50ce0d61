package config

import (
	"strings"
	"testing"
	"time"
)

type sample struct {
	Key    string        `env:"JWT_KEY,required,notEmpty"`
	Port   int           `env:"PORT" envDefault:"3000"`
	Window time.Duration `env:"EXPIRATION_WINDOW" envDefault:"15m"`
	Secure bool          `env:"COOKIE_SECURE" envDefault:"true"`
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	var c sample
	if err := Load(&c, getenv(map[string]string{"JWT_KEY": "k", "EXPIRATION_WINDOW": "10s"})); err != nil {
		t.Fatal(err)
	}
	if c.Key != "k" || c.Port != 3000 || c.Window != 10*time.Second || !c.Secure {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"missing":      {map[string]string{}, "JWT_KEY"},
		"bad duration": {map[string]string{"JWT_KEY": "k", "EXPIRATION_WINDOW": "soon"}, "EXPIRATION_WINDOW"},
		"bad port":     {map[string]string{"JWT_KEY": "k", "PORT": "http"}, "PORT"},
	} {
		t.Run(name, func(t *testing.T) {
			var c sample
			err := Load(&c, getenv(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %s", err, tc.want)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	if l, err := Level("debug"); err != nil || l.String() != "DEBUG" {
		t.Fatal(l, err)
	}
	if _, err := Level("loud"); err == nil {
		t.Fatal("accepted a bad level")
	}
}

func TestEmbeddedBaseNamesVariables(t *testing.T) {
	var c struct {
		Base
		Session
		Window time.Duration `env:"EXPIRATION_WINDOW" envDefault:"15m"`
	}
	err := Load(&c, getenv(map[string]string{"MONGO_URI": "mongodb://x/db", "JWT_KEY": "k", "SHUTDOWN_DRAIN": "later"}))
	if err == nil || !strings.Contains(err.Error(), "SHUTDOWN_DRAIN") {
		t.Fatalf("err = %v", err)
	}
	err = Load(&c, getenv(map[string]string{"MONGO_URI": "mongodb://x/db"}))
	if err == nil || !strings.Contains(err.Error(), "JWT_KEY") {
		t.Fatalf("err = %v", err)
	}
}

// A field tagged check:"positive" at or below zero is refused with its
// variable's name, in an embedded struct too; above zero it loads.
func TestPositiveFields(t *testing.T) {
	type Inner struct {
		Retries int `env:"RETRIES" envDefault:"3" check:"positive"`
	}
	type cfg struct {
		Inner
		Window time.Duration `env:"WINDOW" envDefault:"15m" check:"positive"`
	}
	var c cfg
	if err := Load(&c, getenv(map[string]string{})); err != nil || c.Window != 15*time.Minute || c.Retries != 3 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"zero duration":     {map[string]string{"WINDOW": "0s"}, "WINDOW: must be positive, got 0s"},
		"negative duration": {map[string]string{"WINDOW": "-1m"}, "WINDOW: must be positive, got -1m0s"},
		"zero number":       {map[string]string{"RETRIES": "0"}, "RETRIES: must be positive, got 0"},
	} {
		t.Run(name, func(t *testing.T) {
			var c cfg
			if err := Load(&c, getenv(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	var wrong struct {
		Name string `env:"NAME" envDefault:"x" check:"positive"`
	}
	if err := Load(&wrong, getenv(map[string]string{})); err == nil {
		t.Fatal("check:\"positive\" on a string was accepted")
	}
}
