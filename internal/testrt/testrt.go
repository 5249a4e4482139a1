// Package testrt starts a real Request Tracker 5 for tests: its own site
// config, a SQLite database and log file in a temp dir, the standalone
// Starlet server on a free 127.0.0.1 port, a random root password and a
// REST2 auth token for root. Debian packages: request-tracker5 rt5-db-sqlite
// rt5-standalone.
//
// Start gives a server owned by one test; Shared gives one server per test
// binary (call CloseShared from TestMain after m.Run).
package testrt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/freeport"
)

const (
	// DefaultServerPath is where Debian's rt5-standalone puts rt-server.
	DefaultServerPath = "/usr/share/request-tracker5/libexec/rt-server"
	// DefaultLibPath is RT's Perl library directory on Debian.
	DefaultLibPath = "/usr/share/request-tracker5/lib"
	// Packages names the Debian packages that provide RT 5 for tests.
	Packages = "request-tracker5 rt5-db-sqlite rt5-standalone"
	// readyTimeout is generous: on a loaded 2-core machine loading RT's
	// Perl modules alone can take tens of seconds.
	readyTimeout = 180 * time.Second
	logTail      = 6000
)

// ErrMissing reports that RT is not installed; Start turns it into a skip
// (or a failure under CI).
var ErrMissing = errors.New("request tracker 5 not installed")

// Server is a running RT 5.
type Server struct {
	URL          string // base URL without trailing slash, e.g. http://127.0.0.1:24567
	RootPassword string // password of the "root" user
	Token        string // REST2 auth token of root ("Authorization: token <Token>")
	Dir          string // temp dir holding config, database and logs
	LogFile      string // RT's own log (debug level)
	ServerLog    string // rt-server's stdout and stderr
	// Timings of the start, for reports: database set-up, password and token,
	// server start until REST2 answered, and the total.
	SetupTime, TokenTime, ReadyTime, StartTime time.Duration

	env     []string
	cmd     *exec.Cmd
	exited  chan struct{}
	ownDir  bool
	closeMu sync.Mutex
	closed  bool
}

// Start launches a server for t and stops it when t ends. When RT is not
// installed it skips t, or fails it when the CI environment variable is set.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := launch(t.TempDir())
	if err != nil {
		failOrSkip(t, err)
	}
	t.Cleanup(s.Close)
	return s
}

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
)

// Shared returns the server shared by every test of this test binary,
// launching it on first use. TestMain must call CloseShared after m.Run.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "testrt-")
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = launch(dir)
		if sharedErr != nil {
			_ = os.RemoveAll(dir)
			return
		}
		shared.ownDir = true
	})
	if sharedErr != nil {
		failOrSkip(t, sharedErr)
	}
	return shared
}

// CloseShared stops the shared server, if one was started.
func CloseShared() {
	if shared != nil {
		shared.Close()
	}
}

func failOrSkip(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrMissing) {
		if os.Getenv("CI") != "" {
			t.Fatalf("testrt: %v (install Debian packages %s)", err, Packages)
		}
		t.Skipf("testrt: missing tool rt-server: %v (Debian packages %s)", err, Packages)
	}
	t.Fatalf("testrt: %v", err)
}

// tools finds the programs RT needs: rt-server, rt-setup-database and perl.
func tools() (server, setup, perl string, err error) {
	server = DefaultServerPath
	if _, e := os.Stat(server); e != nil {
		return "", "", "", fmt.Errorf("%w: %s: %v", ErrMissing, server, e)
	}
	for _, name := range []string{"rt-setup-database-5", "/usr/sbin/rt-setup-database-5", "rt-setup-database"} {
		if p, e := exec.LookPath(name); e == nil {
			setup = p
			break
		}
	}
	if setup == "" {
		return "", "", "", fmt.Errorf("%w: rt-setup-database-5 not found", ErrMissing)
	}
	perl, e := exec.LookPath("perl")
	if e != nil {
		return "", "", "", fmt.Errorf("%w: perl: %v", ErrMissing, e)
	}
	return server, setup, perl, nil
}

