package mongokit

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestZZMemory(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"file:" + dir + "/?mode=memory", "file:" + dir + "/"} {
		f, err := ferretdb.New(&ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"}, Handler: "sqlite", SQLiteURL: u,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go f.Run(ctx)
		c, _ := mongo.Connect(options.Client().ApplyURI(f.MongoDBURI()))
		coll := c.Database("m").Collection("c")
		coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 0}})
		start := time.Now()
		for range 300 {
			if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "c"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: inc %.0f/s", u, 300/time.Since(start).Seconds())
		start = time.Now()
		for i := range 300 {
			coll.InsertOne(ctx, bson.D{{Key: "i", Value: i}})
		}
		t.Logf("%s: insert %.0f/s", u, 300/time.Since(start).Seconds())
		c.Disconnect(ctx)
		cancel()
	}
	os.Stdout.Sync()
}
