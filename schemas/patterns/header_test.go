package patterns

import (
	"strings"
	"testing"
)

func TestStripHeader(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"issue example: second header inside", "[17:51:42] 22/11/20 17:51:42 INFO mapreduce.Job: map 0% reduce 0%", "map 0% reduce 0%"},
		{"log4j", "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster", "Created MRAppMaster"},
		{"bracket with spaces after level", "2015-10-18 18:04:44,036 INFO [IPC Server handler 8 on 62270] org.a.B: Progress", "Progress"},
		{"syslog with host", "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure", "authentication failure"},
		{"syslog then a second timestamped header", "Jun 14 15:16:01 host app[12]: 2020-01-01 12:00:00 INFO foo.Bar: started", "started"},
		{"ISO 8601 with level and logger", "2023-04-05T06:07:08.123Z WARN  c.e.Service - disk almost full", "disk almost full"},
		{"python logging", "2020-01-01 10:00:00,123 - myapp.db - ERROR - connection lost", "connection lost"},
		{"glog", "I0512 12:00:00.123456    1 main.go:42] listening on :8080", "listening on :8080"},
		{"apache error log keeps its client", "[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index forbidden", "[client 1.2.3.4] Directory index forbidden"},
		{"android logcat", "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs", "printFreezingDisplayLogs"},
		{"program before a dash", "[10.30 16:49:06] chrome.exe *64 - proxy.example.com:5070 open through proxy", "proxy.example.com:5070 open through proxy"},
		{"padded columns", "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack", "Loaded Servicing Stack"},
		{"logger and context", "2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-1 - - -] 10.11.10.1 \"GET /v2\"", "10.11.10.1 \"GET /v2\""},
		{"pipe fields", "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579", "onStandStepChanged 3579"},
		{"dash separator after the level", "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:QuorumPeer@670] - FOLLOWING - LEADER ELECTION TOOK - 49", "FOLLOWING - LEADER ELECTION TOOK - 49"},
		{"a message's own level word stays", "Dec 10 06:55:46 LabSZ sshd[24200]: error: Received disconnect", "error: Received disconnect"},
		{"a number after the level stays", "2005-06-03-16.47.20.730545 R23-M0 RAS KERNEL INFO 1146800 double-hummer alignment exceptions", "1146800 double-hummer alignment exceptions"},
		{"an IP is no time", "10.251.194.213:50010 Served block blk_1 to /10.251.203.80", "10.251.194.213:50010 Served block blk_1 to /10.251.203.80"},
		{"no header", "Received disconnect from 1.2.3.4: 11: Bye Bye", "Received disconnect from 1.2.3.4: 11: Bye Bye"},
		{"numbers alone are no header", "134681 node-246 unix.hw state_change.unavailable 1 Component State Change", "134681 node-246 unix.hw state_change.unavailable 1 Component State Change"},
		{"columns up to a Unix time and its flags", "88123 web-12 kernel.net link down 1690000000 2 -1 Interface eth0 lost carrier", "Interface eth0 lost carrier"},
		{"a Unix time in milliseconds", "7 db-3 pool.stats 1690000000123 0 idle connections closed", "idle connections closed"},
		{"a Unix time is a timestamp", "1690000000.25 WARN disk.monitor: usage high", "usage high"},
		{"words before a Unix time are message", "42 items older than 1690000000 removed", "42 items older than 1690000000 removed"},
		{"a level alone is the message's word", "ERROR: disk full", "ERROR: disk full"},
		{"a message's own bracketed context stays", "[instance: 9a6d] Creating image", "[instance: 9a6d] Creating image"},
		{"a message's client stays", "[client 10.0.0.1] File does not exist: /var/www/x", "[client 10.0.0.1] File does not exist: /var/www/x"},
		{"a message's own time stays", "10:46:47.425 : BTLE scanning started", "10:46:47.425 : BTLE scanning started"},
		{"a message's bracketed time stays", "[09:21:58.929] <<<< CRABS >>>> host available", "[09:21:58.929] <<<< CRABS >>>> host available"},
		{"ids before a level word are the message's", "host.example.com:443 error : reset by peer", "host.example.com:443 error : reset by peer"},
		{"a component prefix without time or level stays", "[PhoneIntfMgr] getDataEnabled: subId=1", "[PhoneIntfMgr] getDataEnabled: subId=1"},
		{"a level and a component are a header", "ERROR app.db: connection lost", "connection lost"},
		{"a timestamp in one token is a header", "2026-12-07T03:51:24Z connection lost", "connection lost"},
		{"a time of day and a level are a header", "10:46:47.425 WARN cache cold", "cache cold"},
		{"the caller after the level", "2024-01-01T10:00:00.000Z\tINFO\tserver/server.go:42\tlistening on :8080", "listening on :8080"},
		{"adjacent bracketed fields", "[2024-01-01T10:00:00,123][WARN ][o.e.c.Cluster   ] [node-1] low disk watermark exceeded", "low disk watermark exceeded"},
		{"JSON record", `{"ts":"2024-01-01T10:00:00Z","level":"error","msg":"payment \"x\" declined","user":"u1"}`, `payment \"x\" declined`},
		{"JSON record with message", `{"@timestamp":"2024-01-01T10:00:00Z", "message" : "cache warmed in 12 ms"}`, "cache warmed in 12 ms"},
		{"container record with a header inside", `{"log":"2024-01-01 10:00:00 INFO app.Main: started\n","stream":"stdout"}`, "started"},
		{"logfmt record", `time="2024-01-01T10:00:00Z" level=info msg="Loading containers: start." id=7`, "Loading containers: start."},
		{"logfmt record after a header", `2024-01-01 10:00:00 ts=1 msg=started`, "started"},
		{"msg= inside a message is no record", `Jan  1 10:00:00 h app[1]: bad value msg=x in request`, "bad value msg=x in request"},
		{"one component: after a component column the level ends the header", "2024-01-01-10.00.00.000000 N07 HW MONITOR WARN fand: fan 3 slow", "fand: fan 3 slow"},
		{"a lone colon is a separator", "2024-01-01 10:00:00 INFO : cache warmed", "cache warmed"},
		{"a time of day alone after the header is the message's", "Mar  3 08:00:01 pc-17 blued[85]: 08:00:01.425 : scanner powered on", "08:00:01.425 : scanner powered on"},
		{"a header has one level", "2024-01-01 10:00:00 INFO critical input interrupt on link 3", "critical input interrupt on link 3"},
		{"syslog program of two words with its pid", "Mar  3 08:00:01 pc-17 Photo Viewer[4411]: cache rebuilt", "cache rebuilt"},
		{"syslog program with its version", "Mar  3 08:00:01 pc-17 logd 2.0.3: restart.", "restart."},
		{"syslog program with a sandbox note", "Mar  3 08:00:01 pc-17 guardd[12] ([4411]): deny file-read /tmp/x", "deny file-read /tmp/x"},
		{"syslog words with a colon and no pid are no program", "Mar  3 08:00:01 pc-17 disk full: /var", "pc-17 disk full: /var"},
		{"an address after the program dash stays", "[03.03 08:00:01] agent.exe - db.example.org:443 error : reset by peer", "db.example.org:443 error : reset by peer"},
		{"empty", "", ""},
		{"header only", "2020-01-01 10:00:00 INFO", ""},
		{"unclosed bracket", "[2020-01-01 10:00:00 oops", "oops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(StripHeader([]byte(tt.line))); got != tt.want {
				t.Errorf("StripHeader(%q)\n got %q\nwant %q", tt.line, got, tt.want)
			}
		})
	}
}

// FuzzStripHeader checks that StripHeader returns a part of any line (a
// suffix, or the message field of a record), without panicking.
func FuzzStripHeader(f *testing.F) {
	for _, s := range []string{"[a [b] c", "2020-01-01 10:00:00 - x - INFO - y", "|||", "[]:", "a|b|c d", "- - - -", "Jun 1 1:1 h p:",
		`{"msg":"a\"`, `{"msg" : "x\n"}`, `a=1 msg="unterminated`, `a=1 msg=`, `{"log":"[x] y"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got := string(StripHeader([]byte(line)))
		if !strings.Contains(line, got) {
			t.Fatalf("StripHeader(%q) = %q, not a part of it", line, got)
		}
	})
}