func launch(dir string) (*Server, error) {
	begin := time.Now()
	serverBin, setupBin, perlBin, err := tools()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Dir:          dir,
		LogFile:      filepath.Join(dir, "var", "rt.log"),
		ServerLog:    filepath.Join(dir, "var", "server.log"),
		RootPassword: randomHex(12),
	}
	for _, d := range []string{"etc/RT_SiteConfig.d", "var/mason_data", "var/session_data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	s.env = append(os.Environ(),
		// The file and an empty directory of our own: nothing from
		// /etc/request-tracker5 is read.
		"RT_SITE_CONFIG="+filepath.Join(dir, "etc", "RT_SiteConfig.pm"),
		"RT_SITE_CONFIG_DIR="+filepath.Join(dir, "etc", "RT_SiteConfig.d"),
	)
	port, err := freeport.Pick("127.0.0.1")
	if err != nil {
		return nil, err
	}
	if err := s.writeConfig(port); err != nil {
		return nil, err
	}

	t0 := time.Now()
	if out, err := s.run(setupBin, "--action", "init", "--skip-create"); err != nil {
		return nil, fmt.Errorf("rt-setup-database: %v\n%s%s", err, tail(out), s.logs())
	}
	s.SetupTime = time.Since(t0)

	t0 = time.Now()
	out, err := s.runPerl(perlBin, tokenScript, "TESTRT_ROOT_PASSWORD="+s.RootPassword)
	if err != nil {
		return nil, fmt.Errorf("create root token: %v\n%s%s", err, tail(out), s.logs())
	}
	s.Token = strings.TrimSpace(lastLine(out))
	if !strings.Contains(s.Token, "-") {
		return nil, fmt.Errorf("create root token: unexpected output\n%s", tail(out))
	}
	s.TokenTime = time.Since(t0)

	// A port picked free can be taken before rt-server binds it: try again
	// on a new port, rewriting the config (WebPort, WebBaseURL) each time.
	t0 = time.Now()
	for attempt := 1; ; attempt++ {
		err = s.startServer(serverBin, port)
		if err == nil {
			break
		}
		s.Close()
		if attempt == 3 || !strings.Contains(readFile(s.ServerLog), "in use") {
			return nil, err
		}
		if port, err = freeport.Pick("127.0.0.1"); err != nil {
			return nil, err
		}
		if err = s.writeConfig(port); err != nil {
			return nil, err
		}
	}
	s.ReadyTime = time.Since(t0)
	s.StartTime = time.Since(begin)
	return s, nil
}

