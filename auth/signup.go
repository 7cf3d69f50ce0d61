package main

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/auth/user"
	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/session"
)

type signupRequest struct {
	Email    string `json:"email" validate:"required,email,max=254"`
	Password string `json:"password"`
}

func (r *signupRequest) Normalize() { r.Email = user.NormalizeEmail(r.Email) }

func (signupRequest) Messages() httpx.Messages {
	return httpx.Messages{"email": "Email must be valid", "password": "Password must be a string"}
}

// Check applies the password policy, one entry per broken rule.
func (r signupRequest) Check() []apperr.FieldError {
	var out []apperr.FieldError
	for _, msg := range user.PasswordProblems(r.Password) {
		out = append(out, apperr.FieldError{Message: msg, Field: "password"})
	}
	return out
}

func (a *api) signup(c *gin.Context) error {
	var req signupRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	// Counted once valid: each one costs a bcrypt hash, and its answer
	// tells whether the e-mail is registered ("Email in use").
	if wait := a.signups.take(c.ClientIP()); wait > 0 {
		return apperr.TooManyRequests("Too many sign-ups from this address, try again later", wait)
	}
	u, err := user.New(req.Email, req.Password, a.cost)
	if err != nil {
		return err
	}
	if err := a.users.Create(c, &u); err != nil {
		if errors.Is(err, user.ErrEmailInUse) {
			return apperr.BadRequest("Email in use")
		}
		return err
	}
	return a.startSession(c, http.StatusCreated, u)
}

func (a *api) startSession(c *gin.Context, status int, u user.User) error {
	token, err := a.signer.Issue(u.ID.Hex(), u.Email)
	if err != nil {
		return err
	}
	session.SetCookie(c.Writer.Header(), token, a.secure)
	c.JSON(status, u.View())
	return nil
}
