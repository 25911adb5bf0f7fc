package formats

import (
	"reflect"
	"strings"
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

// parseCase is a line, the parser spec it goes through, and the event it
// must give.
type parseCase struct {
	name, spec, line string
	want             event.Event
}

// runParseCases parses each case's line with a parser of its spec and
// checks the event (checkEvent), a subtest each.
func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWith(mustParser(t, tc.spec), tc.line)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkEvent(t, tc.line, got, tc.want)
		})
	}
}

// newErrorCase is a spec New must refuse, with a part of its error.
type newErrorCase struct{ spec, wantErr string }

// checkNewErrors checks New refuses each spec with an error naming what is
// wrong.
func checkNewErrors(t *testing.T, cases []newErrorCase) {
	t.Helper()
	for _, tc := range cases {
		if _, err := New(tc.spec); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("New(%q): error %v, want it to contain %q", tc.spec, err, tc.wantErr)
		}
	}
}
