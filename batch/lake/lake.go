package lake

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Lake is the lake of one topic: the directory <root>/<topic>.
type Lake struct {
	root, topic, dir string
}

// Open returns the lake of topic under root, creating its directory.
func Open(root, topic string) (*Lake, error) {
	if topic == "" || strings.ContainsAny(topic, `/\`) || topic == "." || topic == ".." {
		return nil, fmt.Errorf("open lake: topic %q is not a valid directory name", topic)
	}
	dir := filepath.Join(root, topic)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	return &Lake{root: root, topic: topic, dir: dir}, nil
}

// Dir is the topic directory.
func (l *Lake) Dir() string { return l.dir }

// Topic is the lake's topic.
func (l *Lake) Topic() string { return l.topic }

// Abs returns the file system path of a manifest path.
func (l *Lake) Abs(rel string) string { return filepath.Join(l.dir, filepath.FromSlash(rel)) }
