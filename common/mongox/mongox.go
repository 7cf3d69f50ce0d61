// Package mongox connects a service to its MongoDB and tells which driver
// errors mean "the database is down" (503) rather than a bug (500).
package mongox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Connect opens a client for uri, whose path names the database
// (mongodb://host:27017/tickets), and waits with backoff until it answers a
// ping or ctx ends — the database often starts after the service in a cluster.
func Connect(ctx context.Context, uri, appName string, log *slog.Logger) (*mongo.Client, *mongo.Database, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, nil, fmt.Errorf("MONGO_URI: %w", err)
	}
	if cs.Database == "" {
		return nil, nil, errors.New("MONGO_URI: no database name in the path (mongodb://host:27017/<db>)")
	}
	opts := options.Client().ApplyURI(uri).SetAppName(appName).
		SetServerSelectionTimeout(5 * time.Second).SetTimeout(10 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("mongo: %w", err)
	}
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := client.Ping(pctx, nil)
		if err != nil {
			log.Warn("database not reachable yet", "err", err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(backoff.NewExponentialBackOff()), backoff.WithMaxElapsedTime(0))
	if err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, nil, fmt.Errorf("mongo: %w", err)
	}
	return client, client.Database(cs.Database), nil
}

// Ping is a readiness check.
func Ping(client *mongo.Client) func(context.Context) error {
	return func(ctx context.Context) error { return client.Ping(ctx, nil) }
}

// IsUnavailable reports whether err means the database could not be reached.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var sse topology.ServerSelectionError
	return errors.As(err, &sse) || mongo.IsNetworkError(err) || mongo.IsTimeout(err)
}

// IsDuplicateKey reports a unique-index violation.
func IsDuplicateKey(err error) bool { return mongo.IsDuplicateKeyError(err) }
