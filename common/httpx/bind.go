package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/ticketing-go/ticketing/common/apperr"
)

// Messages maps "<json field>.<validate tag>" to the message the client sees,
// e.g. "email.email": "Email must be valid". A request type provides it by
// implementing Messager. "<field>" alone is the fallback for any rule of that
// field, and for a value of the wrong JSON type.
type Messages map[string]string

// Messager is implemented by request structs to name their rules' messages.
type Messager interface{ Messages() Messages }

// Normalizer is implemented by request structs that clean their values
// (trim, lower-case) after decoding and before validation.
type Normalizer interface{ Normalize() }

// Checker is implemented by request structs with rules that tags cannot
// express; it returns one entry per broken rule.
type Checker interface{ Check() []apperr.FieldError }

var validate = sync.OnceValue(func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by the JSON key the client sent, not the Go name.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
})

// BindJSON decodes the request body into dst (a pointer to a struct) and
// validates it. It is used instead of gin's ShouldBindJSON so that a body that
// is not an object, a value of the wrong type and a body over the limit each
// get their own clear entry in the envelope. An empty body counts as {} so the
// client learns every missing field at once.
func BindJSON(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return apperr.TooLarge()
		}
		return apperr.BadRequest("Could not read the request body")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		if !json.Valid(body) {
			return apperr.BadRequest("Request body must be valid JSON")
		}
		return apperr.BadRequest("Request body must be a JSON object")
	}
	msgs := Messages{}
	if m, ok := dst.(Messager); ok {
		msgs = m.Messages()
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return apperr.Validation(fieldError(msgs, typeErr.Field, "type"))
		case errors.As(err, &syntaxErr):
			return apperr.BadRequest("Request body must be valid JSON")
		default:
			// A field type's own UnmarshalJSON refused the value (e.g. a
			// price with three decimals); the error does not say which
			// field, so find the first field that fails on its own.
			if f := failingField(body, dst); f != "" {
				return apperr.Validation(fieldError(msgs, f, "type"))
			}
			return apperr.BadRequest("Request body must be valid JSON")
		}
	}
	if n, ok := dst.(Normalizer); ok {
		n.Normalize()
	}
	var entries []apperr.FieldError
	if err := validate().Struct(dst); err != nil {
		var verrs validator.ValidationErrors
		if !errors.As(err, &verrs) {
			return apperr.Internal(err)
		}
		for _, fe := range verrs {
			entries = append(entries, fieldError(msgs, fe.Field(), fe.Tag()))
		}
	}
	if ch, ok := dst.(Checker); ok {
		entries = append(entries, ch.Check()...)
	}
	if len(entries) > 0 {
		return apperr.Validation(entries...)
	}
	return nil
}

func fieldError(msgs Messages, field, tag string) apperr.FieldError {
	if m, ok := msgs[field+"."+tag]; ok {
		return apperr.FieldError{Message: m, Field: field}
	}
	if m, ok := msgs[field]; ok {
		return apperr.FieldError{Message: m, Field: field}
	}
	return apperr.FieldError{Message: "Invalid value for " + field, Field: field}
}

// failingField decodes each top-level key of body into a fresh copy of dst on
// its own and returns the first key that fails.
func failingField(body []byte, dst any) string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return ""
	}
	t := reflect.TypeOf(dst).Elem()
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := raw[k]
		probe := reflect.New(t).Interface()
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		if json.Unmarshal(one, probe) != nil {
			return k
		}
	}
	return ""
}
