// Package patterns infers log templates online: each message maps to a
// pattern whose template has its variable parts written as <*>, so an
// operator sees "what kinds of lines do I have" and which kind is new or
// spiking, without a regular expression per source.
//
// It works with no tuning: variables are recognised by their form
// (numbers, hex, IPs and ports, UUIDs, paths and URLs, key=value values,
// quoted strings, dates), runs of variables collapse to one <*> so that a
// variable may span any number of tokens, and a message with a new shape
// joins an existing pattern only when it differs in a few free words and
// agrees on the rest, and a place becomes a variable only after three
// different words there, since two are as often an enumeration (see
// Miner).
//
// A template keeps the constant text of its messages as written,
// punctuation included: only the variable part of a token becomes <*>
// ("(wrapper: <*>)", "[instance: <*>]", "<*>:Transmitted", "batch:<*>"),
// and variables separated by punctuation stay apart, a comma and brackets
// too, also inside one token ("from <*>: <*>:", "Rect(<*>, <*> - <*>, <*>)",
// "<*> (<*>)", "<*>/<*>"). A name numbered by a number keeps its name
// ("node-<*>", "core.<*>", "CPU#<*>"), and a class or numbered name is
// shown until a second one is seen in its place ("port <*> ssh2").
//
// The miner mines messages. StripHeader finds the message of a raw line
// when no header format is given: it leaves out the timestamps, level,
// ids, bracketed fields and component that logging libraries put before
// it (the rule is on StripHeader).
//
// Every message is counted in exactly one pattern. Patterns widen as
// messages arrive, and a pattern that widens changes its ID or is taken in
// by another; its messages go with it, and the miner logs each such move.
// A Tracker turns that log into Absorptions, absorbed ID -> the pattern
// holding its messages now, for every ID it ever reported: counting each
// message under the ID the Tracker gave it and resolving the absorptions
// gives exactly the miner's counts per pattern, however the counts were
// cut into panes and merged (views.Patterns applies the absorptions
// whenever states merge). The one exception is the MaxPatterns cap: an
// evicted pattern's messages leave the miner, and a view keeps them under
// the evicted ID.
//
// The pattern ID is a hash of the template text, so miners that never
// talked (speed and batch, two Kafka partitions) give the same pattern the
// same ID. Miners merge (Merge) and travel as compact bytes
// (MarshalBinary), which is how the patterns view keeps pattern -> count
// and template per pane.
package patterns
