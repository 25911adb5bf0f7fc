// Package replace writes MongoDB documents the one way loglambda writes
// them: idempotent replaces by _id (upserts), in commands of at most
// MaxBatch documents, each command with its own deadline. Speed (pane
// documents, checkpoints) and batch (pane documents) both write through a
// Writer, so the limits below hold for every write of a view.
//
// Why commands are small: FerretDB v1.24 on SQLite, the embedded store of
// `loglambda up`, runs one `update` command as one query per replace and
// keeps each query's iterator, and with it one connection of its SQLite
// pool of 100, open until the whole command ends whenever the query found
// its document (it reads one row and stops). A command replacing more than
// about 100 existing documents takes the whole pool, then waits forever for
// a connection for its next replace, and every later operation on the
// database starves behind it. A command of at most 64 documents holds at
// most 64 connections, and a Writer runs one command at a time, so one
// Writer shared by the layers of a process (as `up` does) leaves the rest
// of the pool to readers. Against a real MongoDB small commands cost a few
// more round trips and nothing else.
//
// Why each command has its own deadline: a slow store then slows loglambda
// down, command by command, instead of failing a whole flush that would be
// retried from its start and never finish. What was written stays written
// (Result.Docs is the written prefix), so the caller moves forward.
package replace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MaxBatch is the largest number of documents in one command: below the
// 100 connections of FerretDB's SQLite pool that a command replacing
// existing documents holds until it ends (see the package documentation),
// with room left for readers and for the transient connection each replace
// needs.
const MaxBatch = 64

// DefaultCommandTimeout bounds one command of MaxBatch documents. Measured
// on the embedded store (2 cores, shared), a command of 64 pane documents
// takes 0.1-1 s; ten times that is a store in trouble, not a busy one.
const DefaultCommandTimeout = 10 * time.Second

// Doc is one document to write: its _id and the document itself (anything
// bson.Marshal takes, whose _id field is ID).
type Doc struct {
	ID   string
	Body any
	// New says the caller believes no document with this _id exists yet
	// (a pane written for the first time). Such documents are inserted,
	// many in one transaction, and replaced only if the insert finds one
	// after all: the outcome is the same, and on the embedded store an
	// insert costs a twentieth of a replace, which runs one transaction
	// per document. A wrong guess costs time, never correctness.
	New bool
	// Epoch, when positive, fences the write: it replaces the stored
	// document only if no write of a larger epoch reached it, and is
	// refused (Result.Refused) otherwise, in the same command (see
	// FenceField). The fields of the stored document that the new one
	// lacks stay. 0: an unconditional replace.
	Epoch int64
}

// Command describes one command after it ran, for metrics and logs.
type Command struct {
	Collection string
	Docs       int
	Bytes      int64 // BSON size of the documents
	Took       time.Duration
	Err        error
}

// Result is what Replace wrote: docs[:Docs] are in the store, except the
// fenced ones the store refused.
type Result struct {
	Docs     int
	Bytes    int64 // BSON size of the documents written
	Commands int
	// Refused are the ids of the fenced documents (Doc.Epoch) not written
	// because a write of a larger epoch had reached them.
	Refused []string
}

// Add adds o to r.
func (r *Result) Add(o Result) {
	r.Docs += o.Docs
	r.Bytes += o.Bytes
	r.Commands += o.Commands
	r.Refused = append(r.Refused, o.Refused...)
}

// Writer replaces documents in bounded commands. It runs one command at a
// time, whoever calls it: share one Writer among the layers of a process
// that write to one embedded store. Safe for concurrent use.
type Writer struct {
	cfg cfg
	// sem holds one token: the right to have a command in flight.
	sem chan struct{}
}

// New returns a Writer.
func New(opts ...Opt) (*Writer, error) {
	c := defaultCfg()
	for _, o := range opts {
		o.apply(&c)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("replace writer: %w", err)
	}
	return &Writer{cfg: c, sem: make(chan struct{}, 1)}, nil
}

// Replace writes docs into coll in order, in commands of at most the
// batch size, each an unordered bulk of upserting replaces with its own
// deadline (a child of ctx). It stops at the first command that fails and
// returns what the commands before it wrote: docs[:Result.Docs]. A failed
// command may have written some of its documents; writing them again is
// harmless, every write being an idempotent replace.
func (w *Writer) Replace(ctx context.Context, coll *mongo.Collection, docs []Doc) (Result, error) {
	return w.ReplaceChecked(ctx, coll, docs, nil)
}

// ReplaceChecked is Replace with a check run before each command, once the
// command's documents are encoded and it is this Writer's turn (after any
// wait for the previous command), with the command's deadline: only the
// send follows it. An error from check stops the write before that
// command, returned as is (wrapped). Speed checks there that it still owns
// the partition it writes, so that neither the wait for another layer's
// command nor the encoding lies between the check and the write.
func (w *Writer) ReplaceChecked(ctx context.Context, coll *mongo.Collection, docs []Doc, check func(context.Context) error) (Result, error) {
	var res Result
	for start := 0; start < len(docs); start += w.cfg.batch {
		end := min(start+w.cfg.batch, len(docs))
		n, refused, err := w.command(ctx, coll, docs[start:end], check)
		res.Refused = append(res.Refused, refused...)
		if err != nil {
			return res, fmt.Errorf("replace documents %d-%d of %d in %s: %w", start+1, end, len(docs), coll.Name(), err)
		}
		res.Docs += end - start
		res.Bytes += n
		res.Commands++
	}
	return res, nil
}

