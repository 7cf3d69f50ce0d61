package main

import (
	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/auth/user"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/session"
)

type api struct {
	users   user.Store
	signer  *session.Signer
	secure  bool
	cost    int
	limiter *limiter
	dummy   user.User // compared against when the e-mail is unknown
}

// routes is the whole HTTP surface of the auth service.
func (a *api) routes(e *gin.Engine) *gin.Engine {
	g := e.Group("/api/users")
	g.POST("/signup", httpx.H(a.signup))
	g.POST("/signin", httpx.H(a.signin))
	g.POST("/signout", a.signout)
	g.GET("/currentuser", a.currentUser)
	return e
}
