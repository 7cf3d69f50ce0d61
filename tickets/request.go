package main

import (
	"strings"
	"unicode"
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
	titleMsg     = "Title is required"
	invisibleMsg = "Title must not contain control or invisible characters"
	priceMsg     = "Price must be greater than 0"
	maxPriceMsg  = "Price must be at most 1,000,000"
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
	} else if hasInvisible(r.Title) {
		out = append(out, apperr.FieldError{Message: invisibleMsg, Field: "title"})
	}
	switch {
	case r.Price == nil || *r.Price <= 0:
		out = append(out, apperr.FieldError{Message: priceMsg, Field: "price"})
	case *r.Price > maxPrice:
		out = append(out, apperr.FieldError{Message: maxPriceMsg, Field: "price"})
	}
	return out
}

// hasInvisible reports control characters (C0, DEL, C1), format characters
// (bidi overrides and isolates, zero-width spaces and joiners, the BOM, soft
// hyphens) and line or paragraph separators: in a title shown to buyers
// they break the page, reorder what is shown (a "reversed" extension), or
// make two titles look alike. A zero-width joiner is kept where it joins two
// emoji (👨‍👩‍👧), which is ordinary text.
func hasInvisible(s string) bool {
	runes := []rune(s)
	for i, c := range runes {
		switch {
		case c == '\u200D' && i > 0 && i+1 < len(runes) && isEmoji(prevVisible(runes, i)) && isEmoji(runes[i+1]):
		case unicode.IsControl(c), unicode.Is(unicode.Cf, c), unicode.Is(unicode.Zl, c), unicode.Is(unicode.Zp, c):
			return true
		}
	}
	return false
}

// prevVisible is the rune before i, skipping a variation selector (❤️ is
// U+2764 U+FE0F).
func prevVisible(runes []rune, i int) rune {
	if runes[i-1] == '\uFE0F' && i > 1 {
		return runes[i-2]
	}
	return runes[i-1]
}

func isEmoji(r rune) bool { return unicode.Is(unicode.So, r) }

// ticketID parses the :id path parameter.
func ticketID(s string) (bson.ObjectID, error) {
	id, err := bson.ObjectIDFromHex(s)
	if err != nil {
		return id, apperr.BadRequest("Invalid ticket id")
	}
	return id, nil
}
