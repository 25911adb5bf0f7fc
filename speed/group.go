package speed

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// assigned runs when the group has given this member partitions, after
// their committed offsets were fetched and before any is consumed. It
// restores each new partition from MongoDB and replaces the group's offset
// by the resume rule: Kafka's committed offsets are only a hint.
func (s *Speed) assigned(ctx context.Context, offs map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	for topic, parts := range offs {
		if topic != s.cfg.Topic {
			continue
		}
		for id := range parts {
			s.mu.Lock()
			p := s.parts[id]
			s.mu.Unlock()
			if p == nil {
				var err error
				if p, err = s.restore(ctx, topic, id); err != nil {
					// The session ends and the member rejoins: retried.
					s.cfg.Logger.Error("speed: restore failed", "partition", id, "err", err)
					return nil, err
				}
				s.mu.Lock()
				s.parts[id] = p
				s.mu.Unlock()
				s.cfg.Logger.Info("speed partition assigned", "topic", topic, "partition", id,
					"resume", p.resume, "checkpoint", p.replayTo, "open_panes", len(p.panes), "watermark", p.watermark)
			}
			// A partition still held (a fetch retried within a session)
			// continues after the last record read.
			next := p.seen + 1
			if p.seen < 0 && p.resume < 0 {
				parts[id] = kgo.NewOffset().AtStart()
				continue
			}
			parts[id] = kgo.NewOffset().At(next).WithEpoch(-1)
		}
	}
	return offs, nil
}

// revoked runs when partitions leave this member (rebalance or Close),
// between polls: their dirty panes and checkpoints are written so the next
// owner replays little, then their state is dropped.
func (s *Speed) revoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	ids := revoked[s.cfg.Topic]
	if len(ids) == 0 {
		return
	}
	if !s.stopping.Load() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
		defer cancel()
		if err := s.flush(fctx, ids); err != nil {
			// Dropping the state is still correct: the next owner resumes
			// from what MongoDB holds.
			s.cfg.Logger.Error("speed: flush of revoked partitions failed", "partitions", ids, "err", err)
		} else {
			s.hint(cl, s.hintOffsets(ids...))
		}
	}
	s.drop(ids)
}

// lost runs when the group session failed: another member may own the
// partitions already, so nothing is written; their state is dropped.
func (s *Speed) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.drop(lost[s.cfg.Topic])
}

func (s *Speed) drop(ids []int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.parts, id)
	}
	if len(ids) > 0 {
		s.cfg.Logger.Info("speed partitions released", "topic", s.cfg.Topic, "partitions", ids)
	}
}
