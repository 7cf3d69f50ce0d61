package mongokit

import "testing"

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		uri, name, want string
	}{
		{"mongodb://127.0.0.1:27017/", "orders", "mongodb://127.0.0.1:27017/orders"},
		{"mongodb://127.0.0.1:27017", "orders", "mongodb://127.0.0.1:27017/orders"},
		{"mongodb://h:1/old", "orders", "mongodb://h:1/orders"},
		{"mongodb://u:p%2F@h1:1,h2:2/admin?authSource=admin&w=1", "orders", "mongodb://u:p%2F@h1:1,h2:2/orders?authSource=admin&w=1"},
		{"mongodb://h:1/?replicaSet=rs", "orders", "mongodb://h:1/orders?replicaSet=rs"},
		{"mongodb://h:1/orders?x=1", "", "mongodb://h:1/?x=1"},
		{"mongodb+srv://cluster.example/db", "t1", "mongodb+srv://cluster.example/t1"},
	}
	for _, tt := range tests {
		got := WithDatabase(tt.uri, tt.name)
		if got != tt.want {
			t.Errorf("WithDatabase(%q, %q) = %q, want %q", tt.uri, tt.name, got, tt.want)
		}
		if n := DatabaseName(got); n != tt.name {
			t.Errorf("DatabaseName(%q) = %q, want %q", got, n, tt.name)
		}
	}
}

func TestDatabaseURIsAreDistinct(t *testing.T) {
	a, b := DatabaseURI(t), DatabaseURI(t)
	if a == b || DatabaseName(a) == "" {
		t.Fatalf("%q and %q", a, b)
	}
}
