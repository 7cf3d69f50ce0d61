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
	limiter *signinLimiter
	signups *addressLimiter
	dummy   user.User // compared against when the e-mail is unknown
}

// routes is the whole HTTP surface of the auth service.
func (a *api) routes(e *gin.Engine) *gin.Engine {
	g := e.Group("/api/users")
	// SameOrigin: no other site's page may sign its visitor in or up.
	g.POST("/signup", httpx.SameOrigin, httpx.H(a.signup))
	g.POST("/signin", httpx.SameOrigin, httpx.H(a.signin))
	g.POST("/signout", a.signout)
	g.GET("/currentuser", a.currentUser)
	return e
}
