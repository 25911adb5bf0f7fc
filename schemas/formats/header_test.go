package formats

import (
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

func TestHeader(t *testing.T) {
	ingest := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, spec, line string
		want             event.Event
	}{
		{
			name: "HDFS",
			spec: "header:<Date> <Time> <Pid> <Level> <Component>: <Content>",
			line: "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
			want: event.Event{Time: time.Date(2008, 11, 9, 20, 36, 15, 0, time.UTC), Level: "INFO", Component: "dfs.DataNode$PacketResponder",
				Msg: "PacketResponder 1 for block blk_38865049064139660 terminating", Fields: map[string]string{"pid": "148"}},
		},
		{
			name: "Linux with optional pid and no year",
			spec: `header:<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>`,
			line: "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
			want: event.Event{Time: time.Date(2026, 6, 14, 15, 16, 1, 0, time.UTC), Level: "COMBO", Component: "sshd(pam_unix)",
				Msg: "check pass; user unknown", Fields: map[string]string{"pid": "19939"}},
		},
		{
			name: "BGL epoch timestamp, runs of spaces",
			spec: "header:<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
			line: "-  1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
			want: event.Event{Time: time.Unix(1117838570, 0).UTC(), Level: "INFO", Component: "KERNEL", Msg: "instruction cache parity error corrected",
				Fields: map[string]string{"label": "-", "node": "R02-M1-N0-C:J12-U11", "noderepeat": "R02-M1-N0-C:J12-U11", "type": "RAS"}},
		},
		{
			name: "level normalised",
			spec: "header:<Level> <Content>",
			line: "warning disk almost full",
			want: event.Event{Level: "WARN", Msg: "disk almost full"},
		},
		{
			name: "unparsable time kept as fields",
			spec: "header:<Date> <Content>",
			line: "someday hello",
			want: event.Event{Msg: "hello", Fields: map[string]string{"date": "someday"}},
		},
		{
			name: "mismatch keeps the whole line",
			spec: "header:<Date> <Time> <Level> <Component>: <Content>",
			line: "no header here",
			want: event.Event{Msg: "no header here"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.spec)
			if err != nil {
				t.Fatalf("New(%q): %v", tt.spec, err)
			}
			if p.Spec() != tt.spec {
				t.Errorf("Spec() = %q, want %q", p.Spec(), tt.spec)
			}
			ev := event.Event{IngestTime: ingest}
			if err := p.Parse([]byte(tt.line), &ev); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !ev.Time.Equal(tt.want.Time) || ev.Level != tt.want.Level || ev.Component != tt.want.Component || ev.Msg != tt.want.Msg {
				t.Errorf("got time %v level %q component %q msg %q\nwant time %v level %q component %q msg %q",
					ev.Time, ev.Level, ev.Component, ev.Msg, tt.want.Time, tt.want.Level, tt.want.Component, tt.want.Msg)
			}
			if len(ev.Fields) != len(tt.want.Fields) {
				t.Errorf("fields %v, want %v", ev.Fields, tt.want.Fields)
			}
			for k, v := range tt.want.Fields {
				if ev.Fields[k] != v {
					t.Errorf("field %q = %q, want %q", k, ev.Fields[k], v)
				}
			}
		})
	}
}

func TestHeaderCountsMismatches(t *testing.T) {
	p, err := NewHeader("<Level> <Component>: <Content>")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"INFO db: ok", "garbage", "also garbage", "WARN net: slow"} {
		ev := ParseLine(p, nil, []byte(l), time.Unix(0, 0))
		if ev.ParseError != "" || ev.Msg == "" {
			t.Errorf("%q: ParseError %q, Msg %q: a mismatch must keep the line as the message", l, ev.ParseError, ev.Msg)
		}
	}
	if got := p.Unmatched(); got != 2 {
		t.Errorf("Unmatched() = %d, want 2", got)
	}
}

func TestHeaderBadSpecs(t *testing.T) {
	for spec, want := range map[string]string{
		"header:":                        "empty template",
		"header:<Date> <Level>":          "no <Content>",
		"header:<Date> <Date> <Content>": "appears twice",
		"header:<Date> (<Content>":       "missing closing )",
	} {
		_, err := New(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%q) = %v, want an error containing %q", spec, err, want)
		}
	}
}

// FuzzHeader parses arbitrary lines with the Loghub header templates: never
// a panic, never an error (a line that does not match is kept whole as the
// message), and the message is taken from the line (line endings such as a
// CRLF's \r are trimmed).
func FuzzHeader(f *testing.F) {
	f.Add([]byte("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating"), uint8(0))
	f.Add([]byte("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure"), uint8(1))
	f.Add([]byte("[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy"), uint8(2))
	f.Add([]byte("\x00\xff garbage"), uint8(0))
	specs := []string{
		"header:<Date> <Time> <Pid> <Level> <Component>: <Content>",
		`header:<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>`,
		`header:\[<Time>\] <Program> - <Content>`,
	}
	parsers := make([]Parser, len(specs))
	for i, s := range specs {
		parsers[i] = mustParser(f, s)
	}
	f.Fuzz(func(t *testing.T, line []byte, which uint8) {
		p := parsers[int(which)%len(parsers)]
		ev, err := parseWith(p, string(line))
		if err != nil {
			t.Fatalf("%s: %q: %v (unmatched lines must be kept, not fail)", p.Spec(), line, err)
		}
		if !strings.Contains(string(line), ev.Msg) {
			t.Fatalf("%s: message %q is not part of the line %q", p.Spec(), ev.Msg, line)
		}
	})
}
