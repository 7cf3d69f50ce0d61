// Package config loads a service's settings from its environment with
// caarlos0/env, failing fast with the name of the missing or invalid variable.
//
// Services receive getenv as a parameter (never os.Getenv deep inside), so
// tests can boot them with any environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Load fills cfg (a pointer to a struct with `env` tags) from getenv. A
// duration or number field tagged `check:"positive"` must be above zero.
func Load(cfg any, getenv func(string) string) error {
	params, err := env.GetFieldParams(cfg)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	vars := make(map[string]string, len(params))
	for _, p := range params {
		if v := getenv(p.Key); v != "" {
			vars[p.Key] = v
		}
	}
	err = env.ParseWithOptions(cfg, env.Options{Environment: vars})
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		return checkPositive(reflect.ValueOf(cfg).Elem())
	}
	// env names a badly formatted value by its Go field; say the variable.
	keys := envKeys(cfg)
	msgs := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			msgs = append(msgs, fmt.Sprintf("invalid %s=%q: %v", keys[pe.Name], vars[keys[pe.Name]], pe.Err))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
}

// checkPositive refuses a field tagged `check:"positive"` that is not, naming
// its variable; nested and embedded structs are walked too.
func checkPositive(v reflect.Value) error {
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		if fv.Kind() == reflect.Struct {
			if err := checkPositive(fv); err != nil {
				return err
			}
			continue
		}
		if f.Tag.Get("check") != "positive" {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		switch {
		case fv.CanInt() && fv.Int() > 0:
		case fv.Type() == reflect.TypeFor[time.Duration]():
			return fmt.Errorf("config: %s: must be positive, got %s", key, time.Duration(fv.Int()))
		case fv.CanInt():
			return fmt.Errorf("config: %s: must be positive, got %d", key, fv.Int())
		default:
			return fmt.Errorf("config: %s: check:\"positive\" on a %s", key, fv.Type())
		}
	}
	return nil
}

// envKeys maps each field name of the config struct to its variable.
// Embedded structs (the shared Base, Session, …) are walked too.
func envKeys(cfg any) map[string]string {
	keys := map[string]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			keys[f.Name] = key
		}
	}
	walk(reflect.TypeOf(cfg).Elem())
	return keys
}

// Level parses LOG_LEVEL (debug, info, warn, error).
func Level(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("config: invalid LOG_LEVEL %q", s)
	}
	return l, nil
}

// Base is what every service reads.
type Base struct {
	Port int `env:"PORT" envDefault:"3000"`
	// Host (LISTEN_HOST) is the address to listen on; empty means every
	// interface. (Not HOST: some shells export that as the machine name.) The
	// local stack sets 127.0.0.1 so only the gateway's machine reaches it.
	Host string `env:"LISTEN_HOST"`
	// TrustedProxies (addresses or CIDR ranges) may name the client in
	// X-Forwarded-For / X-Real-IP; none by default.
	TrustedProxies  []string      `env:"TRUSTED_PROXIES" envSeparator:","`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	MongoURI        string        `env:"MONGO_URI,required,notEmpty"`
	Drain           time.Duration `env:"SHUTDOWN_DRAIN" envDefault:"5s"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
}

// Session is what every service that reads or writes the session needs.
type Session struct {
	JWTKey       string        `env:"JWT_KEY,required,notEmpty"`
	JWTTTL       time.Duration `env:"JWT_TTL" envDefault:"24h"`
	CookieSecure bool          `env:"COOKIE_SECURE" envDefault:"true"`
}

// BaseSettings is the Base a service's settings embed (service.Boot finds
// it through this method).
func (b Base) BaseSettings() Base { return b }

// SessionSettings is the Session a service's settings embed, if they do
// (service.Boot then builds the session signer).
func (s Session) SessionSettings() Session { return s }
