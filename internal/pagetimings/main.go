// Command pagetimings opens a page in headless Chromium and prints the
// Resource Timing of its API requests (internal/browser), one line each:
// the path, the duration and the server's part (request sent to first
// byte), in ms; then the slowest. ci/scale.sh runs it on the dashboard:
//
//	go run ./internal/pagetimings -url 'http://127.0.0.1:8080/?range=24h'
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/loglambda/loglambda/internal/browser"
)

func main() {
	page := flag.String("url", "http://127.0.0.1:8080/", "the page")
	chromium := flag.String("chromium", "chromium", "the browser")
	filter := flag.String("filter", "/v1/", "time the requests whose URL holds this")
	want := flag.String("want", "/v1/status,/v1/window,/v1/traffic,/v1/hot,/v1/levels,/v1/alerts,/v1/patterns,/v1/clusters,/v1/paths",
		"wait until the page made a request to each (comma separated), or -settle passed")
	settle := flag.Duration("settle", 20*time.Second, "longest wait for the requests")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *settle+time.Minute)
	defer cancel()
	ts, err := browser.ResourceTimings(ctx, *chromium, *page, *filter, strings.Split(*want, ","), *settle)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pagetimings:", err)
		os.Exit(1)
	}
	slowest := browser.Timing{}
	for _, t := range ts {
		path := t.URL
		if u, err := url.Parse(t.URL); err == nil {
			path = u.Path
		}
		fmt.Printf("%s %.1f ms (server %.1f ms)\n", path, t.Duration, t.Wait)
		if t.Duration > slowest.Duration {
			slowest = t
		}
	}
	fmt.Printf("slowest: %.1f ms, %s\n", slowest.Duration, slowest.URL)
}
