package formats

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

// timeCase is a time as a log writes it and the instant it reads as.
type timeCase struct {
	in   string
	want time.Time
}

// checkTimes parses every case with tp, ref the time of reading: each must
// read as its instant, in UTC.
func checkTimes(t *testing.T, tp *TimeParser, ref time.Time, cases []timeCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := tp.Parse(tc.in, ref)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTimeParserBuiltin(t *testing.T) {
	ref := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	checkTimes(t, nil, ref, []timeCase{
		{"2015-05-17T10:05:03Z", utc(2015, 5, 17, 10, 5, 3, 0)},
		{"2015-05-17T10:05:03.123456789+02:00", utc(2015, 5, 17, 8, 5, 3, 123456789)},
		{"2015-05-17T10:05:03.5-0700", utc(2015, 5, 17, 17, 5, 3, 500000000)},
		{"2015-05-17T10:05:03", utc(2015, 5, 17, 10, 5, 3, 0)},
		{"2015-05-17 10:05:03,123", utc(2015, 5, 17, 10, 5, 3, 123000000)},
		{"2015-05-17 10:05:03.25 +01:00", utc(2015, 5, 17, 9, 5, 3, 250000000)},
		{"  2015-05-17 10:05:03  ", utc(2015, 5, 17, 10, 5, 3, 0)},
		{"17/May/2015:10:05:03 +0000", utc(2015, 5, 17, 10, 5, 3, 0)},
		{"10/Oct/2000:13:55:36 -0700", utc(2000, 10, 10, 20, 55, 36, 0)},
		{"29/Feb/2024:23:59:59 +0100", utc(2024, 2, 29, 22, 59, 59, 0)},
		// DB2: -300 is five hours west of UTC.
		{"2014-10-19-12.19.46.033037-300", utc(2014, 10, 19, 17, 19, 46, 33037000)},
		{"2014-10-19-12.19.46.033037+060", utc(2014, 10, 19, 11, 19, 46, 33037000)},
		{"2014-10-19-12.19.46.033037", utc(2014, 10, 19, 12, 19, 46, 33037000)},
		{"1431857103", utc(2015, 5, 17, 10, 5, 3, 0)},
		{"1431857103.25", utc(2015, 5, 17, 10, 5, 3, 250000000)},
		{"1431857103123", utc(2015, 5, 17, 10, 5, 3, 123000000)},
		{"1431857103123456", utc(2015, 5, 17, 10, 5, 3, 123456000)},
		{"1431857103123456789", utc(2015, 5, 17, 10, 5, 3, 123456789)},
		{"0", utc(1970, 1, 1, 0, 0, 0, 0)},
		// Syslog has no year: the reference year, or the year before when
		// that would be in the future.
		{"Mar  9 15:04:05", utc(2026, 3, 9, 15, 4, 5, 0)},
		{"Mar 09 15:04:05", utc(2026, 3, 9, 15, 4, 5, 0)},
		{"Dec 31 23:59:59", utc(2025, 12, 31, 23, 59, 59, 0)},
		{"Mar 11 06:00:00", utc(2026, 3, 11, 6, 0, 0, 0)},
		{"Jan  2 15:04:05.123", utc(2026, 1, 2, 15, 4, 5, 123000000)},
		{"Fri Sep  9 10:42:29.902022 2011", utc(2011, 9, 9, 10, 42, 29, 902022000)},
		{"Mon, 02 Jan 2006 15:04:05 -0700", utc(2006, 1, 2, 22, 4, 5, 0)},
	})
}

func TestTimeParserRejects(t *testing.T) {
	for _, in := range []string{
		"", "   ", "yesterday", "32/May/2015:10:05:03 +0000", "31/Feb/2015:10:05:03 +0000",
		"17/Mai/2015:10:05:03 +0000", "17/May/2015:25:05:03 +0000", "17/May/2015:10:05:03 +9900",
		"2015-13-01T00:00:00Z", "2015-05-17T10:05:03+25:00", "2014-10-19-12.19.46.033037-9999",
		"2014-10-19-12.19.46.", "12.5.", "1.2.3", "99999999999999999999", "\x00\xff", strings.Repeat("9", 10000),
	} {
		if got, err := (*TimeParser)(nil).Parse(in, testIngest); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		} else if len(err.Error()) > 200 {
			t.Errorf("Parse(%q): error is %d bytes long", in, len(err.Error()))
		}
	}
}

