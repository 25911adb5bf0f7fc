package testkit

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is a real S3 server for a test: SeaweedFS's `weed server -s3` on
// loopback ports, with one identity whose keys the test's environment
// carries (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), as a user's would.
type S3 struct {
	// Endpoint is the server's URL, for --s3-endpoint.
	Endpoint string
	// Env holds the identity's keys as environment variables
	// (KEY=value), for the processes of a test started by
	// StartS3Processes.
	Env    []string
	client *minio.Client
}

// weedBinary finds the weed binary ci/seaweedfs.sh builds: $LOGLAMBDA_WEED,
// else the newest under ~/.cache/loglambda/weed/*/weed, else weed on PATH.
func weedBinary() string {
	if p := os.Getenv("LOGLAMBDA_WEED"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	found, _ := filepath.Glob(filepath.Join(cache, "loglambda", "weed", "*", "weed"))
	sort.Strings(found)
	if len(found) > 0 {
		return found[len(found)-1]
	}
	p, _ := exec.LookPath("weed")
	return p
}

// StartS3 starts SeaweedFS for tb, stopped when tb ends, and puts its
// keys in tb's environment. Without the binary the test fails in CI
// (ci/test.sh builds it: $CI or $LOGLAMBDA_WEED set) and is skipped
// elsewhere, saying how to build it.
func StartS3(tb testing.TB) *S3 {
	tb.Helper()
	s := StartS3Processes(tb)
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
	return s
}

// StartS3Processes is StartS3 leaving tb's environment alone: the keys
// are in S3.Env only, for the processes the test starts (cmd.Env). A test
// that runs in parallel (t.Parallel) cannot set its environment.
func StartS3Processes(tb testing.TB) *S3 {
	tb.Helper()
	bin := weedBinary()
	if _, err := os.Stat(bin); bin == "" || err != nil {
		msg := "no SeaweedFS weed binary (a real S3 server): run ci/seaweedfs.sh once (~4 min), or set LOGLAMBDA_WEED"
		if os.Getenv("CI") != "" || os.Getenv("LOGLAMBDA_WEED") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	dir := tb.TempDir()
	const access, secret = "loglambda-test", "loglambda-test-secret"
	conf := fmt.Sprintf(`{"identities":[{"name":"test","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, access, secret)
	confPath := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	// Each weed server listens on port and port+10000 (its gRPC).
	ports := freePortPairs(tb, 4)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		tb.Fatal(err)
	}
	cmd := Command(bin, "server", "-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		fmt.Sprintf("-master.port=%d", ports[0]), fmt.Sprintf("-volume.port=%d", ports[1]),
		fmt.Sprintf("-filer.port=%d", ports[2]), "-s3", fmt.Sprintf("-s3.port=%d", ports[3]),
		"-s3.config="+confPath, "-volume.max=100", "-master.volumeSizeLimitMB=64")
	logf, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start weed: %v", err)
	}
	tb.Cleanup(func() {
		Kill(cmd)
		cmd.Wait()
		logf.Close()
	})
	host := fmt.Sprintf("127.0.0.1:%d", ports[3])
	cl, err := minio.New(host, &minio.Options{Creds: credentials.NewStaticV4(access, secret, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		tb.Fatal(err)
	}
	s := &S3{Endpoint: "http://" + host, client: cl,
		Env: []string{"AWS_ACCESS_KEY_ID=" + access, "AWS_SECRET_ACCESS_KEY=" + secret}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cl.ListBuckets(ctx)
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
			tb.Fatalf("weed S3 on %s not ready after 90s: %v\n%s", host, err, tail(log, 3000))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Bucket creates bucket and waits until a put into it succeeds (the first
// put into a new SeaweedFS bucket waits for its volumes to grow).
func (s *S3) Bucket(tb testing.TB, bucket string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		tb.Fatalf("make bucket %s: %v", bucket, err)
	}
	for {
		_, err := s.client.PutObject(ctx, bucket, "_warmup", strings.NewReader("x"), 1, minio.PutObjectOptions{})
		if err == nil {
			s.client.RemoveObject(ctx, bucket, "_warmup", minio.RemoveObjectOptions{})
			return
		}
		if ctx.Err() != nil {
			tb.Fatalf("first put into %s: %v", bucket, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Keys lists the keys under prefix in bucket.
func (s *S3) Keys(tb testing.TB, bucket, prefix string) []string {
	tb.Helper()
	var out []string
	for o := range s.client.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			tb.Fatalf("list %s/%s: %v", bucket, prefix, o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}

// freePortPairs returns n ports p that are free along with p+10000, no
// two of the 2n ports equal. Every port stays held until all are chosen, so
// the kernel cannot hand one out twice, and a pair whose p+10000 is another
// pair's p is skipped: CI once saw weed's master gRPC (master port+10000)
// and its filer drawn on the same port, and the filer died on bind.
func freePortPairs(tb testing.TB, n int) []int {
	tb.Helper()
	var out []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	taken := map[int]bool{}
	for tries := 0; len(out) < n && tries < 1000; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		if p+10000 > 65535 || taken[p] || taken[p+10000] {
			continue
		}
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		held = append(held, l2)
		taken[p], taken[p+10000] = true, true
		out = append(out, p)
	}
	if len(out) < n {
		tb.Fatal("no free port pairs")
	}
	return out
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Mirror downloads every object under prefix in bucket into dir, keeping
// the key's path below prefix: a bucket read as a Spark-style reader
// would, with the plain S3 client.
func (s *S3) Mirror(tb testing.TB, bucket, prefix, dir string) {
	tb.Helper()
	ctx := context.Background()
	for _, k := range s.Keys(tb, bucket, prefix) {
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(k, prefix)))
		if err := s.client.FGetObject(ctx, bucket, k, dst, minio.GetObjectOptions{}); err != nil {
			tb.Fatalf("get %s/%s: %v", bucket, k, err)
		}
	}
}

// IncompleteUpload starts a multipart upload of key in bucket and sends
// one part without completing it: what a writer killed in the middle of a
// large upload leaves behind.
func (s *S3) IncompleteUpload(tb testing.TB, bucket, key string) {
	tb.Helper()
	ctx := context.Background()
	core := &minio.Core{Client: s.client}
	id, err := core.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{})
	if err != nil {
		tb.Fatalf("start multipart upload %s/%s: %v", bucket, key, err)
	}
	part := strings.Repeat("x", 5<<20)
	if _, err := core.PutObjectPart(ctx, bucket, key, id, 1, strings.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
		tb.Fatalf("upload part of %s/%s: %v", bucket, key, err)
	}
}

// Uploads lists the keys of the incomplete multipart uploads under prefix.
func (s *S3) Uploads(tb testing.TB, bucket, prefix string) []string {
	tb.Helper()
	var out []string
	for u := range s.client.ListIncompleteUploads(context.Background(), bucket, prefix, true) {
		if u.Err != nil {
			tb.Fatalf("list incomplete uploads %s/%s: %v", bucket, prefix, u.Err)
		}
		out = append(out, u.Key)
	}
	return out
}

// Object reads bucket/key whole with the plain S3 client; false when it
// does not exist.
func (s *S3) Object(tb testing.TB, bucket, key string) ([]byte, bool) {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.client.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).StatusCode == 404 {
			return nil, false
		}
		tb.Fatalf("stat %s/%s: %v", bucket, key, err)
	}
	o, err := s.client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		tb.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer o.Close()
	data, err := io.ReadAll(o)
	if err != nil {
		tb.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return data, true
}
