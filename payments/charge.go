package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/stripe/stripe-go/v84"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/money"
)

// charger charges a card once per idempotency key.
type charger interface {
	Charge(ctx context.Context, amount money.Cents, token, idempotencyKey string) (id string, err error)
}

// stripeCharger charges through Stripe's API (or a peer such as stripe-mock).
type stripeCharger struct{ sc *stripe.Client }

func newStripeCharger(key, apiURL string) *stripeCharger {
	cfg := &stripe.BackendConfig{MaxNetworkRetries: stripe.Int64(2), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	if apiURL != "" {
		cfg.URL = stripe.String(apiURL)
	}
	return &stripeCharger{sc: stripe.NewClient(key, stripe.WithBackends(stripe.NewBackendsWithConfig(cfg)))}
}

// Charge charges amount in USD. The amount is the ticket's exact price in
// cents; the idempotency key (the order id) makes a retried request return
// the first charge instead of charging again.
func (s *stripeCharger) Charge(ctx context.Context, amount money.Cents, token, key string) (string, error) {
	params := &stripe.ChargeCreateParams{
		Amount:   stripe.Int64(int64(amount)),
		Currency: stripe.String(string(stripe.CurrencyUSD)),
		Source:   &stripe.PaymentSourceSourceParams{Token: stripe.String(token)},
	}
	params.SetIdempotencyKey(key)
	ch, err := s.sc.V1Charges.Create(ctx, params)
	if err != nil {
		return "", providerError(err)
	}
	return ch.ID, nil
}

// providerError turns a Stripe failure into the envelope: the client's
// mistakes (a declined card, a bad token) are 400 with Stripe's message;
// Stripe being unreachable or failing is a 502.
func providerError(err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != http.StatusUnauthorized {
		msg := se.Msg
		if msg == "" {
			msg = "The payment was refused"
		}
		return &apperr.Error{Status: http.StatusBadRequest, Entries: []apperr.FieldError{{Message: msg, Field: "token"}}, Cause: err}
	}
	return &apperr.Error{Status: http.StatusBadGateway, Entries: []apperr.FieldError{{Message: "The payment provider is unavailable, please retry"}}, Cause: err}
}
