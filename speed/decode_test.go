package speed

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/schemas/ingest/ingesttest"
)

// TestDecodeCases feeds the awkward records of ingesttest (two format
// headers, unknown format, bad time layout, empty value, binary junk)
// through speed's own path, process, one poll per record, and checks the
// event each became and the counts; batch's TestDecodeCases does the same
// through compaction into the lake, against the same expectations.
func TestDecodeCases(t *testing.T) {
	s, err := New(&mongo.Database{}, []string{"unused"}, settings.Logger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	s.parts[0] = newPartition(testTopic, 0)
	cases := ingesttest.Cases()
	for i, r := range ingesttest.Records(testTopic, 0) {
		s.process(kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: testTopic,
			Partitions: []kgo.FetchPartition{{Partition: 0, Records: []*kgo.Record{r}}}}}}})
		ingesttest.Check(t, cases[i], s.parts[0].lastEvent)
	}
	events, parseErrors := ingesttest.Counts()
	if st := s.Stats(); st.Events != events || st.ParseErrors != parseErrors {
		t.Errorf("speed counted %d events, %d parse errors; want %d and %d", st.Events, st.ParseErrors, events, parseErrors)
	}
}
