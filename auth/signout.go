package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/session"
)

func (a *api) signout(c *gin.Context) {
	session.ClearCookie(c.Writer.Header(), a.secure)
	c.JSON(http.StatusOK, gin.H{})
}
