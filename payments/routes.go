package main

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/payments/payment"
)

type api struct {
	store   *payment.Store
	relay   *outbox.Relay
	charger charger
	now     func() time.Time
}

// routes is the whole HTTP surface of the payments service.
func (a *api) routes(e *gin.Engine) *gin.Engine {
	e.POST("/api/payments", httpx.RequireAuth, httpx.H(a.create))
	return e
}
