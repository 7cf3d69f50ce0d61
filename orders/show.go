package main

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/orders/order"
)

func (a *api) list(c *gin.Context) error {
	user, _ := httpx.CurrentUser(c)
	orders, err := a.store.ByUser(c, user.ID)
	if err != nil {
		return err
	}
	ids := make([]bson.ObjectID, len(orders))
	for i, o := range orders {
		ids[i] = o.TicketID
	}
	tickets, err := a.store.Tickets(c, ids)
	if err != nil {
		return err
	}
	views := make([]order.View, len(orders))
	for i, o := range orders {
		views[i] = o.View(tickets[o.TicketID])
	}
	c.JSON(http.StatusOK, views)
	return nil
}

func (a *api) show(c *gin.Context) error {
	o, err := a.owned(c)
	if err != nil {
		return err
	}
	t, err := a.store.Ticket(c, o.TicketID)
	if err != nil && !errors.Is(err, order.ErrNotFound) {
		return err
	}
	c.JSON(http.StatusOK, o.View(t))
	return nil
}

// owned loads the order of the :id path parameter, checking in the
// contract's order: malformed id, unknown order, not the owner.
func (a *api) owned(c *gin.Context) (order.Order, error) {
	id, err := bson.ObjectIDFromHex(c.Param("id"))
	if err != nil {
		return order.Order{}, apperr.BadRequest("Invalid order id")
	}
	o, err := httpx.Load(c, a.store.Order, id, order.ErrNotFound)
	if err != nil {
		return order.Order{}, err
	}
	if user, _ := httpx.CurrentUser(c); user.ID != o.UserID {
		return order.Order{}, apperr.NotAuthorized()
	}
	return o, nil
}
