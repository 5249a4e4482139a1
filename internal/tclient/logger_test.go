package tclient

import (
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/riposte-soar/riposte/activities"
)

func TestNotConfiguredActivityIsInfo(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := NewLogger(zap.New(core))
	notConf := temporal.NewNonRetryableApplicationError("ticket.create: integration ticketing not configured", activities.ErrTypeNotConfigured, nil)
	l.Error("Activity error.", "ActivityType", "RunAction", "Error", notConf, "StackTrace", "goroutine 1 ...")
	l.Error("Activity error.", "ActivityType", "RunAction", "Error", temporal.NewApplicationError("rt: 503", "HTTP503"), "StackTrace", "goroutine 2 ...")
	l.Error("Activity error.", "Error", errors.New("plain failure"))
	got := logs.All()
	if len(got) != 3 {
		t.Fatalf("%d entries", len(got))
	}
	if got[0].Level != zapcore.InfoLevel || got[0].ContextMap()["StackTrace"] != nil {
		t.Errorf("not configured: level %s, fields %v; want info without a stack trace", got[0].Level, got[0].ContextMap())
	}
	if got[1].Level != zapcore.ErrorLevel || got[1].ContextMap()["StackTrace"] == nil {
		t.Errorf("a real failure: level %s, fields %v; want error with its stack trace", got[1].Level, got[1].ContextMap())
	}
	if got[2].Level != zapcore.ErrorLevel {
		t.Errorf("a plain error: level %s, want error", got[2].Level)
	}
}
