package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

func (a *api) show(c *gin.Context) error {
	id, err := ticketID(c.Param("id"))
	if err != nil {
		return err
	}
	t, err := httpx.Load(c, a.tickets.Get, id, ticket.ErrNotFound)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, t.View())
	return nil
}
