package tail

import "sync"

// Acks follows the lines of one file from the moment they are handed to
// Kafka to their acknowledgement, and says up to where the file is done.
//
// Kafka acknowledges each partition on its own, so with keyed records a
// later line can be acknowledged before an earlier one. The position must
// not jump over the earlier line (a restart would skip it), so Done only
// moves over the longest run of acknowledged lines from the start. A line
// whose record failed is never acknowledged: the position stays before it,
// and a restart sends it again (at least once, never lost).
//
// Add is called in file order by the reader; Ack from any goroutine.
type Acks struct {
	mu      sync.Mutex
	pending []pendingLine // pending[head:] are not yet passed by done
	head    int
	base    uint64 // sequence number of pending[0]
	done    Position
}

type pendingLine struct {
	end   Position
	acked bool
}

// NewAcks starts at start: the position the reader began from.
func NewAcks(start Position) *Acks { return &Acks{done: start} }

// Add registers the next record, whose last line ends at end, and returns
// its sequence number for Ack.
func (a *Acks) Add(end Position) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.head > 1024 && a.head*2 > len(a.pending) {
		// Drop the passed prefix so memory follows what is in flight.
		n := copy(a.pending, a.pending[a.head:])
		a.pending = a.pending[:n]
		a.base += uint64(a.head)
		a.head = 0
	}
	a.pending = append(a.pending, pendingLine{end: end})
	return a.base + uint64(len(a.pending)-1)
}

// Ack marks record seq acknowledged and advances the position over every
// acknowledged record in front.
func (a *Acks) Ack(seq uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := int(seq - a.base)
	if seq < a.base || i >= len(a.pending) {
		return
	}
	a.pending[i].acked = true
	for a.head < len(a.pending) && a.pending[a.head].acked {
		a.done = a.pending[a.head].end
		a.head++
	}
}

// Done is the position just past the last line that, like every line
// before it, has been acknowledged.
func (a *Acks) Done() Position {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.done
}

// InFlight is the number of records handed out and not yet passed by Done.
func (a *Acks) InFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending) - a.head
}
