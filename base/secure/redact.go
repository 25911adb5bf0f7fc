package secure

import (
	"regexp"
	"strings"
)

// redacted replaces a secret wherever one is shown.
const redacted = "xxxxx"

// secretParam matches connection-string options whose values are secrets
// (authMechanismProperties=AWS_SESSION_TOKEN:..., password=...).
var secretParam = regexp.MustCompile(`(?i)((?:password|secret|token)[a-z_]*[=:])[^&,]*`)

// RedactURI returns uri with the password of its user info and the values
// of secret options replaced by xxxxx, for logs and answers:
// mongodb://app:s3cret@h1,h2/db -> mongodb://app:xxxxx@h1,h2/db. It does not
// parse with net/url, which rejects the comma-separated host lists of
// MongoDB connection strings.
func RedactURI(uri string) string {
	scheme := strings.Index(uri, "://")
	if scheme < 0 {
		return uri
	}
	rest := uri[scheme+3:]
	query := ""
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest, query = rest[:q], rest[q:]
	}
	// The user info ends at the last @ before the hosts: a password typed
	// with an unescaped @ still ends up redacted whole.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			rest = rest[:colon+1] + redacted + rest[at:]
		}
	}
	query = secretParam.ReplaceAllString(query, "${1}"+redacted)
	return uri[:scheme+3] + rest + query
}

// URIPassword is the password in uri's user info, "" when none: the
// secret an error from the driver might quote back.
func URIPassword(uri string) string {
	scheme := strings.Index(uri, "://")
	if scheme < 0 {
		return ""
	}
	rest := uri[scheme+3:]
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return ""
	}
	return rest[colon+1 : at]
}

// RedactError returns err with every secret in its message replaced by
// xxxxx; errors.Is and errors.As still reach the original.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, redacted)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
