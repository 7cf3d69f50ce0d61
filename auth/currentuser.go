package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/session"
)

// currentUserBody is {"currentUser": <the token's user or null>}; a struct,
// not a map, so the encoder needs no key sorting (the hottest route).
type currentUserBody struct {
	CurrentUser *session.User `json:"currentUser"`
}

// currentUser never answers 401: a missing or bad session is just null.
func (a *api) currentUser(c *gin.Context) {
	var body currentUserBody
	if u, ok := httpx.CurrentUser(c); ok {
		body.CurrentUser = &u
	}
	c.JSON(http.StatusOK, body)
}
