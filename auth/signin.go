package main

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/auth/user"
	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/httpx"
)

type signinRequest struct {
	Email    string `json:"email" validate:"required,email,max=254"`
	Password string `json:"password" validate:"required"`
}

func (r *signinRequest) Normalize() { r.Email = user.NormalizeEmail(r.Email) }

func (signinRequest) Messages() httpx.Messages {
	return httpx.Messages{"email": "Email must be valid", "password": "You must supply a password"}
}

func (a *api) signin(c *gin.Context) error {
	var req signinRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	if wait := a.limiter.blocked(req.Email, c.ClientIP()); wait > 0 {
		return apperr.TooManyRequests("Too many failed sign-in attempts, try again later", wait)
	}
	u, err := a.users.ByEmail(c, req.Email)
	switch {
	case errors.Is(err, user.ErrNotFound):
		// Hash anyway, so response time does not tell which e-mails exist.
		u = a.dummy
	case err != nil:
		return err
	}
	if !u.PasswordMatches(req.Password) || u.Email == "" {
		a.limiter.fail(req.Email, c.ClientIP())
		return apperr.BadRequest("Invalid credentials")
	}
	a.limiter.succeeded(req.Email, c.ClientIP())
	return a.startSession(c, http.StatusOK, u)
}
