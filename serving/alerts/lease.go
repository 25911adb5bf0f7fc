package alerts

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/proc"
	"github.com/loglambda/loglambda/schemas/collections"
)

// The evaluator lease: one document per term ("epoch"), `lease|<epoch>`.
// The holder of the newest epoch renews its own document; when that has
// expired, the others race to insert the next epoch, and the unique _id
// lets exactly one win. Taking over by insert rather than by a
// conditional update matters on FerretDB v1, whose update finds and then
// replaces without a transaction, so two conditional updates can both
// match an expired lease; two inserts of one _id cannot both succeed.
// A lease whose holder ran on this machine and has ended (proc_linux.go)
// counts as expired.

// leaseDoc is one epoch of the lease (schemas/collections).
type leaseDoc = collections.LeaseDoc

func leaseID(epoch int64) string { return collections.LeaseID(epoch) }

// lease is the engine's view of the lease.
type lease struct {
	coll   *mongo.Collection
	holder string
	proc   string // this process, for leaseDoc.Proc
	ttl    time.Duration
	// goneHolder is the holder whose lease this process took over early
	// because its process had ended; set by acquire, for the log.
	goneHolder string
	// epoch and until are the epoch held and until when; epoch 0: not held.
	epoch int64
	until time.Time
}

// newest reads the newest epoch's document; nil when there is none.
func (l *lease) newest(ctx context.Context) (*leaseDoc, error) {
	cur, err := l.coll.Find(ctx, bson.M{"kind": kindLease})
	if err != nil {
		return nil, fmt.Errorf("read lease: %w", err)
	}
	var docs []leaseDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read lease: %w", err)
	}
	var top *leaseDoc
	for i := range docs {
		if top == nil || docs[i].Epoch > top.Epoch {
			top = &docs[i]
		}
	}
	return top, nil
}

// acquire takes or renews the lease at now and reports whether this
// process holds it until now + ttl.
func (l *lease) acquire(ctx context.Context, now time.Time) (bool, error) {
	top, err := l.newest(ctx)
	if err != nil {
		// A failed read (FerretDB answers SQLITE_BUSY while batch writes)
		// does not end a lease that has time left.
		return l.held(now, 0), err
	}
	switch {
	case top != nil && top.Holder == l.holder && now.Before(top.Expires):
		// Only a live lease is renewed: once it has expired, others may be
		// inserting the next epoch, and this process must race them for it.
		res, err := l.coll.UpdateOne(ctx, bson.M{"_id": top.ID, "holder": l.holder},
			bson.M{"$set": bson.M{"expires": now.Add(l.ttl)}})
		if err != nil {
			return l.held(now, 0), fmt.Errorf("renew lease %s: %w", top.ID, err)
		}
		if res.MatchedCount != 1 {
			l.epoch = 0
			return false, fmt.Errorf("renew lease %s: the document is gone", top.ID)
		}
		l.epoch, l.until = top.Epoch, now.Add(l.ttl)
		return true, nil
	case top != nil && now.Before(top.Expires) && !proc.Gone(l.proc, top.Proc):
		l.epoch = 0
		return false, nil
	}
	l.goneHolder = ""
	if top != nil && now.Before(top.Expires) {
		l.goneHolder = top.Holder
	}
	next := int64(1)
	if top != nil {
		next = top.Epoch + 1
	}
	d := leaseDoc{ID: leaseID(next), Kind: kindLease, Epoch: next, Holder: l.holder, Acquired: now, Expires: now.Add(l.ttl), Proc: l.proc}
	if _, err := l.coll.InsertOne(ctx, d); err != nil {
		l.epoch = 0
		if mongo.IsDuplicateKeyError(err) {
			return false, nil // another process won this epoch
		}
		return false, fmt.Errorf("take lease %s: %w", d.ID, err)
	}
	l.epoch, l.until = next, d.Expires
	// Older epochs are history; keep the one before for the logs.
	_, _ = l.coll.DeleteMany(ctx, bson.M{"kind": kindLease, "epoch": bson.M{"$lt": next - 1}})
	return true, nil
}

// held reports whether the lease is held with at least margin left at now.
func (l *lease) held(now time.Time, margin time.Duration) bool {
	return l.epoch != 0 && now.Add(margin).Before(l.until)
}

// release lets the next process take over at once instead of after the
// ttl: a graceful stop ends the lease.
func (l *lease) release(ctx context.Context, now time.Time) error {
	if l.epoch == 0 {
		return nil
	}
	_, err := l.coll.UpdateOne(ctx, bson.M{"_id": leaseID(l.epoch), "holder": l.holder},
		bson.M{"$set": bson.M{"expires": now}}, options.UpdateOne())
	l.epoch = 0
	if err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}
