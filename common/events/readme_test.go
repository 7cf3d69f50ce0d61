package events_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
)

// fields is the README's field list of a payload type, from what its topic
// actually marshals: keys in wire order, "name?" for a key a zero value
// leaves out, "name:{a, b}" for an object.
func fields(t events.AnyTopic) (string, error) {
	full := reflect.New(reflect.TypeOf(t.Payload())).Elem()
	fill(full)
	filled, err := json.Marshal(full.Interface())
	if err != nil {
		return "", err
	}
	zero, err := json.Marshal(t.Payload())
	if err != nil {
		return "", err
	}
	var z map[string]any
	if err := json.Unmarshal(zero, &z); err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(filled))
	return object(dec, z)
}

// object reads one JSON object from dec and lists its keys.
func object(dec *json.Decoder, zero map[string]any) (string, error) {
	if _, err := dec.Token(); err != nil { // {
		return "", err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		key := tok.(string)
		name := key
		if _, ok := zero[key]; !ok {
			name += "?"
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", err
		}
		if len(raw) > 0 && raw[0] == '{' {
			inner, err := object(json.NewDecoder(bytes.NewReader(raw)), map[string]any{})
			if err != nil {
				return "", err
			}
			// Inside an object, "optional" is not told apart.
			name += ":{" + strings.ReplaceAll(inner, "?", "") + "}"
		}
		keys = append(keys, name)
	}
	_, err := dec.Token() // }
	return strings.Join(keys, ", "), err
}

// fill sets every field of v to a non-zero value.
func fill(v reflect.Value) {
	if v.Type() == reflect.TypeOf(time.Time{}) {
		v.Set(reflect.ValueOf(time.Unix(1, 0)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// checkTable compares the README's event table with the topics: the same
// subjects in the same order, each with its payload's fields.
func checkTable(readme string) error {
	var rows [][]string
	for line := range strings.SplitSeq(readme, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) == 4 && strings.Contains(cells[0], ":") {
			rows = append(rows, cells)
		}
	}
	if len(rows) != len(events.Topics) {
		return fmt.Errorf("README lists %d events, the code has %d topics", len(rows), len(events.Topics))
	}
	for i, topic := range events.Topics {
		subject := strings.Fields(strings.TrimSpace(rows[i][0]))[0]
		if subject != "`"+topic.Subject()+"`" {
			return fmt.Errorf("row %d is %s, want `%s`", i+1, subject, topic.Subject())
		}
		documented, _, _ := strings.Cut(strings.TrimSpace(rows[i][1]), " — ")
		documented = strings.Trim(documented, "`")
		want, err := fields(topic)
		if err != nil {
			return err
		}
		if documented != want {
			return fmt.Errorf("%s: README says fields %q, the payload marshals %q", topic.Subject(), documented, want)
		}
	}
	return nil
}

// TestREADMEEventTable: the README's table of events is what the topics
// publish.
func TestREADMEEventTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkTable(string(readme)); err != nil {
		t.Fatal(err)
	}
}

// TestREADMEEventTableCheckCatchesDrift: a README that names a field the
// payload does not send, or forgets that one is optional, is refused.
func TestREADMEEventTableCheckCatchesDrift(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for name, change := range map[string][2]string{
		"renamed field":     {"`id, version, title, price, userId` | tickets", "`id, version, title, price, userID` | tickets"},
		"optional unmarked": {"userId, orderId?`", "userId, orderId`"},
		"nested field lost": {"ticket:{id, price}", "ticket:{id}"},
		"row missing":       {"| `expiration:complete` | `orderId` | expiration | orders |\n", ""},
	} {
		if !strings.Contains(readme, change[0]) {
			t.Fatalf("%s: README has no %q to change", name, change[0])
		}
		if checkTable(strings.Replace(readme, change[0], change[1], 1)) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
