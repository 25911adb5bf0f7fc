package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// dirNames lists the names in dir, so a test can see that no temp file
// was left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.bin")
	for _, content := range []string{"first", "second, longer than the first", ""} {
		if err := Write(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("file holds %q, want %q", got, content)
		}
		if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"state.bin"}) {
			t.Fatalf("directory holds %v, want only state.bin", names)
		}
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("mode %v, want no group or other bits for 0600", st.Mode().Perm())
	}
}

// TestWriteWithFailure: a write that fails leaves the old file as it was
// and no temp file; the error says which file and why.
func TestWriteWithFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "data.parquet")
	if err := Write(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	n, err := WriteWith(p, 0o644, func(w io.Writer) error {
		if _, err := w.Write([]byte("half of the new")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) || n != 0 {
		t.Fatalf("WriteWith = %d, %v; want 0 and an error naming %s wrapping %v", n, err, p, boom)
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Errorf("file holds %q after a failed write, want the old content", got)
	}
	if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"data.parquet"}) {
		t.Errorf("directory holds %v after a failed write, want only data.parquet", names)
	}
}

// TestWriteWithStream: a streaming writer gets a writer it cannot close
// (Parquet's closes a sink that is an io.Closer) and the size is the sum
// of its writes.
func TestWriteWithStream(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stream")
	var want strings.Builder
	n, err := WriteWith(p, 0o644, func(w io.Writer) error {
		if _, ok := w.(io.Closer); ok {
			t.Error("the writer is an io.Closer")
		}
		for i := range 1000 {
			line := strings.Repeat("x", i%37) + "\n"
			want.WriteString(line)
			if _, err := io.WriteString(w, line); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() || n != int64(want.Len()) {
		t.Errorf("wrote %d bytes (size said %d), want %d", len(got), n, want.Len())
	}
}

func TestWriteMissingDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "dir", "f")
	if err := Write(p, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("Write into a missing directory: %v, want an error naming %s", err, p)
	}
}

func TestJSON(t *testing.T) {
	type doc struct {
		Version int            `json:"version"`
		Files   map[string]int `json:"files"`
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "doc.json")

	keep := doc{Version: 7}
	found, err := ReadJSON(p, &keep)
	if found || err != nil || keep.Version != 7 {
		t.Fatalf("missing file: found %v, err %v, value %+v; want false, nil, untouched", found, err, keep)
	}

	in := doc{Version: 1, Files: map[string]int{"a": 1, "b": 22}}
	if err := WriteJSON(p, in, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"version\": 1,\n  \"files\": {\n    \"a\": 1,\n    \"b\": 22\n  }\n}\n"; string(raw) != want {
		t.Errorf("file holds\n%s\nwant indented JSON ending in a newline:\n%s", raw, want)
	}
	var out doc
	if found, err := ReadJSON(p, &out); !found || err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("ReadJSON: found %v, err %v, value %+v; want %+v", found, err, out, in)
	}

	if err := os.WriteFile(p, []byte(`{"version": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if found, err := ReadJSON(p, &out); !found || err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("truncated JSON: found %v, err %v; want found and an error naming %s", found, err, p)
	}
	if err := WriteJSON(p, func() {}, 0o644); err == nil {
		t.Error("WriteJSON of a func: no error")
	}
}

func TestReadError(t *testing.T) {
	// A directory where a file is expected is an error, not "missing".
	dir := t.TempDir()
	if _, found, err := Read(dir); found || err == nil {
		t.Errorf("Read of a directory: found %v, err %v; want an error", found, err)
	}
}
