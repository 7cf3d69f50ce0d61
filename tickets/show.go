package main

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

func (a *api) show(c *gin.Context) error {
	id, err := ticketID(c.Param("id"))
	if err != nil {
		return err
	}
	t, err := a.tickets.Get(c, id)
	if errors.Is(err, ticket.ErrNotFound) {
		return apperr.NotFound()
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, t.View())
	return nil
}
