package secure_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/loglambda/loglambda/base/secure"
)

func TestRedactURI(t *testing.T) {
	cases := []struct{ in, want string }{
		{"mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017"},
		{"mongodb://app:s3cret@h1:27017,h2:27017/views?tls=true", "mongodb://app:xxxxx@h1:27017,h2:27017/views?tls=true"},
		{"mongodb+srv://app:p%40ss@cluster0.example.net/", "mongodb+srv://app:xxxxx@cluster0.example.net/"},
		{"mongodb://app:p@ss:w/rd@h1/db", "mongodb://app:xxxxx@h1/db"},
		{"mongodb://app@h1/?authMechanism=MONGODB-X509", "mongodb://app@h1/?authMechanism=MONGODB-X509"},
		{"mongodb://h1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok123", "mongodb://h1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:xxxxx"},
		{"not a uri", "not a uri"},
	}
	for _, c := range cases {
		if got := secure.RedactURI(c.in); got != c.want {
			t.Errorf("RedactURI(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := secure.URIPassword("mongodb://app:s3cret@h1/db"); got != "s3cret" {
		t.Errorf("URIPassword = %q", got)
	}
}

func TestRedactError(t *testing.T) {
	err := secure.RedactError(errors.Join(errors.New("auth s3cret failed"), fs.ErrNotExist), "s3cret")
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "auth xxxxx failed") {
		t.Fatalf("error %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("errors.Is lost the cause")
	}
}
