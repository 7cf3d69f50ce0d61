package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

func (a *api) create(c *gin.Context) error {
	var req ticketRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	user, _ := httpx.CurrentUser(c)
	t := ticket.New(req.Title, *req.Price, user.ID)
	ev, err := outbox.NewEvent(events.TopicTicketCreated, t.Created())
	if err != nil {
		return err
	}
	if err := a.tickets.Create(c, t, ev); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, t.View())
	return nil
}
