package serving

import (
	"fmt"
	"runtime"
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// A cached answer's gRPC response is marshalled once, as its HTTP body is
// encoded once: the server's codec (wireCodec) sends the bytes kept for a
// response message instead of marshalling it again. Marshalling the kept
// message at every call was half of a repeated call's server time (a 24 h
// Clusters answer under grpcload -c 8, a CPU profile of up: the codec's
// Marshal 0.86 s of processUnaryRPC's 1.71 s, shared machine), and put
// gRPC at 0.24-0.8 times the rate of the health check beside it where
// HTTP answers were at about its /healthz's.

// wireCache maps a kept response message to its marshalled bytes. An
// entry lives as long as the answer that owns the message (a cleanup on
// the owner removes it), so the cache holds no more than the answer
// cache does. Safe for concurrent use.
type wireCache struct {
	m sync.Map // proto.Message -> []byte
}

// keep marshals msg, which must never change afterwards, and keeps its
// bytes while owner is reachable.
func keep[T any](c *wireCache, owner *T, msg proto.Message) {
	b, err := proto.Marshal(msg)
	if err != nil {
		return // the codec marshals it at each call and reports the error
	}
	c.m.Store(msg, b)
	runtime.AddCleanup(owner, func(k proto.Message) { c.m.Delete(k) }, msg)
}

// wireCodec is the gRPC server's codec: proto's, but a message whose
// bytes are kept (wireCache) is sent as those bytes.
type wireCodec struct {
	proto encoding.CodecV2
	wires *wireCache
}

func newWireCodec(c *wireCache) (wireCodec, error) {
	p := encoding.GetCodecV2("proto")
	if p == nil {
		return wireCodec{}, fmt.Errorf("grpc: no proto codec registered")
	}
	return wireCodec{proto: p, wires: c}, nil
}

func (c wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(proto.Message); ok {
		if b, ok := c.wires.m.Load(m); ok {
			// A SliceBuffer is never freed or written to: the kept
			// bytes are shared by every call that sends them.
			return mem.BufferSlice{mem.SliceBuffer(b.([]byte))}, nil
		}
	}
	return c.proto.Marshal(v)
}

func (c wireCodec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c wireCodec) Name() string { return c.proto.Name() }
