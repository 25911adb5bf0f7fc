package formats

import (
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
