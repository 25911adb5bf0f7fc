package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/loglambda/loglambda/base/atomicfile"
)

// S3 is a Store under a bucket prefix, through minio-go (a small client
// that speaks S3 to AWS and to every S3-compatible server, where the AWS
// SDK is a much larger dependency tree for the same calls).
//
// An S3 PUT is atomic: the object is replaced whole when the request
// completes, so every write is the "write then rename" of a directory.
// Put's conditions are S3's conditional writes (If-None-Match: * and
// If-Match: etag); Open checks that the server honours them, since a
// server that ignored them would let two writers overwrite each other.
//
// A server without conditional writes (older MinIO, Ceph RGW and
// SeaweedFS releases, some gateways; or --s3-conditional off) gets them
// emulated: Put reads the object's ETag, compares, then writes. That is
// not atomic: two writers can both pass the comparison. The lake does not
// rely on it alone: only the lease holder writes the manifest, a takeover
// of the lease is confirmed by reading it back after a settle time longer
// than the gap allowed between its read and its write (see TakeLease), and
// a manifest save is bounded by the lease's validity, so a writer that
// lost its lease cannot write over its successor's manifest.
type S3 struct {
	client         *minio.Client
	bucket, prefix string // prefix ends with "/" unless empty
	location       string
	// emulated: conditions are checked by a read before the write.
	emulated bool
}

// Conditional reports whether the server's own conditional writes are
// used (false: emulated, see S3).
func (s *S3) Conditional() bool { return !s.emulated }

// openS3 connects to s3://bucket/prefix with credentials from the usual
// AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), then the shared credentials file (~/.aws/credentials,
// AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE), then the instance's IAM role.
func openS3(ctx context.Context, location string, c cfg) (*S3, error) {
	u, err := url.Parse(location)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("lake %s: want s3://bucket/prefix", location)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		if _, err := cleanKey(prefix); err != nil {
			return nil, fmt.Errorf("lake %s: prefix: %w", location, err)
		}
		prefix += "/"
	}
	host, secure, lookup := "s3.amazonaws.com", true, minio.BucketLookupAuto
	if c.endpoint != "" {
		e, err := url.Parse(c.endpoint)
		if err != nil || e.Host == "" || (e.Scheme != "http" && e.Scheme != "https") || strings.Trim(e.Path, "/") != "" {
			return nil, fmt.Errorf("S3 endpoint %q: want http://host:port or https://host:port", c.endpoint)
		}
		host, secure, lookup = e.Host, e.Scheme == "https", minio.BucketLookupPath
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("lake %s: %w", location, err)
	}
	if secure {
		tc, err := c.tls.Config()
		if err != nil {
			return nil, fmt.Errorf("lake %s: TLS: %w", location, err)
		}
		tr.TLSClientConfig = tc
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{},
	})
	cl, err := minio.New(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Transport:    tr,
		Region:       os.Getenv("AWS_REGION"),
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("lake %s: %w", location, err)
	}
	s := &S3{client: cl, bucket: u.Host, prefix: prefix, location: location}
	ok, err := cl.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("lake %s: bucket %s at %s: %w", location, s.bucket, host, err)
	}
	if !ok {
		return nil, fmt.Errorf("lake %s: bucket %s does not exist at %s: create it first", location, s.bucket, host)
	}
	switch c.conditional {
	case ConditionalOff:
		s.emulated = true
	case ConditionalOn:
		if err := s.checkConditional(ctx); err != nil {
			return nil, err
		}
	default:
		err := s.checkConditional(ctx)
		if errors.Is(err, errNoConditional) {
			s.emulated = true
		} else if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// errNoConditional is checkConditional's answer for a server that ignores
// or refuses conditional writes.
var errNoConditional = errors.New("the server ignores conditional writes (If-None-Match), which the lake's lease and manifest need to stay single-writer: use --s3-conditional auto or off to emulate them under the lease")

// checkConditional puts a probe object twice with If-None-Match: *; a
// server that accepts the second put ignores conditions, and the lake's
// lease and manifest cannot rely on it.
func (s *S3) checkConditional(ctx context.Context) error {
	key := fmt.Sprintf("_probe/conditional-%d", os.Getpid())
	defer s.Delete(context.WithoutCancel(ctx), key)
	if err := s.Delete(ctx, key); err != nil {
		return err
	}
	if _, err := s.Put(ctx, key, []byte("1"), IfAbsent()); err != nil {
		if notImplemented(err) {
			return fmt.Errorf("lake %s: %w (%v)", s.location, errNoConditional, err)
		}
		return fmt.Errorf("lake %s: %w", s.location, err)
	}
	_, err := s.Put(ctx, key, []byte("2"), IfAbsent())
	switch {
	case errors.Is(err, ErrPrecondition):
		return nil
	case err == nil:
		return fmt.Errorf("lake %s: %w", s.location, errNoConditional)
	case notImplemented(err):
		return fmt.Errorf("lake %s: %w (%v)", s.location, errNoConditional, err)
	}
	return fmt.Errorf("lake %s: %w", s.location, err)
}

func (s *S3) LocalDir() string { return "" }

func (s *S3) String() string { return s.location }

// Bucket and Prefix name where the objects are.
func (s *S3) Bucket() string { return s.bucket }
func (s *S3) Prefix() string { return s.prefix }

func (s *S3) object(key string) (string, error) {
	if _, err := cleanKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// wrap turns S3's answers into the package's errors.
func (s *S3) wrap(op, key string, err error) error {
	switch minio.ToErrorResponse(err).StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%s %s/%s: %w", op, s.location, key, ErrNotExist)
	case http.StatusPreconditionFailed, http.StatusConflict:
		return fmt.Errorf("%s %s/%s: %w (%v)", op, s.location, key, ErrPrecondition, err)
	}
	return fmt.Errorf("%s %s/%s: %w", op, s.location, key, err)
}

func (s *S3) Get(ctx context.Context, key string) ([]byte, string, error) {
	obj, err := s.object(key)
	if err != nil {
		return nil, "", err
	}
	o, err := s.client.GetObject(ctx, s.bucket, obj, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s.wrap("get", key, err)
	}
	defer o.Close()
	// Read before Stat: a Stat first is a HEAD, and the read after it a
	// GET conditional on the HEAD's ETag, which fails (412) when another
	// writer replaced the object between the two. Read first, the one GET
	// gives both the body and the ETag of that body.
	data, err := io.ReadAll(o)
	if err != nil {
		return nil, "", s.wrap("get", key, err)
	}
	st, err := o.Stat()
	if err != nil {
		return nil, "", s.wrap("get", key, err)
	}
	return data, st.ETag, nil
}

func (s *S3) Put(ctx context.Context, key string, data []byte, cond Cond) (string, error) {
	obj, err := s.object(key)
	if err != nil {
		return "", err
	}
	opts := minio.PutObjectOptions{ContentType: contentType(key), DisableMultipart: true, SendContentMd5: true}
	switch {
	case cond != Always && s.emulated:
		if err := s.compare(ctx, key, obj, cond); err != nil {
			return "", err
		}
	case cond.ifAbsent:
		opts.SetMatchETagExcept("*")
	case cond.ifVersion != "":
		opts.SetMatchETag(cond.ifVersion)
	}
	info, err := s.client.PutObject(ctx, s.bucket, obj, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return "", s.wrap("put", key, err)
	}
	return info.ETag, nil
}

// compare checks cond against the object's current ETag: the emulation
// of a conditional write, a read before the write (see S3).
func (s *S3) compare(ctx context.Context, key, obj string, cond Cond) error {
	st, err := s.client.StatObject(ctx, s.bucket, obj, minio.StatObjectOptions{})
	cur := st.ETag
	if err != nil {
		if !errors.Is(s.wrap("stat", key, err), ErrNotExist) {
			return s.wrap("put", key, err)
		}
		cur = ""
	}
	switch {
	case cond.ifAbsent && cur != "":
		return fmt.Errorf("put %s/%s: %w (it exists)", s.location, key, ErrPrecondition)
	case cond.ifVersion != "" && cur != cond.ifVersion:
		return fmt.Errorf("put %s/%s: %w (version %q, want %q)", s.location, key, ErrPrecondition, cur, cond.ifVersion)
	}
	return nil
}

// notImplemented reports whether the server refused a request for a
// feature it lacks (501, NotImplemented): a conditional write, here.
func notImplemented(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotImplemented || r.Code == "NotImplemented"
}

func (s *S3) Upload(ctx context.Context, key, src string) error {
	obj, err := s.object(key)
	if err != nil {
		return err
	}
	if _, err := s.client.FPutObject(ctx, s.bucket, obj, src, minio.PutObjectOptions{ContentType: contentType(key)}); err != nil {
		return s.wrap("upload", key, err)
	}
	return nil
}

// Download streams key into a temp file beside dst and renames it.
func (s *S3) Download(ctx context.Context, key, dst string) error {
	obj, err := s.object(key)
	if err != nil {
		return err
	}
	o, err := s.client.GetObject(ctx, s.bucket, obj, minio.GetObjectOptions{})
	if err != nil {
		return s.wrap("download", key, err)
	}
	defer o.Close()
	// GetObject is lazy: Stat makes a missing object an error here, with
	// S3's status, rather than in the middle of the copy.
	if _, err := o.Stat(); err != nil {
		return s.wrap("download", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("download %s: %w", key, err)
	}
	if _, err := atomicfile.WriteWith(dst, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, o)
		return err
	}); err != nil {
		return s.wrap("download", key, err)
	}
	return nil
}

