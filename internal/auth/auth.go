// Package auth holds Riposte's API tokens and roles: token generation, the
// SHA-256 form kept in config, constant-time lookup, and the admin token that
// `riposte dev` creates on first start.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Roles.
const (
	RoleAdmin      = "admin"
	RoleResponder  = "responder"
	RoleCompliance = "compliance"
	RoleIngest     = "ingest"
)

// tokenPrefix makes leaked tokens easy for secret scanners to spot.
const tokenPrefix = "rpt_"

// NewToken returns a fresh random token (256 bits) and its hex SHA-256.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	token = tokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return token, Hash(token), nil
}

// Hash is the hex SHA-256 of a token, the form stored in config.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Principal is who presented a token.
type Principal struct {
	Name string
	Role string
	// Sources, when set, limits an ingest token to these alert sources.
	Sources []string
}

// HasRole reports whether the principal has one of roles.
func (p Principal) HasRole(roles ...string) bool {
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// Token is one configured token.
type Token struct {
	Name    string
	Role    string
	SHA256  string
	Sources []string
}

// Store checks presented tokens against the configured hashes.
type Store struct {
	tokens []storedToken
}

type storedToken struct {
	sum [sha256.Size]byte
	p   Principal
}

// NewStore builds a store; hashes must be 64 hex characters (config
// validation guarantees this).
func NewStore(tokens []Token) (*Store, error) {
	s := &Store{}
	for i, t := range tokens {
		raw, err := hex.DecodeString(t.SHA256)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("token %d (%s): sha256 must be 64 hex characters", i, t.Name)
		}
		var st storedToken
		copy(st.sum[:], raw)
		st.p = Principal{Name: t.Name, Role: t.Role, Sources: t.Sources}
		s.tokens = append(s.tokens, st)
	}
	return s, nil
}

// Len is the number of configured tokens.
func (s *Store) Len() int { return len(s.tokens) }

// Lookup returns the principal for a presented token. Every stored hash is
// compared in constant time, so timing tells nothing about which matched.
func (s *Store) Lookup(token string) (Principal, bool) {
	if token == "" {
		return Principal{}, false
	}
	sum := sha256.Sum256([]byte(token))
	var found Principal
	ok := 0
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
			found, ok = t.p, 1
		}
	}
	return found, ok == 1
}

// AdminTokenFile is the name of the generated admin token under the data
// directory.
const AdminTokenFile = "admin.token"

// EnsureDevAdminToken returns the admin token stored in dataDir, creating it
// (mode 0600) on first use. created tells whether it is new.
func EnsureDevAdminToken(dataDir string) (token string, created bool, err error) {
	path := filepath.Join(dataDir, AdminTokenFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		token = strings.TrimSpace(string(b))
		if !strings.HasPrefix(token, tokenPrefix) {
			return "", false, fmt.Errorf("%s: not a riposte token; delete it to create a new one", path)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return "", false, fmt.Errorf("%s: mode %v lets others read the admin token; chmod 600 it", path, fi.Mode().Perm())
		}
		return token, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("read admin token: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("create data directory: %w", err)
	}
	token, _, err = NewToken()
	if err != nil {
		return "", false, err
	}
	// O_EXCL: two processes starting at once must not overwrite each other.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("create admin token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write admin token: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("write admin token: %w", err)
	}
	return token, true, nil
}
