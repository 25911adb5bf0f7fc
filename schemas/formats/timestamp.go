package formats

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeParser reads the event time of a line. The zero value (and a nil
// pointer) knows the built-in layouts; NewTimeParser adds custom Go layouts
// (--time-layout), which are tried before the built-in ones so that an
// operator can override a guess that reads their logs wrongly.
//
// Built-in layouts, chosen by the shape of the text so that a line costs one
// attempt rather than a walk through every layout:
//
//	2015-05-17T10:05:03.123Z           RFC 3339, with or without fraction
//	2015-05-17 10:05:03,123            space instead of T, ',' or '.' fraction
//	2015-05-17T10:05:03-0700           numeric zone without colon (Java)
//	17/May/2015:10:05:03 +0000         access log
//	2014-10-19-12.19.46.033037-300     DB2: the trailing -300 is minutes from UTC
//	1431857103, 1431857103.5           epoch seconds
//	1431857103123                      epoch milliseconds (also µs and ns,
//	                                   told apart by magnitude)
//	Jan  2 15:04:05                    syslog (RFC 3164), no year
//	Mon Jan  2 15:04:05 2006           ANSI C, Apache error log
//	Mon, 02 Jan 2006 15:04:05 -0700    RFC 1123 (HTTP dates)
//
// A time without a zone is UTC. A time without a year (syslog) takes the
// year of the reference time given to Parse (the ingest time), and the year
// before when that would put it more than a day after the reference: a
// "Dec 31 23:59:59" line read on January 1st belongs to the old year.
//
// A TimeParser is read-only after construction and safe for concurrent use.
type TimeParser struct {
	layouts []string
}

// NewTimeParser returns a TimeParser that tries layouts (Go reference-time
// layouts, as for time.Parse) before the built-in ones. A layout with no
// date or time element is rejected: it would match only itself, which is
// always an operator's typo.
func NewTimeParser(layouts ...string) (*TimeParser, error) {
	probe := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, l := range layouts {
		if strings.TrimSpace(l) == "" {
			return nil, errors.New("time layout is empty")
		}
		if probe.Format(l) == l {
			return nil, fmt.Errorf("time layout %q has no date or time element (layouts are written with Go's reference time, e.g. 2006-01-02 15:04:05)", l)
		}
	}
	return &TimeParser{layouts: append([]string(nil), layouts...)}, nil
}

// Layouts returns the custom layouts, in the order they are tried.
func (tp *TimeParser) Layouts() []string {
	if tp == nil {
		return nil
	}
	return append([]string(nil), tp.layouts...)
}

// ParseTime reads a timestamp in one of the built-in layouts (see
// TimeParser). A time without a year takes the current year.
func ParseTime(s string) (time.Time, error) {
	return (*TimeParser)(nil).Parse(s, time.Now())
}

// Parse reads s as a time, in UTC. ref is the reference time for layouts
// without a year (the ingest time; zero means now).
func (tp *TimeParser) Parse(s string, ref time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	if tp != nil {
		for _, l := range tp.layouts {
			if t, err := time.Parse(l, s); err == nil {
				return withYear(t, ref).UTC(), nil
			}
		}
	}
	t, ok := parseBuiltinTime(s, ref)
	if !ok {
		if tp != nil && len(tp.layouts) > 0 {
			return time.Time{}, fmt.Errorf("unrecognised time %q (tried layouts %q and the built-in ones)", clip(s), tp.layouts)
		}
		return time.Time{}, fmt.Errorf("unrecognised time %q", clip(s))
	}
	return t.UTC(), nil
}

// isoLayouts are the ISO 8601 shapes tried, in order, for text that starts
// with "YYYY-". A fraction after the seconds (with '.' or ',') is accepted by
// time.Parse even where the layout does not show one.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999 Z07:00",
	"2006-01-02 15:04:05.999999999 Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04",
}

// wordLayouts are tried for text that starts with a letter.
var wordLayouts = []string{
	time.Stamp,                 // Jan _2 15:04:05 (syslog)
	"Jan _2 2006 15:04:05",     // syslog with year (Cisco, rsyslog templates)
	time.ANSIC,                 // Mon Jan _2 15:04:05 2006
	time.UnixDate,              // Mon Jan _2 15:04:05 MST 2006
	time.RFC1123Z,              // Mon, 02 Jan 2006 15:04:05 -0700
	time.RFC1123,               // Mon, 02 Jan 2006 15:04:05 MST
	"Mon Jan _2 2006 15:04:05", // JavaScript Date.toString without zone
}

// parseBuiltinTime reads s in a built-in layout; s is trimmed and not empty.
func parseBuiltinTime(s string, ref time.Time) (time.Time, bool) {
	c := s[0]
	switch {
	case c >= '0' && c <= '9':
		if t, ok := parseRFC3339(s); ok {
			return t, true
		}
		if t, ok := parseEpoch(s); ok {
			return t, true
		}
		if len(s) >= 19 && s[4] == '-' && s[10] == '-' && s[13] == '.' {
			return parseDB2Time(s)
		}
		if len(s) >= 10 && s[4] == '-' {
			for _, l := range isoLayouts {
				if t, err := time.Parse(l, s); err == nil {
					return t, true
				}
			}
			return time.Time{}, false
		}
		if len(s) >= 20 && s[2] == '/' {
			return parseAccessTime(s)
		}
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		for _, l := range wordLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return withYear(t, ref), true
			}
		}
	}
	return time.Time{}, false
}