func (s *S3) List(ctx context.Context, prefix string) ([]Info, error) {
	var out []Info
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.wrap("list", prefix, o.Err)
		}
		out = append(out, Info{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	obj, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, obj, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s.wrap("delete", key, err), ErrNotExist) {
			return nil
		}
		return s.wrap("delete", key, err)
	}
	return nil
}

// AbortUploads aborts the incomplete multipart uploads under prefix
// started before before. Upload sends a file over 16 MiB in parts
// (minio-go's multipart PUT); a writer killed between the first part and
// the completion leaves an upload that no List shows and that the server
// keeps until it is aborted (or a bucket lifecycle rule expires it).
func (s *S3) AbortUploads(ctx context.Context, prefix string, before time.Time) ([]string, error) {
	var keys []string
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix+prefix, true) {
		if u.Err != nil {
			return nil, s.wrap("list incomplete uploads", prefix, u.Err)
		}
		if !u.Initiated.IsZero() && !u.Initiated.Before(before) {
			continue
		}
		keys = append(keys, strings.TrimPrefix(u.Key, s.prefix))
	}
	sort.Strings(keys)
	keys = slices.Compact(keys)
	for i, k := range keys {
		if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, s.prefix+k); err != nil {
			return keys[:i], s.wrap("abort incomplete upload", k, err)
		}
	}
	return keys, nil
}

func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".json"):
		return "application/json"
	case strings.HasSuffix(key, ".parquet"):
		return "application/vnd.apache.parquet"
	}
	return "application/octet-stream"
}
