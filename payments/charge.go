package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/stripe/stripe-go/v84"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/money"
)

// charger moves a buyer's money in two steps, so nothing is taken before the
// orders service has made the order paid: an authorization holds the amount
// on the card, and is then captured (the order is paid) or refunded in full
// (which, before a capture, releases the hold). Each call carries an
// idempotency key, so a retried call never moves money twice.
type charger interface {
	Authorize(ctx context.Context, amount money.Cents, token, key string) (id string, err error)
	Capture(ctx context.Context, id, key string) error
	Refund(ctx context.Context, id, key string) error
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

// Authorize holds amount in USD on the card: a charge with capture=false.
// The amount is the ticket's exact price in cents; the idempotency key (the
// order id) makes a repeated request return the first authorization.
func (s *stripeCharger) Authorize(ctx context.Context, amount money.Cents, token, key string) (string, error) {
	params := &stripe.ChargeCreateParams{
		Amount:   stripe.Int64(int64(amount)),
		Currency: stripe.String(string(stripe.CurrencyUSD)),
		Source:   &stripe.PaymentSourceSourceParams{Token: stripe.String(token)},
		Capture:  stripe.Bool(false),
	}
	params.SetIdempotencyKey(key)
	ch, err := s.sc.V1Charges.Create(ctx, params)
	if err != nil {
		return "", providerError(err)
	}
	return ch.ID, nil
}

// Capture takes the authorized amount.
func (s *stripeCharger) Capture(ctx context.Context, id, key string) error {
	params := &stripe.ChargeCaptureParams{}
	params.SetIdempotencyKey(key)
	if _, err := s.sc.V1Charges.Capture(ctx, id, params); err != nil {
		return providerError(err)
	}
	return nil
}

// Refund gives the whole charge back; before a capture it releases the hold.
func (s *stripeCharger) Refund(ctx context.Context, id, key string) error {
	params := &stripe.RefundCreateParams{Charge: stripe.String(id)}
	params.SetIdempotencyKey(key)
	if _, err := s.sc.V1Refunds.Create(ctx, params); err != nil {
		return providerError(err)
	}
	return nil
}

// errRefused marks the provider refusing the buyer's card or token: nothing
// was authorized.
var errRefused = errors.New("payment refused by the provider")

// providerError turns a Stripe failure into the envelope: the client's
// mistakes (a declined card, a bad token) are 400 with Stripe's message;
// Stripe being unreachable or failing is a 502.
func providerError(err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != http.StatusUnauthorized &&
		se.HTTPStatusCode != http.StatusConflict {
		msg := se.Msg
		if msg == "" {
			msg = "The payment was refused"
		}
		return &apperr.Error{Status: http.StatusBadRequest, Entries: []apperr.FieldError{{Message: msg, Field: "token"}}, Cause: errors.Join(errRefused, err)}
	}
	return &apperr.Error{Status: http.StatusBadGateway, Entries: []apperr.FieldError{{Message: "The payment provider is unavailable, please retry"}}, Cause: err}
}
