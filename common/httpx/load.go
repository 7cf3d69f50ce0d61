package httpx

import (
	"context"
	"errors"

	"github.com/ticketing-go/ticketing/common/apperr"
)

// Load loads what a request names through a store's lookup, and turns the
// store's notFound error into the API's 404 (docs/contract.md, "HTTP"): the
// store's sentinel stays the domain's, and the mapping is written once for
// every handler. Any other error is returned as it is.
func Load[K, T any](ctx context.Context, lookup func(context.Context, K) (T, error), key K, notFound error) (T, error) {
	v, err := lookup(ctx, key)
	if errors.Is(err, notFound) {
		return v, apperr.NotFound()
	}
	return v, err
}
