package main

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/orders/order"
)

type api struct {
	log    *slog.Logger
	store  *order.Store
	window time.Duration
	now    func() time.Time
}

// routes is the whole HTTP surface of the orders service.
func (a *api) routes(e *gin.Engine) *gin.Engine {
	g := e.Group("/api/orders", httpx.RequireAuth)
	g.POST("", httpx.H(a.create))
	g.GET("", httpx.H(a.list))
	g.GET("/:id", httpx.H(a.show))
	g.DELETE("/:id", httpx.H(a.cancel))
	return e
}