func (s *Server) writeConfig(port int) error {
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	q := func(v string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'" }
	v := filepath.Join(s.Dir, "var")
	cfg := strings.Join([]string{
		"# Written by internal/testrt for one test run.",
		"Set($rtname, 'riposte-test');",
		"Set($Organization, 'riposte.test');",
		"Set($Timezone, 'UTC');",
		"Set($DatabaseType, 'SQLite');",
		"Set($DatabaseName, " + q(filepath.Join(v, "rt.db")) + ");",
		"Set($WebPath, '');",
		"Set($WebDomain, '127.0.0.1');",
		"Set($WebPort, " + strconv.Itoa(port) + ");",
		"Set($WebBaseURL, " + q(s.URL) + ");",
		"Set($BcryptCost, 4);",
		"Set($LogToSTDERR, undef);",
		"Set($LogToSyslog, undef);",
		"Set($LogToFile, 'debug');",
		"Set($LogDir, " + q(v) + ");",
		"Set($LogToFileNamed, 'rt.log');",
		"# Not options but package globals from RT::Generated: keep Mason's",
		"# cache and sessions out of /var/cache so that servers do not share them.",
		"$MasonDataDir = " + q(filepath.Join(v, "mason_data")) + ";",
		"$MasonSessionDir = " + q(filepath.Join(v, "session_data")) + ";",
		"1;",
		"",
	}, "\n")
	return os.WriteFile(filepath.Join(s.Dir, "etc", "RT_SiteConfig.pm"), []byte(cfg), 0o600)
}

// tokenScript sets root's password and prints a new REST2 auth token for
// root. The password comes from the environment, never the command line.
const tokenScript = `
use strict; use warnings;
use RT;
RT::LoadConfig();
RT::Init();
my $pw = $ENV{TESTRT_ROOT_PASSWORD} or die "no password given\n";
my $u = RT::User->new(RT->SystemUser);
$u->Load('root'); $u->id or die "no root user\n";
my ($ok, $msg) = $u->SetPassword($pw);
$ok or die "set password: $msg\n";
my $cu = RT::CurrentUser->new; $cu->Load('root');
my ($id, $m, $auth) = RT::AuthToken->new($cu)->Create(Owner => $cu->id, Description => 'testrt');
$id or die "create token: $m\n";
print "$auth\n";
`

func (s *Server) run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

func (s *Server) runPerl(perlBin, script string, env ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, perlBin, "-I"+DefaultLibPath, "-e", script)
	cmd.Env = append(append([]string(nil), s.env...), env...)
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

// Perl runs a Perl script with RT's libraries against this server's config
// (for set-up that REST2 cannot do, such as creating a custom field). The
// script starts with "use RT; RT::LoadConfig(); RT::Init();" itself.
func (s *Server) Perl(t testing.TB, script string) string {
	t.Helper()
	perlBin, err := exec.LookPath("perl")
	if err != nil {
		t.Fatalf("testrt: perl: %v", err)
	}
	out, err := s.runPerl(perlBin, script)
	if err != nil {
		t.Fatalf("testrt: perl script: %v\n%s", err, tail(out))
	}
	return string(out)
}

func (s *Server) startServer(bin string, port int) error {
	logf, err := os.OpenFile(s.ServerLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	// Two workers: enough for the tests, light on a shared 2-core machine
	// (Starlet's default is ten, about 200 MB each).
	cmd := exec.Command(bin, "--listen", "127.0.0.1:"+strconv.Itoa(port), "--max-workers", "2")
	cmd.Env = s.env
	cmd.Dir = s.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group, so Close stops the Starlet workers too; the master
	// dies with the test binary if that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start rt-server: %w", err)
	}
	s.closeMu.Lock()
	s.cmd, s.exited, s.closed = cmd, make(chan struct{}), false
	s.closeMu.Unlock()
	exited := s.exited
	go func() { _ = cmd.Wait(); close(exited) }()

	deadline := time.Now().Add(readyTimeout)
	hc := &http.Client{Timeout: 10 * time.Second}
	var last string
	for {
		code, body, err := s.get(hc, "/REST/2.0/rt")
		switch {
		case err != nil:
			last = err.Error()
		case code == http.StatusOK && strings.Contains(body, `"Version"`):
			return nil
		default:
			last = fmt.Sprintf("status %d: %s", code, tail([]byte(body)))
		}
		select {
		case <-exited:
			return fmt.Errorf("rt-server exited before REST2 answered (%s)\n%s", last, s.logs())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rt-server: REST2 did not answer within %s (last: %s)\n%s", readyTimeout, last, s.logs())
		}
	}
}

func (s *Server) get(hc *http.Client, path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "token "+s.Token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, string(b), err
}

// Close stops the server's process group (TERM, then KILL after 10 s) and
// removes its directory when Shared created it.
func (s *Server) Close() {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.cmd != nil && s.cmd.Process != nil {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
		}
		// Workers the master did not reap.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.exited
	}
	if s.ownDir {
		_ = os.RemoveAll(s.Dir)
	}
}

// logs returns the tails of both log files for failure messages.
func (s *Server) logs() string {
	return fmt.Sprintf("--- %s (tail) ---\n%s\n--- %s (tail) ---\n%s",
		s.ServerLog, tail([]byte(readFile(s.ServerLog))), s.LogFile, tail([]byte(readFile(s.LogFile))))
}

// Logs returns the tails of rt-server's output and RT's log, for failure
// messages of tests that use the server.
func (s *Server) Logs() string { return s.logs() }

// GetJSON decodes GET <URL>/REST/2.0/<path> (with root's token) into v,
// failing t on any error or a status other than 200.
func (s *Server) GetJSON(t testing.TB, path string, v any) {
	t.Helper()
	code, body, err := s.get(&http.Client{Timeout: 60 * time.Second}, "/REST/2.0/"+strings.TrimPrefix(path, "/"))
	if err != nil {
		t.Fatalf("testrt: GET %s: %v", path, err)
	}
	if code != http.StatusOK {
		t.Fatalf("testrt: GET %s: status %d: %s", path, code, tail([]byte(body)))
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("testrt: GET %s: decode: %v: %s", path, err, tail([]byte(body)))
	}
}

// CountTickets returns how many tickets match the TicketSQL query (any
// status but deleted, as RT searches by default).
func (s *Server) CountTickets(t testing.TB, query string) int {
	t.Helper()
	var res struct {
		Total *int `json:"total"`
	}
	s.GetJSON(t, "tickets?per_page=1&query="+url.QueryEscape(query), &res)
	if res.Total == nil {
		t.Fatalf("testrt: search %q: no total in the answer", query)
	}
	return *res.Total
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > logTail {
		b = append([]byte("…"), b[len(b)-logTail:]...)
	}
	return string(b)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
