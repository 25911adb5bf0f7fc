package formats

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are tried in order by ParseTime.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"02/Jan/2006:15:04:05 -0700",
}

// ParseTime reads a timestamp in one of the common layouts: RFC 3339 (with or
// without zone; no zone means UTC), the access-log layout, or epoch seconds or
// milliseconds (told apart by magnitude).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-/:T ") {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			if f > 1e11 { // milliseconds: 1e11 s is year 5138
				return time.UnixMilli(int64(f)).UTC(), nil
			}
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}
