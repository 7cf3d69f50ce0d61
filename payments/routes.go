package main

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/payments/payment"
)

type api struct {
	log     *slog.Logger
	store   *payment.Store
	charger charger
	now     func() time.Time
	// timeout bounds how long a request waits for the orders service's
	// decision; a payment undecided for twice as long is repaired.
	timeout     time.Duration
	staleAfter  time.Duration
	repairEvery time.Duration
	decided     waiters
	settling    [64]sync.Mutex // by the order id's last byte
	refunds     *prometheus.CounterVec
}

// routes is the whole HTTP surface of the payments service.
func (a *api) routes(e *gin.Engine) *gin.Engine {
	e.POST("/api/payments", httpx.RequireAuth, httpx.H(a.create))
	return e
}
