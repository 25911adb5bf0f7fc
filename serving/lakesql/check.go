package lakesql

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// ErrRejected is wrapped by the error of a statement that is not a single
// read-only query.
var ErrRejected = errors.New("rejected")

// readKeywords are the first words of the statements allowed. DuckDB
// rewrites some other statements into SELECTs (PRAGMA version prepares as
// a SELECT of pragma_version()), so the statement type alone is not
// enough: the text must also start like a query.
var readKeywords = map[string]bool{
	"SELECT": true, "WITH": true, "FROM": true, "VALUES": true, "TABLE": true,
	"DESCRIBE": true, "SHOW": true, "SUMMARIZE": true, "EXPLAIN": true,
}

// firstWord returns the first keyword of q in upper case (or "(" for a
// parenthesized query) and the text after it, skipping white space and
// comments.
func firstWord(q string) (word, rest string) {
	for {
		q = strings.TrimLeftFunc(q, unicode.IsSpace)
		switch {
		case strings.HasPrefix(q, "--"):
			if i := strings.IndexByte(q, '\n'); i >= 0 {
				q = q[i+1:]
			} else {
				q = ""
			}
		case strings.HasPrefix(q, "/*"):
			if i := strings.Index(q[2:], "*/"); i >= 0 {
				q = q[2+i+2:]
			} else {
				q = ""
			}
		case strings.HasPrefix(q, "("):
			return "(", q[1:]
		default:
			i := strings.IndexFunc(q, func(r rune) bool { return !(unicode.IsLetter(r) || r == '_') })
			if i < 0 {
				i = len(q)
			}
			return strings.ToUpper(q[:i]), q[i:]
		}
	}
}

// checkText refuses a statement whose first word is not a query's.
func checkText(q string) error {
	w, _ := firstWord(q)
	if w == "" {
		return fmt.Errorf("%w: the query is empty", ErrRejected)
	}
	if w != "(" && !readKeywords[w] {
		return fmt.Errorf("%w: %s statements are not allowed: only a single SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN query over the lake", ErrRejected, w)
	}
	return nil
}

// explainTarget returns the statement an EXPLAIN [ANALYZE] explains, or
// ok false when q is not a plain EXPLAIN (EXPLAIN (options) ... is
// refused rather than parsed by hand).
func explainTarget(q string) (inner string, ok bool) {
	w, rest := firstWord(q)
	if w != "EXPLAIN" {
		return "", false
	}
	if w2, rest2 := firstWord(rest); w2 == "ANALYZE" || w2 == "ANALYSE" {
		rest = rest2
	}
	if w3, _ := firstWord(rest); w3 == "(" {
		return "", false
	}
	return rest, true
}

// checkType refuses a prepared statement that is not a SELECT or EXPLAIN.
func checkType(q string, t duckdb.StmtType) error {
	switch t {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN:
		return nil
	}
	w, _ := firstWord(q)
	return fmt.Errorf("%w: %s is not a read-only query (DuckDB statement type %d)", ErrRejected, w, t)
}
