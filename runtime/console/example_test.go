package console_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/console"
)

// Mount the console in a server of your own under /dbos/, behind a user
// name and password. http.StripPrefix hands the console the paths it
// expects; its links and redirects keep the prefix.
func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "console-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "app.sqlite")})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := console.New(rt, console.Options{
		Title:    "Acme operations",
		Username: "ops",
		Password: "s3cret", // in a real server, from a secret store or the environment
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dbos/", http.StripPrefix("/dbos", h))
	// Serve mux as usual, for example:
	//	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))

	// Here, a test server and a request for the workflows page.
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, auth := range []bool{false, true} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/dbos/workflows", nil)
		if err != nil {
			log.Fatal(err)
		}
		if auth {
			req.SetBasicAuth("ops", "s3cret")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(res.Status)
	}
	// Output:
	// 401 Unauthorized
	// 200 OK
}
