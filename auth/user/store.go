package user

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Store keeps accounts. E-mails are unique: Create of a taken one returns
// ErrEmailInUse, also when two creates race.
type Store interface {
	Create(ctx context.Context, u *User) error
	ByEmail(ctx context.Context, email string) (User, error)
}

// MongoStore is the Store on MongoDB's "users" collection.
type MongoStore struct{ c *mongo.Collection }

// NewMongoStore returns the store, creating the unique e-mail index: the
// index, not a check in code, is what keeps two racing sign-ups apart.
func NewMongoStore(ctx context.Context, db *mongo.Database) (*MongoStore, error) {
	c := db.Collection("users")
	_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("email_unique"),
	})
	if err != nil {
		return nil, fmt.Errorf("users: creating e-mail index: %w", err)
	}
	return &MongoStore{c: c}, nil
}

// Create inserts u.
func (s *MongoStore) Create(ctx context.Context, u *User) error {
	if _, err := s.c.InsertOne(ctx, u); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return ErrEmailInUse
		}
		return fmt.Errorf("users: insert: %w", err)
	}
	return nil
}

// ByEmail finds the user with that (normalized) e-mail.
func (s *MongoStore) ByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.c.FindOne(ctx, bson.D{{Key: "email", Value: email}}).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("users: find: %w", err)
	}
	return u, nil
}
