package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// module is this repository's import path; every package below is named
// relative to it.
const module = "github.com/loglambda/loglambda/"

// floorOf says which floor of the house a package (a path relative to the
// module) stands on, by the rule of ARCHITECTURE.md "Layers and imports":
// the commands (the roof) wire the layers; a layer stands on the floor
// (base) and the contracts (schemas); the floor and the contracts stand
// on each other only (the lake's manifest is replaced by base/atomicfile).
func floorOf(pkg string) string {
	top, _, _ := strings.Cut(pkg, "/")
	switch top {
	case "speed", "batch", "serving":
		return "layer:" + top
	case "base":
		return "floor"
	case "schemas":
		return "contracts"
	case "internal", "":
		return "commands"
	}
	return "unknown:" + top
}

// allowed is the import rule itself: may a package on floor `from` import
// one on floor `to`?
func allowed(from, to string) bool {
	switch {
	case from == "commands":
		return true
	case strings.HasPrefix(from, "layer:"):
		return to == from || to == "floor" || to == "contracts"
	case from == "floor", from == "contracts":
		return to == "floor" || to == "contracts"
	}
	return false
}

// TestLayersImport reads the imports of every non-test Go file of the
// module and fails on an import the rule forbids: a layer importing
// another layer or the commands, the floor or the contracts importing a
// layer or the commands. Test files may cross (the
// end-to-end tests start the commands' embedded stores).
func TestLayersImport(t *testing.T) {
	fset := token.NewFileSet()
	seen := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if pkg == "." {
			pkg = ""
		}
		from := floorOf(pkg)
		if strings.HasPrefix(from, "unknown:") {
			t.Errorf("%s: package %q is on no floor of ARCHITECTURE.md; add its folder to floorOf", path, pkg)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			rel, ours := strings.CutPrefix(p, module)
			if !ours {
				continue
			}
			seen++
			if to := floorOf(rel); !allowed(from, to) {
				t.Errorf("%s imports %s: %s may not import %s (ARCHITECTURE.md, Layers and imports)", path, rel, from, to)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 50 {
		t.Fatalf("read only %d imports of this module: the walk missed the tree", seen)
	}
}

// TestLayersRule checks the rule on the cases it exists for, so that a
// change to floorOf or allowed that lets them through fails here.
func TestLayersRule(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"speed", "serving", false},
		{"batch", "speed/x", false},
		{"serving/alerts", "batch/lake", false},
		{"speed", "internal/cli", false},
		{"base/replace", "speed", false},
		{"base/settings", "internal/embedded", false},
		{"schemas/lakefiles", "base/atomicfile", true},
		{"schemas/views", "serving", false},
		{"speed", "base/replace", true},
		{"batch", "batch/lake", true},
		{"serving", "schemas/views", true},
		{"base/settings", "schemas/views", true},
		{"internal/cli", "speed", true},
		{"", "internal/cli", true},
	} {
		if got := allowed(floorOf(c.from), floorOf(c.to)); got != c.ok {
			t.Errorf("%s -> %s: allowed %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}
