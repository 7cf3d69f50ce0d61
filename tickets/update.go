package main

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

// update checks in the contract's order — validation, malformed id, unknown
// ticket, then the owner before "reserved" (so a stranger learns nothing of a
// ticket's state from trying to edit it), and last the version (409).
func (a *api) update(c *gin.Context) error {
	var req ticketRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	id, err := ticketID(c.Param("id"))
	if err != nil {
		return err
	}
	t, err := httpx.Load(c, a.tickets.Get, id, ticket.ErrNotFound)
	if err != nil {
		return err
	}
	if user, _ := httpx.CurrentUser(c); user.ID != t.UserID {
		return apperr.NotAuthorized()
	}
	if t.Reserved() {
		return apperr.BadRequest("Cannot edit a reserved ticket")
	}
	if req.Version != nil && *req.Version != t.Version {
		return apperr.Conflict("Ticket")
	}
	next := t.Next(func(n *ticket.Ticket) { n.Title, n.Price = req.Title, *req.Price })
	ev, err := outbox.NewEvent(events.TopicTicketUpdated, next.Updated())
	if err != nil {
		return err
	}
	if err := a.tickets.Save(c, next, ev); err != nil {
		if errors.Is(err, ticket.ErrConflict) {
			return a.lostRace(c, id)
		}
		return err
	}
	c.JSON(http.StatusOK, next.View())
	return nil
}

// lostRace explains a failed versioned save: an order reserved the ticket in
// the meantime (400, as if we had seen it), or someone else edited it (409).
func (a *api) lostRace(c *gin.Context, id bson.ObjectID) error {
	if t, err := a.tickets.Get(c, id); err == nil && t.Reserved() {
		return apperr.BadRequest("Cannot edit a reserved ticket")
	}
	return apperr.Conflict("Ticket")
}
