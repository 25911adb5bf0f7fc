package patterns

import "testing"

// shape returns the template a message has on its own: its units after
// variable detection and collapsing.
func shape(msg string) string {
	var sc scratch
	sc.tokenize([]byte(msg))
	m := NewMiner(Options{})
	m.sc = sc
	return templateText(m.lineUnits([]byte(msg)))
}

func TestVariableDetection(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{"words stay", "instruction cache parity error corrected", "instruction cache parity error corrected"},
		{"integer", "PacketResponder 1 for block terminating", "PacketResponder <*> for block terminating"},
		{"block id with digits", "deleting blk_-6952295868487656571 now", "deleting <*> now"},
		{"ip and port", "connect to 10.251.73.220:50010 failed", "connect to <*> failed"},
		{"host with port", "proxy.cse.cuhk.edu.hk:5070 open through proxy", "<*> open through proxy"},
		{"hex", "CE sym 2, at 0x0b85eee0, mask 0x05", "CE sym <*>, at <*>, mask <*>"},
		{"uuid", "[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started", "[instance: <*>] VM Started"},
		{"path", "log source = /proc/kmsg started.", "log source = <*> started."},
		{"a web address is one value", "Stopped Spark web UI at http://10.10.34.11:4040", "Stopped Spark web UI at <*>"},
		{"a quoted web address is one value", `fetch ended for URL: "https://tools.google.com/service/update2?cup2hreq=53f725cf"`, `fetch ended for URL: "<*>"`},
		{"a system's own scheme stays", "Input split: hdfs://10.190.10.18:9000/pjhe/test/1/112.txt:0+2", "Input split: hdfs://<*>"},
		{"a path after a label is a value", "connect() failed path:/var/run/mDNSResponder Socket:4", "connect() failed path:<*> Socket:<*>"},
		{"a full stop after a path is part of it", "allocateBlock: /user/root/part-00296. blk_-122532", "allocateBlock: <*>"},
		{"root and admin are user names", "session closed for user root", "session closed for user <*>"},
		{"root as a key's value", "from=root, size=3", "from=<*>, size=<*>"},
		{"angle brackets close on the value", "<NSXPCConnection: 0x7fc8a1d0> connection from pid 94", "<NSXPCConnection: <*> connection from pid <*>"},
		{"a value in angle brackets", "discovered device with hash <2b9d5e7a>", "discovered device with hash <*>"},
		{"a field's angle bracket", "headroom=<memory:4096, vCores:1>", "headroom=<memory:<*>, vCores:<*>"},
		{"windows path", `loaded C:\Windows\cbscore.dll ok`, "loaded <*> ok"},
		{"key=number", "session opened for user fztu by (uid=0)", "session opened for user fztu by (uid=<*>)"},
		{"key=word stays", "rhost=218.188.2.4 user=guest", "rhost=<*> user=guest"},
		{"key=empty stays", "logname= uid=0", "logname= uid=<*>"},
		{"dot leader label", "icache prefetch depth.........0", "icache prefetch depth.........<*>"},
		{"quoted value spans tokens", `acquire lock=233570404, tag="View Lock", uid=1000`, `acquire lock=<*>, tag="<*>", uid=<*>`},
		{"quoted one-word value, same shape", `acquire lock=86152250, tag="AudioMix", uid=1041`, `acquire lock=<*>, tag="<*>", uid=<*>`},
		{"quoted text keeps words", `"GET /v2/servers HTTP/1.1" status: 200`, `"GET <*>" status: <*>`},
		{"ctime date collapses", "connection at Fri Jun 17 07:07:00 2005", "connection at <*>"},
		{"month word alone stays", "March of the penguins", "March of the penguins"},
		{"unit after number", "lifetime <1 sec", "lifetime <*> sec"},
		{"size with unit", "4464 bytes (4.35 KB) received", "<*> bytes received"},
		{"unit word alone stays", "bytes received", "bytes received"},
		{"host name without digits", "reverse mapping checking getaddrinfo for ns.example.com failed", "reverse mapping checking getaddrinfo for <*> failed"},
		{"lower-case property stays", "mapred.task.id is deprecated", "mapred.task.id is deprecated"},
		{"camelCase field:number keeps the field", "removeNotification:0|com.tencent.mobileqq|121|null|10111", "removeNotification:<*>"},
		{"stack frame is a variable", "called by com.android.server.wm.WindowStateAnimator.destroySurface:2014 now", "called by <*> now"},
		{"host:port is a variable", "Connecting to localhost:2181 now", "Connecting to localhost:<*> now"},
		{"a class is shown while it is alone", "Registering class org.example.jobs.EventType now", "Registering class org.example.jobs.EventType now"},
		{"lower-case property stays", "mapred.task.id is deprecated", "mapred.task.id is deprecated"},
		{"qualified constant stays", "onReceive action: android.intent.action.SCREEN_ON", "onReceive action: android.intent.action.SCREEN_ON"},
		{"two-part name stays", "autopurge.purgeInterval set to 0", "autopurge.purgeInterval set to <*>"},
		{"booleans and null are values", "isScreenOn true config null", "isScreenOn <*> config <*>"},
		{"empty brackets are empty values", "connection from 1.2.3.4 () at 10:00", "connection from <*> (<*>) at <*>"},
		{"a note in brackets is a second variable", "peer 10.0.0.7 (db-7.internal) accepted", "peer <*> (<*>) accepted"},
		{"a quantity restated in brackets is one variable, shown with its first unit", "wrote 2048 bytes (2 KB) to disk", "wrote <*> bytes to disk"},
		{"a function's name is code, its digit too", "env.createBean2(): Factory error creating vm:", "env.createBean2(): Factory error creating vm:"},
		{"a numbered label of a value in brackets is no function", "network changed: v4(10.0.0.1) DNS", "network changed: <*>(<*>) DNS"},
		{"a number in brackets after a quantity is another", "took 250 ms (3 retries) in total", "took <*> ms (<*> retries) in total"},
		{"punctuation only stays", "BIOS-e820: 0x1 - 0x2 (reserved)", "<*>: <*> - <*> (reserved)"},
		{"closing bracket stays", "suEXEC mechanism enabled (wrapper: /usr/sbin/suexec)", "suEXEC mechanism enabled (wrapper: <*>)"},
		{"word after ip:port stays", "10.251.122.79:50010:Transmitted block blk_123 to /10.251.1.1:50010", "<*>:Transmitted block <*> to <*>"},
		{"host:port of a dotted host", "proxy.cse.cuhk.edu.hk:5070 close", "<*> close"},
		{"file:line keeps the file", "[ib_sm_sweep.c:1234]: No topology change", "[ib_sm_sweep.c:<*>]: No topology change"},
		{"field:number keeps the field", "DMA zone: 0 pages, LIFO batch:1", "DMA zone: <*> pages, LIFO batch:<*>"},
		{"punctuation between variables separates them", "Received disconnect from 1.2.3.4: 11: Bye Bye", "Received disconnect from <*>: <*>: Bye Bye"},
		{"a list keeps its commas", "values 1, 2, 3 done", "values <*>, <*>, <*> done"},
		{"word variable keeps its comma", "synchronized to 10.1.1.1, stratum 2", "synchronized to <*>, stratum <*>"},
		{"quoted path keeps its quotes", "creating device node '/udev/vcs1'", "creating device node '<*>'"},
		{"a URL keeps its scheme", "Input split: hdfs://10.10.34.11:9000/pjhe/test/1/part-0:0+1", "Input split: hdfs://<*>"},
		{"a value keeps its own words", "bounds=Rect(0, 0 - 720, 1280)", "bounds=Rect(<*>, <*> - <*>, <*>)"},
		{"a name numbered with a dash keeps the name", "worker-17 restarted", "worker-<*> restarted"},
		{"a name numbered with a dot keeps the name", "writing dump.4411 now", "writing dump.<*> now"},
		{"a number sign stays", "queue #3 drained on GPU#1", "queue #<*> drained on GPU#<*>"},
		{"a version keeps its product", "running cachelib-2.10.4 here", "running cachelib-<*> here"},
		{"an object's class stays before its hash", "holding Pool$Entry@5f3a2b1 lock", "holding Pool$Entry@<*> lock"},
		{"a host name with a number is one variable", "from ip-10-2-3-4.internal ok", "from <*> ok"},
		{"a hex group is no name", "job deadbeef-1234-5678 done", "job <*> done"},
		{"a numbered name inside brackets keeps the name", "serving [shard-12] now", "serving [shard-<*>] now"},
		{"a numbered name after a value stays apart", "login from 10.1.2.3 port 4022 tls13", "login from <*> port <*> tls13"},
		{"a list of numbered names is one variable", "peers db1 db2 db3 down", "peers <*> down"},
		{"values apart in one token stay apart", "ratio 3/10 of 4|9|12 done", "ratio <*>/<*> of <*>|<*>|<*> done"},
		{"a separator of two characters stays", "totals 12##7##99 today", "totals <*>##<*>##<*> today"},
		{"a host and its address stay apart", "peer web-3/10.0.0.5:443 joined", "peer <*>/<*> joined"},
		{"words between values stay", "state (0=idle,1=busy) seen", "state (<*>=idle,<*>=busy) seen"},
		{"a relative path is one value", "mounted vol3/data/x1 ok", "mounted <*> ok"},
		{"a pair of values keeps its comma", "moved to 14, 9 (grid)", "moved to <*>, <*> (grid)"},
		{"a host name under a country domain", "could not resolve mail.uni-x.edu.hk error 7", "could not resolve <*> error <*>"},
		{"a host name of a private network", "lookup db.primary.internal failed", "lookup <*> failed"},
		{"a relative path is a variable", "loading config/app.yaml now", "loading <*> now"},
		{"a component name is a variable", "started com.example.app/.MainActivity ok", "started <*> ok"},
		{"words joined by a slash stay", "link tree/torus down, TCP/IP up", "link tree/torus down, TCP/IP up"},
		{"a value after a numbered name stays apart", "user u7 10.1.1.1 ok", "user u7 <*> ok"},
		{"a path with brackets is one value", "wrote /var/log/app/[2024-01-01,12]/x.log ok", "wrote <*> ok"},
		{"a file name as a value is a word", "parse error in file=app.yaml line=3", "parse error in file=app.yaml line=<*>"},
		{"a date keeps its dashes", "backup from 2017-07-08 10:00:00 done", "backup from <*>-<*>-<*> <*> done"},
		{"a range keeps its dash", "(C) 2000-2002 the team", "(C) <*>-<*> the team"},
		{"numbers joined by an underscore are apart", "Session: 30546174_3374851143 initialized", "Session: <*>_<*> initialized"},
		{"a product's comment is part of its version", "Apache/2.2.3 (Fedora) configured -- resuming normal operations", "<*> configured -- resuming normal operations"},
		{"a word in brackets after another value stays", "port 22 (ssh) open", "port <*> (ssh) open"},
		{"an id with letters and underscores is one value", "task attempt_1445_0020_m_000000_0 done", "task <*> done"},
		{"an id with letters is one value", "job 1f2e3d4c-a0b1-4c2d done", "job <*> done"},
		{"white space runs", "  a \t b  ", "a b"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shape(tt.msg); got != tt.want {
				t.Errorf("shape(%q) = %q, want %q", tt.msg, got, tt.want)
			}
		})
	}
}

func TestSplitOverflow(t *testing.T) {
	var sc scratch
	msg := make([]byte, 0, 4*maxTokens*2)
	for i := 0; i < 2*maxTokens; i++ {
		msg = append(msg, "ab "...)
	}
	sc.split(msg)
	if len(sc.toks) != maxTokens {
		t.Fatalf("split %d tokens into %d, want the cap %d", 2*maxTokens, len(sc.toks), maxTokens)
	}
	if last := sc.toks[len(sc.toks)-1]; int(last.e) != len(msg)-1 || last.kind != kVar {
		t.Errorf("last token %+v, want a variable up to %d", last, len(msg)-1)
	}
}
