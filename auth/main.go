// Command auth is the platform's account service: sign up, sign in, sign out
// and the current user (docs/contract.md, "Auth"). It issues the session every other
// service verifies locally.
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ticketing-go/ticketing/auth/user"
	"github.com/ticketing-go/ticketing/common/config"
	"github.com/ticketing-go/ticketing/common/service"
)

type settings struct {
	config.Base
	config.Session
	BcryptCost int `env:"BCRYPT_COST" envDefault:"10"`
	// Sign-in failures allowed per (e-mail, client address) and per client
	// address before 429; the first wait, doubled by each further failure
	// up to the longest (one failure is forgotten per quiet interval).
	SigninBurst    int           `env:"SIGNIN_BURST" envDefault:"5"`
	SigninIPBurst  int           `env:"SIGNIN_IP_BURST" envDefault:"20"`
	SigninInterval time.Duration `env:"SIGNIN_REFILL" envDefault:"1m" check:"positive"`
	SigninMaxDelay time.Duration `env:"SIGNIN_MAX_DELAY" envDefault:"1h"`
	// Sign-ups allowed per client address at once, then one per interval.
	SignupBurst    int           `env:"SIGNUP_BURST" envDefault:"10"`
	SignupInterval time.Duration `env:"SIGNUP_REFILL" envDefault:"1m" check:"positive"`
}

func main() { service.Main("auth", run) }

// Validate checks what the environment's parsing cannot.
func (s settings) Validate() error {
	if err := user.ValidCost(s.BcryptCost); err != nil {
		return fmt.Errorf("BCRYPT_COST: %w", err)
	}
	return nil
}

func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	var cfg settings
	svc, err := service.Boot(ctx, "auth", &cfg, getenv, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)

	users, err := user.NewMongoStore(ctx, svc.DB)
	if err != nil {
		return err
	}
	dummy, err := user.New("", "not-a-password", cfg.BcryptCost)
	if err != nil {
		return err
	}
	a := &api{
		dummy:   dummy,
		users:   users,
		signer:  svc.Signer,
		secure:  cfg.CookieSecure,
		cost:    cfg.BcryptCost,
		limiter: newSigninLimiter(cfg.SigninBurst, cfg.SigninIPBurst, cfg.SigninInterval, cfg.SigninMaxDelay),
		signups: newAddressLimiter(cfg.SignupBurst, cfg.SignupInterval),
	}
	return svc.Serve(ctx, a.routes(svc.Engine()))
}
