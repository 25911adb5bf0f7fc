package formats

import (
	"strings"
	"testing"
	"time"
)

func TestNewUnknownFormatListsKnown(t *testing.T) {
	_, err := New("syslog")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"json", "combined", "common", "regex:", "grok:", "header:"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %s", err, name)
		}
	}
	if _, err := New("combined:x"); err == nil {
		t.Error("combined:x: want an error")
	}
}

func TestSpecRoundTrip(t *testing.T) {
	for _, spec := range []string{"json", "json:ts=@timestamp,msg=message", "combined", "common", `regex:^(?P<msg>.*)$`, "grok:%{COMBINEDAPACHELOG}"} {
		p := mustParser(t, spec)
		if p.Spec() != spec {
			t.Errorf("New(%q).Spec() = %q", spec, p.Spec())
		}
	}
}

func TestNewWithOptionsTimeLayouts(t *testing.T) {
	// The layout has ':' and spaces, and the regex has ':' too: both must
	// survive the trip through Spec and New.
	const layout = "02.01.2006 15:04:05"
	const spec = `regex:^(?P<ts>\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d) (?P<level>\w+): (?P<msg>.*)$`
	p, err := NewWithOptions(spec, WithTimeLayouts(layout))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Spec(), "opts:") || !strings.HasSuffix(p.Spec(), ":"+spec) {
		t.Fatalf("Spec() = %q, want opts:<options>:%s", p.Spec(), spec)
	}
	rebuilt, err := New(p.Spec())
	if err != nil {
		t.Fatalf("New(Spec()): %v", err)
	}
	if rebuilt.Spec() != p.Spec() {
		t.Errorf("rebuilt Spec() = %q, want %q", rebuilt.Spec(), p.Spec())
	}
	line := "01.02.2015 10:00:00 INFO: hello: world"
	for _, q := range []Parser{p, rebuilt} {
		ev := ParseLine(q, nil, []byte(line), testIngest)
		want := time.Date(2015, 2, 1, 10, 0, 0, 0, time.UTC)
		if ev.ParseError != "" || !ev.Time.Equal(want) || ev.TimeMissing || ev.Msg != "hello: world" || ev.Level != "INFO" {
			t.Errorf("%s: got %+v, want time %v", q.Spec(), ev, want)
		}
	}
	// Without the option the same line has no usable time.
	ev := ParseLine(mustParser(t, spec), nil, []byte(line), testIngest)
	if !ev.TimeMissing || !ev.Time.Equal(testIngest) || ev.Fields["ts"] != "01.02.2015 10:00:00" {
		t.Errorf("without layout: got %+v, want TimeMissing and the ingest time", ev)
	}

	// Every format of this package takes time layouts.
	for _, s := range []string{"json", "combined", "common", spec, "grok:%{GREEDYDATA:message}"} {
		if _, err := NewWithOptions(s, WithTimeLayouts(layout)); err != nil {
			t.Errorf("NewWithOptions(%q): %v", s, err)
		}
	}
	// No options is New.
	if p, err := NewWithOptions("combined"); err != nil || p.Spec() != "combined" {
		t.Errorf("NewWithOptions without options: %v, %v", p, err)
	}
}

func TestNewWithOptionsErrors(t *testing.T) {
	if _, err := NewWithOptions("json", WithTimeLayouts("no layout")); err == nil || !strings.Contains(err.Error(), "no date or time element") {
		t.Errorf("bad layout: error %v", err)
	}
	if _, err := NewWithOptions("nope", WithTimeLayouts("2006")); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("bad format: error %v", err)
	}
	for _, spec := range []string{"opts:", "opts:time-layout=2006", "opts:color=red:json", "opts:%zz:json"} {
		if _, err := New(spec); err == nil {
			t.Errorf("New(%q): want an error", spec)
		}
	}
}

// TestParseLineKeepsBadLines checks the contract of every format with
// ParseLine: a bad line becomes an event with ParseError and Raw, never a
// dropped line.
func TestParseLineKeepsBadLines(t *testing.T) {
	junk := []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 junk")
	for _, spec := range []string{"json", "combined", "common", `regex:^(?P<msg>x+)$`, "grok:%{COMBINEDAPACHELOG}"} {
		ev := ParseLine(mustParser(t, spec), nil, junk, testIngest)
		if ev.ParseError == "" || string(ev.Raw) != string(junk) || !ev.TimeMissing || !ev.Time.Equal(testIngest) || ev.Format != spec {
			t.Errorf("%s: got %+v, want a kept parse-error event", spec, ev)
		}
	}
}

// TestHeaderTimeLayout checks that --time-layout reaches header formats: the
// DB2-style "2014/10/19 12.19.46" date is read by none of the built-in
// layouts, only by the user's.
func TestHeaderTimeLayout(t *testing.T) {
	const spec = "header:<Date> <Time> <Level> <Content>"
	line := []byte("2014/10/19 12.19.46 ERROR disk full")
	plain := ParseLine(mustParser(t, spec), nil, line, testIngest)
	if !plain.TimeMissing {
		t.Fatalf("without a layout the time should be missing, got %v", plain.Time)
	}
	p, err := NewWithOptions(spec, WithTimeLayouts("2006/01/02 15.04.05"))
	if err != nil {
		t.Fatal(err)
	}
	ev := ParseLine(p, nil, line, testIngest)
	want := time.Date(2014, 10, 19, 12, 19, 46, 0, time.UTC)
	if ev.TimeMissing || !ev.Time.Equal(want) || ev.Level != "ERROR" || ev.Msg != "disk full" {
		t.Fatalf("got time %v missing=%v level %q msg %q, want %v", ev.Time, ev.TimeMissing, ev.Level, ev.Msg, want)
	}
}
