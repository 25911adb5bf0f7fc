package lake

import (
	"fmt"
	"path"
	"time"

	"github.com/loglambda/loglambda/base/atomicfile"
	"github.com/loglambda/loglambda/schemas/lakefiles"
)

// HourDir is the directory of an event-time hour relative to the topic
// directory (lakefiles.HourDir: the layout readers glob).
func HourDir(hour time.Time) string { return lakefiles.HourDir(hour) }

// FileName is the name of a lake file holding the rows of one partition
// from firstOffset to lastOffset (inclusive) in one hour. Deriving the name
// from the offsets makes a repeated compaction of the same records write
// the same file, never a second copy.
func FileName(partition int32, firstOffset, lastOffset int64) string {
	return fmt.Sprintf("p%d-%d-%d.parquet", partition, firstOffset, lastOffset)
}

// FilePath is the path of a lake file relative to the topic directory,
// with forward slashes (it is stored in the manifest).
func FilePath(hour time.Time, partition int32, firstOffset, lastOffset int64) string {
	return path.Join(HourDir(hour), FileName(partition, firstOffset, lastOffset))
}

// Hour returns the start of the UTC hour holding t.
func Hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// tempSuffix marks files being written (package atomicfile names them);
// they are renamed when complete and removed as orphans when a run dies
// before that.
const tempSuffix = atomicfile.TempSuffix
