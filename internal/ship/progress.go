package ship

import (
	"context"
	"fmt"
	"io"
	"time"
)

// progressInterval: at most 4 updates a second, readable and cheap.
const progressInterval = 250 * time.Millisecond

// runProgress rewrites one progress line on w until ctx is done, then ends
// it with a newline so the summary starts on its own line.
func runProgress(ctx context.Context, w io.Writer, c *counters, start time.Time) {
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	var lastLines int64
	last := start
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(w, "\n")
			return
		case now := <-t.C:
			s := c.summary()
			rate := float64(s.Lines-lastLines) / now.Sub(last).Seconds()
			lastLines, last = s.Lines, now
			fmt.Fprintf(w, "\r%d lines, %s read, %d acked, %.0f lines/s   ", s.Lines, humanBytes(s.Bytes), s.AckedLines, rate)
		}
	}
}
