package batch

import (
	"context"
	"fmt"

	"github.com/loglambda/loglambda/batch/lake"
)

// saveFirstManifest saves the (empty) manifest of a new lake before its
// first file is written. The manifest is what makes a file part of the
// lake; a later run removes every file it does not name, as the orphan of
// a crashed run, except when there is no manifest at all: that is a lake
// whose manifest was lost, and emptying it would destroy the data. Without
// this, a crash during the very first compaction, after a file was renamed
// into place and before the first manifest was saved, looked exactly like
// a lost manifest, and every later run refused the lake.
func (b *Batch) saveFirstManifest(ctx context.Context, m *lake.Manifest) error {
	has, err := b.lake.HasManifest(ctx)
	if err != nil || has {
		return err
	}
	if err := b.lake.SaveManifest(ctx, m); err != nil {
		return fmt.Errorf("compact: first manifest: %w", err)
	}
	return nil
}
