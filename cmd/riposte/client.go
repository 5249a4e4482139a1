package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/auth"
)

// apiFlags are shared by the commands that talk to a running Riposte.
type apiFlags struct {
	server  string
	token   string
	dataDir string
}

func (a *apiFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&a.server, "server", "", "Riposte URL (default $RIPOSTE_SERVER or http://127.0.0.1:8080)")
	f.StringVar(&a.token, "token", "", "API token (default $RIPOSTE_TOKEN, else the dev admin token in --data-dir); prefer the variable: flags show in ps")
	f.StringVar(&a.dataDir, "data-dir", config.Default().DataDir, "where riposte dev keeps admin.token")
}

func (a *apiFlags) baseURL() string {
	s := a.server
	if s == "" {
		s = os.Getenv(config.EnvClientServer)
	}
	if s == "" {
		s = "http://" + config.Default().HTTP.Listen
	}
	return strings.TrimRight(s, "/")
}

func (a *apiFlags) bearer() (string, error) {
	if a.token != "" {
		return a.token, nil
	}
	if t := os.Getenv(config.EnvClientToken); t != "" {
		return t, nil
	}
	b, err := os.ReadFile(filepath.Join(a.dataDir, auth.AdminTokenFile))
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	return "", usageError{errors.New("no API token: pass --token, set RIPOSTE_TOKEN, or run where riposte dev keeps " +
		filepath.Join(a.dataDir, auth.AdminTokenFile))}
}

var apiClient = &http.Client{Timeout: 60 * time.Second}

// call sends a request and decodes a JSON answer; a non-2xx answer becomes
// an error carrying the server's message.
func (a *apiFlags) call(method, path string, body []byte, out any) (int, error) {
	tok, err := a.bearer()
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(method, a.baseURL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, usageError{fmt.Errorf("--server: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach riposte at %s: %w", a.baseURL(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, http.StatusText(resp.StatusCode), e.Error)
		}
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
