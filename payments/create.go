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
	"github.com/ticketing-go/ticketing/payments/payment"
)

type createRequest struct {
	Token   string `json:"token" validate:"required,max=500"`
	OrderID string `json:"orderId" validate:"required,mongodb"`
}

func (createRequest) Messages() httpx.Messages {
	return httpx.Messages{"token": "Token must be provided", "orderId": "OrderId must be provided"}
}

func (a *api) create(c *gin.Context) error {
	var req createRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	orderID, _ := bson.ObjectIDFromHex(req.OrderID) // validated above
	o, err := a.store.Order(c, orderID)
	if errors.Is(err, payment.ErrNotFound) {
		return apperr.NotFound()
	}
	if err != nil {
		return err
	}
	if user, _ := httpx.CurrentUser(c); user.ID != o.UserID {
		return apperr.NotAuthorized()
	}
	if o.Status == payment.Cancelled {
		return apperr.BadRequest("Cannot pay for a cancelled order")
	}
	p, err := a.store.Begin(c, req.OrderID, a.now())
	if errors.Is(err, payment.ErrPaid) {
		return apperr.BadRequest("Order is already paid")
	}
	if err != nil {
		return err
	}
	stripeID, err := a.charger.Charge(c, o.Price, req.Token, req.OrderID)
	if err != nil {
		if abortErr := a.store.Abort(context.WithoutCancel(c), p); abortErr != nil {
			return errors.Join(err, abortErr)
		}
		return err
	}
	ev, err := outbox.NewEvent(events.SubjectPaymentCreated, events.PaymentCreated{ID: p.ID.Hex(), OrderID: req.OrderID, StripeID: stripeID})
	if err != nil {
		return err
	}
	if err := a.store.Complete(context.WithoutCancel(c), p, stripeID, ev); err != nil {
		if errors.Is(err, payment.ErrPaid) {
			return apperr.BadRequest("Order is already paid")
		}
		return err
	}
	a.relay.Kick(p.ID)
	c.JSON(http.StatusCreated, gin.H{"id": p.ID.Hex()})
	return nil
}
