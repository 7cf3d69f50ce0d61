package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

const (
	defaultLimit = 100
	maxLimit     = 500
	maxQuery     = 200 // a title is at most 200 characters
)

// list answers the unreserved tickets, oldest first, a page at a time. The
// body stays a plain array (as clients of the original expect); the next
// page's address is in the Link header. Additions: ?q= keeps the tickets
// whose title contains it (any case); ?userId= lists that seller's tickets
// in every state instead (a seller's own page: for sale, reserved, sold).
func (a *api) list(c *gin.Context) error {
	limit := defaultLimit
	if s, ok := httpx.Query(c, "limit"); !ok || s != "" {
		n, err := strconv.Atoi(s)
		if !ok || err != nil || n < 1 {
			return apperr.Validation(apperr.FieldError{Message: fmt.Sprintf("Limit must be a whole number from 1 to %d", maxLimit), Field: "limit"})
		}
		limit = min(n, maxLimit)
	}
	var (
		after bson.ObjectID
		err   error
	)
	if s, ok := httpx.Query(c, "cursor"); !ok || s != "" {
		var raw []byte
		raw, err = base64.RawURLEncoding.DecodeString(s)
		if !ok || err != nil || len(raw) != len(after) {
			return apperr.Validation(apperr.FieldError{Message: "Cursor is invalid", Field: "cursor"})
		}
		copy(after[:], raw)
	}
	q, userID := c.Query("q"), c.Query("userId")
	if utf8.RuneCountInString(q) > maxQuery {
		return apperr.Validation(apperr.FieldError{Message: fmt.Sprintf("Search text must be at most %d characters", maxQuery), Field: "q"})
	}
	// One more than asked tells whether another page exists.
	var page []ticket.Ticket
	if userID != "" {
		page, err = a.tickets.ListByUser(c, userID, after, limit+1)
	} else {
		page, err = a.tickets.ListAvailable(c, after, limit+1, q)
	}
	if err != nil {
		return err
	}
	if len(page) > limit {
		page = page[:limit]
		next := url.Values{"limit": {strconv.Itoa(limit)}, "cursor": {base64.RawURLEncoding.EncodeToString(page[limit-1].ID[:])}}
		if userID != "" {
			next.Set("userId", userID)
		} else if q != "" {
			next.Set("q", q)
		}
		c.Header("Link", fmt.Sprintf(`</api/tickets?%s>; rel="next"`, next.Encode()))
	}
	views := make([]ticket.View, len(page))
	for i, t := range page {
		views[i] = t.View()
	}
	c.JSON(http.StatusOK, views)
	return nil
}