func TestTimeParserCustomLayouts(t *testing.T) {
	tp, err := NewTimeParser("02.01.2006 15:04:05", "Jan _2 15:04:05.000000")
	if err != nil {
		t.Fatal(err)
	}
	checkTimes(t, tp, testIngest, []timeCase{
		{"17.05.2015 10:05:03", utc(2015, 5, 17, 10, 5, 3, 0)},
		// Custom layouts are tried first: this reads as day.month, where
		// nothing built in would read it at all.
		{"01.02.2015 00:00:00", utc(2015, 2, 1, 0, 0, 0, 0)},
		{"Mar  1 10:00:00.000001", utc(2026, 3, 1, 10, 0, 0, 1000)},
		// Built-in layouts still apply after the custom ones.
		{"2015-05-17T10:05:03Z", utc(2015, 5, 17, 10, 5, 3, 0)},
	})
	if _, err := tp.Parse("17/05/2015", testIngest); err == nil || !strings.Contains(err.Error(), "02.01.2006 15:04:05") {
		t.Errorf("error %v should list the custom layouts", err)
	}
	for _, bad := range []string{"", "  ", "not a layout"} {
		if _, err := NewTimeParser(bad); err == nil {
			t.Errorf("NewTimeParser(%q): want an error", bad)
		}
	}
}

func TestParseTimeUsesCurrentYear(t *testing.T) {
	got, err := ParseTime("Jan  2 15:04:05")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if y := got.Year(); y != now.Year() && y != now.Year()-1 {
		t.Errorf("ParseTime without year gave year %d, now is %d", y, now.Year())
	}
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{
		"2015-05-17T10:05:03Z", "17/May/2015:10:05:03 +0000", "2014-10-19-12.19.46.033037-300",
		"1431857103.25", "Jan  2 15:04:05", "Mon, 02 Jan 2006 15:04:05 -0700", "2014-10-19-12.19.46.",
	} {
		f.Add(s)
	}
	tp, err := NewTimeParser("02.01.2006 15:04")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := tp.Parse(s, testIngest)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Fatalf("error is %d bytes long", len(err.Error()))
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("Parse(%q) = %v, not UTC", s, got)
		}
	})
}

// TestParseRFC3339 holds the built-in layouts with the hand-written RFC
// 3339 reader to what they read without it (epoch, then time.Parse with
// each ISO layout): the same instant, accepted or not alike, over random
// dates of years 0-9999 with fractions of 0-12 digits and zones, and over
// the same texts with one byte changed (out-of-range fields, the 29th of
// February, separators). The reader must take the common shape itself
// (zones within a day), else it saves nothing.
func TestParseRFC3339(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ref := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	check := func(s string) {
		t.Helper()
		got, ok := parseBuiltinTime(s, ref)
		var want time.Time
		wantOK := false
		if want, wantOK = parseEpoch(s); !wantOK && len(s) >= 10 && s[4] == '-' {
			for _, l := range isoLayouts {
				if tm, err := time.Parse(l, s); err == nil {
					want, wantOK = tm, true
					break
				}
			}
		}
		if ok != wantOK || !got.Equal(want) {
			t.Fatalf("parseBuiltinTime(%q) = %v, %v; without the RFC 3339 reader %v, %v", s, got, ok, want, wantOK)
		}
		if _, fast := parseRFC3339(s); !fast && wantOK && rfc3339Shape.MatchString(s) {
			t.Fatalf("parseRFC3339(%q) refused the common shape, read as %v", s, want)
		}
	}
	for _, s := range []string{"2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123Z", "2024-02-29T23:59:59.999999999+14:00",
		"2023-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "1970-01-01T00:00:00+00:00",
		"2026-11-20T24:00:00Z", "2026-11-20T10:60:00Z", "2026-11-20T10:00:60Z", "2026-13-20T10:00:00Z", "2026-00-20T10:00:00Z",
		"2026-11-31T10:00:00Z", "2026-11-20T10:00:00.Z", "2026-11-20T10:00:00.1234567891Z", "2026-11-20T10:00:00+24:00",
		"2026-11-20T10:00:00+01:60", "2026-11-20t10:00:00Z", "2026-11-20T10:00:00z", "2026-11-20T10:00:00", "1900-02-29T00:00:00Z",
		"2000-02-29T00:00:00Z", "2026-11-20T10:00:00+0100", "2026-11-20 10:00:00Z", "-026-11-20T10:00:00Z"} {
		check(s)
	}
	for range 20_000 {
		ts := time.Unix(r.Int64N(253402300800+62135596800)-62135596800, r.Int64N(1e9)).UTC()
		s := ts.Format("2006-01-02T15:04:05")
		if n := r.IntN(13); n > 0 {
			s += "." + fmt.Sprintf("%012d", r.Int64N(1e12))[:n]
		}
		switch r.IntN(3) {
		case 0:
			s += "Z"
		default:
			s += fmt.Sprintf("%c%02d:%02d", "+-"[r.IntN(2)], r.IntN(25), r.IntN(61))
		}
		check(s)
		b := []byte(s)
		b[r.IntN(len(b))] = "0123456789:-+TZ.x"[r.IntN(17)]
		check(string(b))
	}
}

// rfc3339Shape is the text parseRFC3339 must read itself (the date and
// time then checked in range).
var rfc3339Shape = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$`)
