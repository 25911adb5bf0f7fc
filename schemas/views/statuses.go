package views

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// ViewStatuses is the statuses view: requests and bytes per HTTP status
// code (traffic keeps only the classes).
const ViewStatuses = "statuses"

// statusesView declares the statuses view (Registry): folded by batch
// from the lake's rows with Add, like speed.
var statusesView = func() Spec {
	sp := define(ViewStatuses, CountEvents, "summary: <code> -> requests",
		func(p *Pane) **Statuses { return &p.Statuses },
		func(PaneSpec, time.Time) *Statuses { return NewStatuses() },
		(*Statuses).Add, (*Statuses).Merge, (*Statuses).Clone, (*Statuses).Summary)
	sp.columns = func(*Pane) []string { return []string{event.ColStatus, event.ColBytes} }
	return sp
}()

// Statuses is, per HTTP status code of the requests (events with a
// status), the number of requests and the exact sum of their bytes.
// Codes outside 100-599 count under StatusOther, so a state holds at most
// 501 codes. Counts add: a monoid, exact in speed and batch alike.
type Statuses struct {
	codes map[int32]*StatusCount
}

// StatusCount is one code's figures.
type StatusCount struct {
	Code     int32
	Count    int64
	BytesSum int64
}

// StatusOther is the code under which codes outside 100-599 count.
const StatusOther = 0

// NewStatuses returns an empty state.
func NewStatuses() *Statuses { return &Statuses{codes: map[int32]*StatusCount{}} }

// Add counts one request: an event with a status.
func (s *Statuses) Add(ev *event.Event) {
	if ev.Status == 0 {
		return
	}
	code := ev.Status
	if code < 100 || code > 599 {
		code = StatusOther
	}
	s.add(code, 1, ev.Bytes)
}

// add counts n requests of code with bytes. It takes the figures, not a
// StatusCount: one whose address it kept on a new code escaped, a heap
// allocation on every event.
func (s *Statuses) add(code int32, n, bytes int64) {
	if st := s.codes[code]; st != nil {
		st.Count += n
		st.BytesSum += bytes
		return
	}
	s.codes[code] = &StatusCount{Code: code, Count: n, BytesSum: bytes}
}

// Merge adds o into s.
func (s *Statuses) Merge(o *Statuses) {
	for _, c := range o.codes {
		s.add(c.Code, c.Count, c.BytesSum)
	}
}

// Clone returns an independent copy.
func (s *Statuses) Clone() *Statuses {
	c := NewStatuses()
	c.Merge(s)
	return c
}

// Codes returns every code's figures, by code.
func (s *Statuses) Codes() []StatusCount {
	out := make([]StatusCount, 0, len(s.codes))
	for _, c := range s.codes {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b StatusCount) int { return int(a.Code - b.Code) })
	return out
}

// Summary maps each code to its requests.
func (s *Statuses) Summary() map[string]any {
	out := map[string]any{}
	for _, c := range s.codes {
		out[strconv.Itoa(int(c.Code))] = c.Count
	}
	return out
}

// statusesVersion is the first byte of an encoded Statuses state.
const statusesVersion = 1

// MarshalBinary encodes the state: the version, then per code in order
// the code, requests and bytes; equal states encode to equal bytes.
func (s *Statuses) MarshalBinary() ([]byte, error) {
	codes := s.Codes()
	b := binary.AppendUvarint([]byte{statusesVersion}, uint64(len(codes)))
	for _, c := range codes {
		b = binary.AppendUvarint(b, uint64(c.Code))
		b = binary.AppendUvarint(b, uint64(c.Count))
		b = binary.AppendVarint(b, c.BytesSum)
	}
	return b, nil
}

// UnmarshalBinary replaces s by the decoded state; on error s is unchanged.
func (s *Statuses) UnmarshalBinary(data []byte) error {
	r, _, err := openState(ViewStatuses, data, statusesVersion, statusesVersion)
	if err != nil {
		return err
	}
	n := r.count("code")
	ns := NewStatuses()
	for i := uint64(0); i < n && r.err == nil; i++ {
		c := StatusCount{Code: int32(r.uvarint()), Count: int64(r.uvarint()), BytesSum: r.varint()}
		if r.err == nil && (c.Code > 599 || ns.codes[c.Code] != nil) {
			r.err = fmt.Errorf("code %d out of range or repeated", c.Code)
		}
		ns.codes[c.Code] = &c
	}
	if err := r.done(); err != nil {
		return err
	}
	*s = *ns
	return nil
}
