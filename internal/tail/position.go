package tail

import (
	"fmt"
	"time"

	"github.com/loglambda/loglambda/base/atomicfile"
)

// Position is a place in a file: which file (device and inode, so that a
// rotated file is not mistaken for its successor) and the byte offset just
// past the last line that counts as done.
type Position struct {
	Dev    uint64 `json:"dev"`
	Inode  uint64 `json:"inode"`
	Offset int64  `json:"offset"`
}

// sameFile reports whether p and q are in the same file.
func (p Position) sameFile(q Position) bool { return p.Dev == q.Dev && p.Inode == q.Inode }

// positionsVersion is written into the file so that a later format change
// can be recognised rather than misread.
const positionsVersion = 1

// positionsFile is the JSON layout of the position file:
//
//	{"version": 1, "updated": "2026-11-20T10:01:02Z",
//	 "files": {"/var/log/nginx/access.log": {"dev": 2049, "inode": 1835015, "offset": 73311}}}
//
// Keys are absolute paths. offset is just past the last line whose record
// Kafka acknowledged, with every line before it acknowledged too.
type positionsFile struct {
	Version int                 `json:"version"`
	Updated time.Time           `json:"updated"`
	Files   map[string]Position `json:"files"`
}

// LoadPositions reads a position file. A missing file is no error: it is
// the first run, and every file starts at its beginning.
func LoadPositions(path string) (map[string]Position, error) {
	var pf positionsFile
	found, err := atomicfile.ReadJSON(path, &pf)
	if err != nil {
		return nil, fmt.Errorf("read position file: %w", err)
	}
	if found && pf.Version != positionsVersion {
		return nil, fmt.Errorf("read position file %s: version %d, want %d", path, pf.Version, positionsVersion)
	}
	if pf.Files == nil {
		pf.Files = map[string]Position{}
	}
	return pf.Files, nil
}

// SavePositions writes the position file atomically (base/atomicfile),
// so a crash leaves either the old or the new positions, never a torn file.
func SavePositions(path string, files map[string]Position) error {
	pf := positionsFile{Version: positionsVersion, Updated: time.Now().UTC(), Files: files}
	if err := atomicfile.WriteJSON(path, pf, 0o600); err != nil {
		return fmt.Errorf("write position file: %w", err)
	}
	return nil
}
