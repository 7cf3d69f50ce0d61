package events

// EntityID names the entity an event is about, for listeners that keep a
// copy of it (common/replica.ByID).
func (e TicketCreated) EntityID() string { return e.ID }

// EntityID names the ticket.
func (e TicketUpdated) EntityID() string { return e.ID }

// EntityID names the order.
func (e OrderCreated) EntityID() string { return e.ID }

// EntityID names the order.
func (e OrderCancelled) EntityID() string { return e.ID }

// EntityID names the order.
func (e OrderCompleted) EntityID() string { return e.ID }
