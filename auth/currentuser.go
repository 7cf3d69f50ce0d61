package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/httpx"
)

// currentUser never answers 401: a missing or bad session is just null.
func (a *api) currentUser(c *gin.Context) {
	if u, ok := httpx.CurrentUser(c); ok {
		c.JSON(http.StatusOK, gin.H{"currentUser": u})
		return
	}
	c.JSON(http.StatusOK, gin.H{"currentUser": nil})
}
