package tail

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
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
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Position{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read position file: %w", err)
	}
	var pf positionsFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return nil, fmt.Errorf("read position file %s: %w", path, err)
	}
	if pf.Version != positionsVersion {
		return nil, fmt.Errorf("read position file %s: version %d, want %d", path, pf.Version, positionsVersion)
	}
	if pf.Files == nil {
		pf.Files = map[string]Position{}
	}
	return pf.Files, nil
}

// SavePositions writes the position file atomically: to a temporary file in
// the same directory, synced, then renamed over the old one, so a crash
// leaves either the old or the new positions, never a torn file.
func SavePositions(path string, files map[string]Position) error {
	data, err := json.MarshalIndent(positionsFile{Version: positionsVersion, Updated: time.Now().UTC(), Files: files}, "", "  ")
	if err != nil {
		return fmt.Errorf("write position file %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write position file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write position file %s: %w", path, err)
	}
	return nil
}
