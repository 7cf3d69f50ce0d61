module github.com/ticketing-go/ticketing/expiration

go 1.26.0

require github.com/ticketing-go/ticketing/common v1.0.0

// The workspace (go.work) resolves common locally; the replace keeps a
// GOWORK=off build (Docker, go mod tidy) on the same source.
replace github.com/ticketing-go/ticketing/common => ../common