// parseRFC3339 reads the RFC 3339 time 2026-11-20T10:00:00.123Z (a
// fraction of 1 to 9 digits, a zone Z or +hh:mm) by hand, accepting what
// time.Parse(time.RFC3339Nano) accepts of that shape (fields in range,
// the day in its month) and giving the same instant; any other text,
// false, and the layouts after it decide. It is the time of nearly every
// JSON line, and time.Parse cost a sixth of parsing one.
func parseRFC3339(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num4(s[0:4])
	month, ok2 := num2(s[5:7])
	day, ok3 := num2(s[8:10])
	hour, ok4 := num2(s[11:13])
	minute, ok5 := num2(s[14:16])
	sec, ok6 := num2(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysInMonth(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	var nsec int64
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		nsec = fractionNanos(rest[1:n])
		rest = rest[n:]
	}
	var off int64
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		zh, ok1 := num2(rest[1:3])
		zm, ok2 := num2(rest[4:6])
		if !ok1 || !ok2 || zh > 23 || zm > 59 {
			return time.Time{}, false
		}
		off = int64(zh*3600 + zm*60)
		if rest[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - off
	return time.Unix(unix, nsec).UTC(), true
}

// daysInMonth is the number of days of month (1-12) in year.
func daysInMonth(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the date (the
// proleptic Gregorian calendar, as package time counts; Howard Hinnant's
// days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	m := int64(month)
	if m > 2 {
		m -= 3
	} else {
		m += 9
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// withYear gives a time parsed without a year (year 0) the year of ref, or
// the year before when that would be more than a day after ref.
func withYear(t, ref time.Time) time.Time {
	if t.Year() != 0 {
		return t
	}
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.UTC()
	y := ref.Year()
	out := time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	if out.After(ref.Add(24 * time.Hour)) {
		out = time.Date(y-1, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	}
	return out
}

// parseEpoch reads digits with an optional fraction as a Unix time. The unit
// is told apart by the number of integer digits: up to 11 are seconds (1e11 s
// is the year 5138), up to 14 milliseconds, up to 17 microseconds, up to 19
// nanoseconds.
func parseEpoch(s string) (time.Time, bool) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 19 || !allDigits(intPart) || hasFrac && (frac == "" || !allDigits(frac)) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	// fracNS is the fraction as nanoseconds of one unit.
	fracNS := fractionNanos(frac)
	switch d := len(intPart); {
	case d <= 11:
		return time.Unix(n, fracNS), true
	case d <= 14:
		return time.UnixMilli(n).Add(time.Duration(fracNS / 1e6)), true
	case d <= 17:
		return time.UnixMicro(n).Add(time.Duration(fracNS / 1e3)), true
	default:
		return time.Unix(0, n), true
	}
}

// fractionNanos reads the decimal digits of a fraction (the part after the
// point) in billionths of the unit: nanoseconds for a fraction of a
// second. Digits past the ninth are cut.
func fractionNanos(digits string) int64 {
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(digits) {
			ns += int64(digits[i] - '0')
		}
	}
	return ns
}

// parseDB2Time reads the DB2 diagnostic log time 2014-10-19-12.19.46.033037-300,
// whose trailing signed number is the offset from UTC in minutes.
func parseDB2Time(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02-15.04.05", s[:19])
	if err != nil {
		return time.Time{}, false
	}
	rest := s[19:]
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		digits := rest[1:i]
		if digits == "" {
			return time.Time{}, false
		}
		t = t.Add(time.Duration(fractionNanos(digits)))
		rest = rest[i:]
	}
	if rest == "" {
		return t, true
	}
	if rest[0] != '+' && rest[0] != '-' || len(rest) < 2 || len(rest) > 5 || !allDigits(rest[1:]) {
		return time.Time{}, false
	}
	mins, _ := strconv.Atoi(rest[1:])
	if mins > 18*60 {
		return time.Time{}, false
	}
	if rest[0] == '+' {
		mins = -mins
	}
	// t was read as UTC; local = UTC + offset, so UTC = local - offset.
	return t.Add(time.Duration(mins) * time.Minute), true
}

// parseAccessTime reads the access-log time 17/May/2015:10:05:03 +0000 by
// hand: it is on every line of the busiest format, and time.Parse costs
// several times more.
func parseAccessTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := num2(s[0:2])
	month := monthNumber(s[3:6])
	year, ok2 := num4(s[7:11])
	hour, ok3 := num2(s[12:14])
	minute, ok4 := num2(s[15:17])
	sec, ok5 := num2(s[18:20])
	zh, ok6 := num2(s[22:24])
	zm, ok7 := num2(s[24:26])
	sign := s[21]
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month == 0 || sign != '+' && sign != '-' {
		return time.Time{}, false
	}
	if day < 1 || day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 60 || zh > 18 || zm > 59 {
		return time.Time{}, false
	}
	off := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if sign == '-' {
		off = -off
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Add(-off), true
}

// monthNumber returns 1-12 for an English month abbreviation, 0 otherwise.
func monthNumber(m string) int {
	switch m {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func num2(s string) (int, bool) {
	a, b := s[0]-'0', s[1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

func num4(s string) (int, bool) {
	h, ok1 := num2(s[:2])
	l, ok2 := num2(s[2:])
	return h*100 + l, ok1 && ok2
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens s for an error message, so a huge junk line does not make a
// huge error that is then stored beside it.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
