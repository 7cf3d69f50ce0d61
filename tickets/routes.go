package main

import (
	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

type api struct {
	tickets ticket.Store
}

// routes is the whole HTTP surface of the tickets service.
func (a *api) routes(e *gin.Engine) *gin.Engine {
	g := e.Group("/api/tickets")
	g.POST("", httpx.RequireAuth, httpx.H(a.create))
	g.GET("", httpx.H(a.list))
	g.GET("/:id", httpx.H(a.show))
	g.PUT("/:id", httpx.RequireAuth, httpx.H(a.update))
	return e
}
