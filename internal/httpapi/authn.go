package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riposte-soar/riposte/internal/auth"
)

// SourceAuth is how a webhook source may authenticate, besides bearer
// tokens.
type SourceAuth struct {
	// HMACSecret enables signed requests.
	HMACSecret      []byte
	HMACHeader      string
	TimestampHeader string // empty: the body alone is signed, no replay check
	MaxSkew         time.Duration
	// PathSecretSHA256 enables /v1/alerts/{source}/{secret}.
	PathSecretSHA256 []byte
}

var (
	errNoCredential  = errors.New("no credentials: send a bearer token, an HMAC signature or the source's path secret")
	errBadToken      = errors.New("invalid token")
	errTokenRole     = errors.New("token may not post alerts (needs role ingest or admin)")
	errTokenSource   = errors.New("token is not bound to this source")
	errBadSignature  = errors.New("bad signature")
	errStale         = errors.New("timestamp missing, malformed or outside the allowed skew")
	errBadPathSecret = errors.New("invalid path secret")
)

// bearer extracts a bearer token; ok is false when none was sent.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", true // presented, but not a bearer token
	}
	return strings.TrimSpace(tok), true
}

// authenticateIngest checks every credential the request presents; at least
// one must be present and all presented must be valid.
func (h *handler) authenticateIngest(r *http.Request, source string, sa SourceAuth, pathSecret string, hasPathSecret bool, body []byte, now time.Time) (string, error) {
	who := ""
	presented := false
	if hasPathSecret {
		presented = true
		if len(sa.PathSecretSHA256) == 0 {
			return "", errBadPathSecret
		}
		sum := sha256.Sum256([]byte(pathSecret))
		if subtle.ConstantTimeCompare(sum[:], sa.PathSecretSHA256) != 1 {
			return "", errBadPathSecret
		}
		who = "path-secret"
	}
	if tok, ok := bearer(r); ok {
		presented = true
		p, ok := h.d.Tokens.Lookup(tok)
		if !ok {
			return "", errBadToken
		}
		if !p.HasRole(auth.RoleIngest, auth.RoleAdmin) {
			return "", errTokenRole
		}
		if len(p.Sources) > 0 && !contains(p.Sources, source) {
			return "", errTokenSource
		}
		who = "token:" + p.Name
	}
	if len(sa.HMACSecret) > 0 && r.Header.Get(sa.HMACHeader) != "" {
		presented = true
		if err := verifyHMAC(r, sa, body, now); err != nil {
			return "", err
		}
		who = "hmac"
	}
	if !presented {
		return "", errNoCredential
	}
	return who, nil
}

func verifyHMAC(r *http.Request, sa SourceAuth, body []byte, now time.Time) error {
	sigHex := strings.TrimPrefix(strings.TrimSpace(r.Header.Get(sa.HMACHeader)), "sha256=")
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		return errBadSignature
	}
	mac := hmac.New(sha256.New, sa.HMACSecret)
	if sa.TimestampHeader != "" {
		ts := strings.TrimSpace(r.Header.Get(sa.TimestampHeader))
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return errStale
		}
		skew := now.Sub(time.Unix(sec, 0))
		if skew < 0 {
			skew = -skew
		}
		if skew > sa.MaxSkew {
			return errStale
		}
		mac.Write([]byte(ts))
		mac.Write([]byte("."))
	}
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return errBadSignature
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// requireRole authenticates a bearer token with one of roles; it writes
// the 401/403 itself and returns false when the request must stop.
func (h *handler) requireRole(w http.ResponseWriter, r *http.Request, roles ...string) (auth.Principal, bool) {
	tok, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="riposte"`)
		writeError(w, http.StatusUnauthorized, "missing bearer token")
		return auth.Principal{}, false
	}
	p, ok := h.d.Tokens.Lookup(tok)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="riposte", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid token")
		return auth.Principal{}, false
	}
	if len(roles) > 0 && !p.HasRole(roles...) {
		writeError(w, http.StatusForbidden, "role "+p.Role+" may not do this; needs one of "+strings.Join(roles, ", "))
		return auth.Principal{}, false
	}
	return p, true
}
