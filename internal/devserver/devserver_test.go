package devserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/riposte-soar/riposte/internal/freeport"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	// Below the ephemeral range: see internal/freeport.
	addr, err := freeport.Addr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func listAttrs(t *testing.T, addr string) (map[string]enumspb.IndexedValueType, time.Duration) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: addr, Logger: nopLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCustomAttributes(), ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
}

// A database made by an older Riposte lacks attributes added since; they
// must be added on start without losing the old ones.
func TestExistingDatabaseGetsMissingSearchAttributes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "temporal.db")
	addr := freeAddr(t)
	ctx := context.Background()

	v1 := map[string]enumspb.IndexedValueType{"RiposteStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD}
	s, err := Start(ctx, Options{FrontendAddr: addr, DatabaseFile: db, Namespace: "default", SearchAttributes: v1, Retention: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got, retention := listAttrs(t, addr)
	// WAL mode leaves its log beside the database while the server runs.
	if _, err := os.Stat(db + "-wal"); err != nil {
		t.Errorf("database is not in WAL mode: %v", err)
	}
	s.Stop()
	if got["RiposteStatus"] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
		t.Fatalf("new database: attributes %v", got)
	}
	if retention != 72*time.Hour {
		t.Fatalf("retention %v, want 72h", retention)
	}

	v2 := map[string]enumspb.IndexedValueType{
		"RiposteStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"RiposteDueAt":  enumspb.INDEXED_VALUE_TYPE_DATETIME,
	}
	s, err = Start(ctx, Options{FrontendAddr: addr, DatabaseFile: db, Namespace: "default", SearchAttributes: v2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	got, _ = listAttrs(t, addr)
	for name, typ := range v2 {
		if got[name] != typ {
			t.Fatalf("after upgrade: %s = %v, want %v (all: %v)", name, got[name], typ, got)
		}
	}
}

func TestStartRejectsBadAddress(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:http"} {
		if _, err := Start(context.Background(), Options{FrontendAddr: addr, Namespace: "default"}); err == nil {
			t.Errorf("Start(%q) succeeded, want an error", addr)
		}
	}
}

// A fresh start with a retention to apply logs no warning (updating the
// namespace with its whole config used to echo one "already exists"
// warning per search attribute).
func TestFreshStartLogsNoWarning(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	db := filepath.Join(t.TempDir(), "data", "temporal.db")
	attrs := map[string]enumspb.IndexedValueType{
		"RiposteStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"RiposteDueAt":  enumspb.INDEXED_VALUE_TYPE_DATETIME,
	}
	s, err := Start(context.Background(), Options{FrontendAddr: freeAddr(t), DatabaseFile: db, Namespace: "default",
		SearchAttributes: attrs, Retention: 72 * time.Hour, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	started := logs.FilterLevelExact(zapcore.WarnLevel).All() // before Stop: shutdown warns of closed polls
	s.Stop()
	for _, e := range started {
		t.Errorf("warning on a fresh start: %s %v", e.Message, e.ContextMap())
	}
}
