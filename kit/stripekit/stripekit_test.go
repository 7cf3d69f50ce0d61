package stripekit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/stripekit"
)

// post sends a form-encoded API request the way Stripe's clients do.
func post(t *testing.T, base, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("%s: decoding the reply: %v", path, err)
	}
	return res.StatusCode, body
}

func TestChargeWithTestToken(t *testing.T) {
	status, charge := post(t, stripekit.BaseURL(t), "/v1/charges", url.Values{
		"amount": {"2000"}, "currency": {"usd"}, "source": {"tok_visa"},
	})
	if status != http.StatusOK || charge["object"] != "charge" || charge["id"] == "" {
		t.Fatalf("status %d, body %v", status, charge)
	}
}

func TestPaymentIntentConfirmed(t *testing.T) {
	status, pi := post(t, stripekit.BaseURL(t), "/v1/payment_intents", url.Values{
		"amount": {"2000"}, "currency": {"usd"}, "payment_method": {"pm_card_visa"}, "confirm": {"true"},
	})
	if status != http.StatusOK || pi["object"] != "payment_intent" {
		t.Fatalf("status %d, body %v", status, pi)
	}
}

// TestInvalidRequestsAreRejected: the mock validates requests against
// Stripe's API spec, so a client bug shows up as an error, as it would live.
func TestInvalidRequestsAreRejected(t *testing.T) {
	status, body := post(t, stripekit.BaseURL(t), "/v1/charges", url.Values{"amount": {"twenty"}, "currency": {"usd"}, "source": {"tok_visa"}})
	if status != http.StatusBadRequest || body["error"] == nil {
		t.Fatalf("status %d, body %v", status, body)
	}
}

func TestStopEndsTheMock(t *testing.T) {
	m, err := stripekit.Start(t.Context(), stripekit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := http.Get(m.URL() + "/v1/charges"); err == nil {
		t.Fatal("the mock still answers after Stop")
	}
}

// TestVersionMatchesGoMod: the cached binary is named after Version, so it
// must follow the pin when stripe-mock is upgraded.
func TestVersionMatchesGoMod(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Version}}", "github.com/stripe/stripe-mock").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != stripekit.Version {
		t.Fatalf("kit/go.mod pins %s, stripekit.Version is %s", got, stripekit.Version)
	}
}

// make run says when its first start compiles stripe-mock: Cached must
// agree with Binary.
func TestCachedOnceBuilt(t *testing.T) {
	if _, err := stripekit.Binary(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !stripekit.Cached() {
		t.Error("Cached is false after Binary built or found the binary")
	}
}
