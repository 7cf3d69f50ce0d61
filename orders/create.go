package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/orders/order"
)

type createRequest struct {
	TicketID string `json:"ticketId" validate:"required,mongodb"`
}

func (createRequest) Messages() httpx.Messages {
	return httpx.Messages{"ticketId": "TicketId must be provided"}
}

func (a *api) create(c *gin.Context) error {
	var req createRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	ticketID, _ := bson.ObjectIDFromHex(req.TicketID) // validated above
	t, err := httpx.Load(c, a.store.Ticket, ticketID, order.ErrNotFound)
	if err != nil {
		return err
	}
	user, _ := httpx.CurrentUser(c)
	if t.UserID == user.ID {
		return apperr.BadRequest("Cannot order your own ticket")
	}
	o := order.Order{ID: bson.NewObjectID(), UserID: user.ID, Status: order.Created,
		ExpiresAt: a.now().Add(a.window).UTC().Truncate(1e6), TicketID: t.ID}
	ev, err := outbox.NewEvent(events.TopicOrderCreated, o.Created(t))
	if err != nil {
		return err
	}
	if err := a.store.Claim(c, t.ID, o.ID); err != nil {
		if errors.Is(err, order.ErrReserved) {
			return apperr.BadRequest("Ticket is already reserved")
		}
		return err
	}
	if err := a.store.Insert(c, o, ev); err != nil {
		// Give the ticket back; if even that fails, the claim of an order
		// that does not exist is taken over once it is old enough.
		_ = a.store.Release(context.WithoutCancel(c), t.ID, o.ID)
		return err
	}
	c.JSON(http.StatusCreated, o.View(t))
	return nil
}
