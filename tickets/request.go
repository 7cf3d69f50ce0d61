package main

import (
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/money"
)

// maxPrice is the highest price a ticket may have (1,000,000.00).
const maxPrice = money.Cents(1_000_000_00)

// ticketRequest is the body of create and update. Price accepts a number or
// a numeric string ("20.00", as the browser client sends).
type ticketRequest struct {
	Title string       `json:"title"`
	Price *money.Cents `json:"price"`
	// Version, when sent on update, is the version the client edited; a
	// stale one is a 409 instead of silently overwriting a newer edit.
	Version *int64 `json:"version"`
}

const (
	titleMsg = "Title is required"
	priceMsg = "Price must be greater than 0"
)

func (r *ticketRequest) Normalize() { r.Title = strings.TrimSpace(r.Title) }

func (ticketRequest) Messages() httpx.Messages {
	return httpx.Messages{"title": titleMsg, "price": priceMsg, "version": "Version must be a whole number"}
}

// Check applies the contract's rules: title 1–200 characters; price above 0,
// at most 1,000,000, with at most two decimals (the money type already
// refused more decimals while decoding).
func (r ticketRequest) Check() []apperr.FieldError {
	var out []apperr.FieldError
	if n := utf8.RuneCountInString(r.Title); n < 1 || n > 200 {
		out = append(out, apperr.FieldError{Message: titleMsg, Field: "title"})
	}
	if r.Price == nil || *r.Price <= 0 || *r.Price > maxPrice {
		out = append(out, apperr.FieldError{Message: priceMsg, Field: "price"})
	}
	return out
}

// ticketID parses the :id path parameter.
func ticketID(s string) (bson.ObjectID, error) {
	id, err := bson.ObjectIDFromHex(s)
	if err != nil {
		return id, apperr.BadRequest("Invalid ticket id")
	}
	return id, nil
}
