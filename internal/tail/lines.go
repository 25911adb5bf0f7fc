package tail

import (
	"bufio"
	"errors"
	"io"
)

// DefaultMaxLine is the default line size cap: 1 MiB is far above any real
// log line and about Kafka's default record size limit (message.max.bytes
// 1048588), so a capped line still fits in one record.
const DefaultMaxLine = 1 << 20

// lineReader splits a stream into lines ending in '\n'. A line longer than
// max keeps its first max bytes; the rest is read and skipped (counted in
// the size it reports) so memory stays bounded whatever the input.
//
// At the end of the input an unfinished line stays buffered: the writer may
// still be writing it. The follower decides when it is final (flush).
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte // the unfinished line, at most max bytes
	// size is the unfinished line's length so far, skipped bytes included.
	size int
	// off is the offset in the stream just past the last byte read.
	off int64
}

func newLineReader(r io.Reader, max int, off int64) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max, off: off}
}

// reset points the reader at r, as read from offset off, forgetting any
// unfinished line.
func (lr *lineReader) reset(r io.Reader, off int64) {
	lr.r.Reset(r)
	lr.buf, lr.size, lr.off = lr.buf[:0], 0, off
}

// next returns the next complete line without its '\n' and the line's real
// size. data is valid until the next call. ok is false at the end of the
// input; the bytes of an unfinished line stay buffered.
func (lr *lineReader) next() (data []byte, size int, ok bool, err error) {
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.off += int64(len(chunk))
		complete := len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		if complete {
			chunk = chunk[:len(chunk)-1]
		}
		// The common case: a whole line inside bufio's buffer, handed out
		// without a copy.
		if complete && lr.size == 0 && len(chunk) <= lr.max {
			return chunk, len(chunk), true, nil
		}
		lr.size += len(chunk)
		if room := lr.max - len(lr.buf); room > 0 {
			lr.buf = append(lr.buf, chunk[:min(room, len(chunk))]...)
		}
		if complete {
			data, size = lr.buf, lr.size
			lr.buf, lr.size = lr.buf[:0], 0
			return data, size, true, nil
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, 0, false, nil
		case err != nil:
			return nil, 0, false, err
		}
	}
}

// pending reports whether an unfinished line is buffered.
func (lr *lineReader) pending() bool { return lr.size > 0 }

// flush hands out the unfinished line as final (end of input, or the file
// was rotated away or truncated) and forgets it.
func (lr *lineReader) flush() (data []byte, size int) {
	data, size = lr.buf, lr.size
	lr.buf, lr.size = lr.buf[:0], 0
	return data, size
}