// command writes one batch and returns its size in bytes.
func (w *Writer) command(ctx context.Context, coll *mongo.Collection, docs []Doc, check func(context.Context) error) (int64, []string, error) {
	var size int64
	raws := make([]bson.Raw, len(docs))
	var inserts []any
	var insertIdx []int
	for i, d := range docs {
		raw, err := bson.Marshal(d.Body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode %s: %w", d.ID, err)
		}
		size += int64(len(raw))
		raws[i] = raw
		if d.New {
			ins := raw
			if d.Epoch > 0 {
				if ins, err = Fenced(raw, d.Epoch); err != nil {
					return 0, nil, fmt.Errorf("encode %s: %w", d.ID, err)
				}
			}
			inserts = append(inserts, bson.Raw(ins))
			insertIdx = append(insertIdx, i)
		}
	}
	var refused []string
	err := w.turn(ctx, coll, len(docs), size, func(cctx context.Context) error {
		if check != nil {
			if err := check(cctx); err != nil {
				return checkError{err}
			}
		}
		var err error
		refused, err = w.write(cctx, coll, docs, raws, inserts, insertIdx)
		return err
	})
	if ce, ok := err.(checkError); ok {
		return 0, nil, fmt.Errorf("check before the command: %w", ce.err)
	}
	return size, refused, err
}

// checkError is a check's refusal: no command was sent.
type checkError struct{ err error }

func (e checkError) Error() string { return e.err.Error() }

// turn runs one command (f) once the previous one has ended, with its own
// deadline, and reports it to OnCommand unless f returned a checkError.
func (w *Writer) turn(ctx context.Context, coll *mongo.Collection, docs int, size int64, f func(context.Context) error) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for the previous command: %w", context.Cause(ctx))
	}
	start := time.Now()
	cctx, cancel := context.WithTimeoutCause(ctx, w.cfg.timeout,
		fmt.Errorf("%w: %d documents not written within %s", ErrCommandTimeout, docs, w.cfg.timeout))
	err := f(cctx)
	if _, checked := err.(checkError); checked {
		cancel()
		<-w.sem
		return err
	}
	if err != nil && ctx.Err() == nil && (cctx.Err() != nil || mongo.IsTimeout(err)) {
		err = fmt.Errorf("%w (%v)", context.Cause(cctx), err)
	}
	cancel()
	took := time.Since(start)
	<-w.sem
	if w.cfg.onCommand != nil {
		w.cfg.onCommand(Command{Collection: coll.Name(), Docs: docs, Bytes: size, Took: took, Err: err})
	}
	return err
}

// write inserts the documents hinted new, then replaces the others and
// those the insert found already there (a fenced document by an update
// that the store refuses when a larger epoch wrote it), and returns the
// ids of the fenced documents refused.
func (w *Writer) write(ctx context.Context, coll *mongo.Collection, docs []Doc, raws []bson.Raw, inserts []any, insertIdx []int) ([]string, error) {
	replace := make([]bool, len(docs))
	for i, d := range docs {
		replace[i] = !d.New
	}
	if len(inserts) > 0 {
		_, err := coll.InsertMany(ctx, inserts, options.InsertMany().SetOrdered(false))
		var bwe mongo.BulkWriteException
		switch {
		case err == nil:
		case errors.As(err, &bwe) && bwe.WriteConcernError == nil:
			for _, we := range bwe.WriteErrors {
				if !mongo.IsDuplicateKeyError(we) || we.Index < 0 || we.Index >= len(insertIdx) {
					return nil, fmt.Errorf("insert: %w", err)
				}
				replace[insertIdx[we.Index]] = true
			}
		default:
			return nil, fmt.Errorf("insert: %w", err)
		}
	}
	var models []mongo.WriteModel
	var modelIdx []int
	for i, d := range docs {
		if !replace[i] {
			continue
		}
		filter := bson.D{{Key: "_id", Value: d.ID}}
		if d.Epoch > 0 {
			upd, err := fencedUpdate(raws[i], d.Epoch)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", d.ID, err)
			}
			models = append(models, mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(upd).SetUpsert(true))
		} else {
			models = append(models, mongo.NewReplaceOneModel().SetFilter(filter).SetReplacement(raws[i]).SetUpsert(true))
		}
		modelIdx = append(modelIdx, i)
	}
	if len(models) == 0 {
		return nil, nil
	}
	// FerretDB ends an update command at its first failing statement even
	// when unordered: after a refusal, the statements after the last
	// refused one go again (idempotent; MongoDB had written them).
	var refused []string
	for len(models) > 0 {
		_, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if err == nil || !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return refused, err
		}
		last := -1
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(modelIdx) || docs[modelIdx[we.Index]].Epoch == 0 || we.Code != codePathNotViable {
				return refused, err
			}
			refused = append(refused, docs[modelIdx[we.Index]].ID)
			last = max(last, we.Index)
		}
		models, modelIdx = models[last+1:], modelIdx[last+1:]
	}
	return refused, nil
}

// codePathNotViable is the error of an update setting a path through a
// number: a fenced write refused (FenceField).
const codePathNotViable = 28

// ErrCommandTimeout is the cause of a command that ran out of its own
// deadline: the store is slower than the deadline allows, or stuck.
var ErrCommandTimeout = errors.New("command deadline exceeded")
