package patterns

// StripHeader returns the message of a log line: the line without the
// header that precedes it.
func StripHeader(line []byte) []byte { return line }
