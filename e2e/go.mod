module github.com/ticketing-go/ticketing/e2e

go 1.26.0
