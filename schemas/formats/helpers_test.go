package formats

import (
	"reflect"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// testIngest is the ingest time given to every parsed line in tests; it is
// also the reference time for timestamps without a year.
var testIngest = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// parseWith runs p over line the way ParseLine does before its fix-ups: ev
// starts with only the ingest time set.
func parseWith(p Parser, line string) (event.Event, error) {
	ev := event.Event{IngestTime: testIngest}
	err := p.Parse([]byte(line), &ev)
	return ev, err
}

// mustParser builds the parser of spec or fails the test.
func mustParser(t testing.TB, spec string) Parser {
	t.Helper()
	p, err := New(spec)
	if err != nil {
		t.Fatalf("New(%q): %v", spec, err)
	}
	return p
}

// utc is a shorthand for expected times.
func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

// checkEvent compares the parsed fields of got with want (Raw, provenance
// and IngestTime are set by the caller, not the parser, and are ignored).
func checkEvent(t *testing.T, line string, got, want event.Event) {
	t.Helper()
	want.IngestTime = got.IngestTime
	if len(want.Fields) == 0 && len(got.Fields) == 0 {
		want.Fields, got.Fields = nil, nil
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("line %q: Time = %v, want %v", line, got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("line %q:\n got  %+v\n want %+v", line, got, want)
	}
}
