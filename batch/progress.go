package batch

import (
	"github.com/schollz/progressbar/v3"
)

// progress is a progress bar of records read, or nothing when no writer
// was configured (not a terminal): logs and pipes get no escape codes.
type progress struct {
	bar *progressbar.ProgressBar
}

func (b *Batch) newProgress(total int64, what string) *progress {
	if b.cfg.progress == nil || total <= 0 {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.cfg.progress),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(200_000_000), // 200ms: redraws are not free
		progressbar.OptionClearOnFinish(),
	)}
}

func (p *progress) add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
