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

// create pays for an order (CONTRACT §6). The card is authorized first and
// the orders service decides (payment:authorized → order:completed or
// order:cancelled); the answer waits for that decision, so 201 means the
// order is paid and charged, and 400 means it is not and nothing is taken.
func (a *api) create(c *gin.Context) error {
	var req createRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	orderID, _ := bson.ObjectIDFromHex(req.OrderID) // validated above
	o, err := httpx.Load(c, a.store.Order, orderID, payment.ErrNotFound)
	if err != nil {
		return err
	}
	if user, _ := httpx.CurrentUser(c); user.ID != o.UserID {
		return apperr.NotAuthorized()
	}
	now := a.now()
	switch {
	case o.Status == payment.Complete:
		return errAlreadyPaid
	case o.Status == payment.Cancelled || o.Expired(now):
		return a.notPaid(o)
	}
	ctx, cancel := context.WithTimeout(c, a.timeout)
	defer cancel()
	// Waiting starts before the payment is written, so a decision taken
	// before the wait begins is not missed; leaving wakes any other request
	// for the order (it looks again) and drops the wait.
	w := a.decided.wait(req.OrderID)
	defer a.decided.wake(req.OrderID, nil)
	p, started, err := a.store.Begin(ctx, req.OrderID, req.Token, o.Price, now)
	if err != nil {
		return err
	}
	if started {
		if p, err = a.authorize(ctx, p); err != nil {
			return err
		}
	}
	// Another request's payment is followed to its end like our own.
	p, err = a.await(ctx, p, w)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errUndecided
	case err != nil:
		return err
	case p.State.Paid() && started:
		c.JSON(http.StatusCreated, gin.H{"id": p.ID.Hex()})
		return nil
	case p.State.Paid():
		return errAlreadyPaid
	}
	if o, err = a.store.Order(c, orderID); err != nil {
		return err
	}
	return a.notPaid(o)
}

var (
	errAlreadyPaid = apperr.BadRequest("Order is already paid")
	// errUndecided: the orders service did not decide in time (it or the
	// bus is slow or down). Nothing is captured; the authorization follows
	// the order's outcome: captured if it ends paid by it, released if not.
	errUndecided = &apperr.Error{Status: http.StatusServiceUnavailable, Entries: []apperr.FieldError{{
		Message: "The payment could not be confirmed yet; nothing has been charged. Check the order before paying again"}}}
)

// notPaid is the refusal for an order that is not payable.
func (a *api) notPaid(o payment.Order) error {
	if o.Expired(a.now()) {
		return apperr.BadRequest("Order has expired")
	}
	return apperr.BadRequest("Cannot pay for a cancelled order")
}

// authorize asks the provider to hold the amount and tells the orders
// service (payment:authorized, stored with the state change). A card the
// provider refuses leaves no record; any other failure leaves the payment
// pending, for a retry to take over and the repair pass to release if the
// order ends unpaid. A payment released meanwhile (the order was cancelled
// while the provider answered) is returned as it is.
func (a *api) authorize(ctx context.Context, p payment.Payment) (payment.Payment, error) {
	stripeID, err := a.charger.Authorize(ctx, p.Amount, p.Token, p.OrderID)
	store := context.WithoutCancel(ctx) // what the provider did must be recorded
	if err != nil {
		if !errors.Is(err, errRefused) {
			return p, err
		}
		if abortErr := a.store.Abort(store, p); errors.Is(abortErr, payment.ErrChanged) {
			return a.store.Payment(store, p.OrderID)
		} else if abortErr != nil {
			return p, errors.Join(err, abortErr)
		}
		return p, err
	}
	ev, err := outbox.NewEvent(events.TopicPaymentAuthorized, events.PaymentAuthorized{ID: p.ID.Hex(), OrderID: p.OrderID, StripeID: stripeID})
	if err != nil {
		return p, err
	}
	// The decision's settle starts from the payment as this write makes it;
	// held before the write, as the event may be decided before the write
	// returns (a copy the write then fails to make is only stale).
	held := p
	held.State, held.StripeID = payment.Authorized, stripeID
	a.decided.hold(held)
	next, err := a.store.Move(store, p, payment.Authorized, stripeID, &ev)
	if errors.Is(err, payment.ErrChanged) {
		return a.store.Payment(store, p.OrderID)
	}
	if err != nil {
		return p, err
	}
	return next, nil
}
