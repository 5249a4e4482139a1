package ingest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/riposte-soar/riposte/alerts"
)

func TestUnavailableClassification(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{serviceerror.NewUnavailable("connection refused"), true},
		{serviceerror.NewDeadlineExceeded("slow"), true},
		{serviceerror.NewResourceExhausted(0, "workflow is busy"), true},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
		{serviceerror.NewInvalidArgument("payload too large"), false},
		{errors.New("boom"), false},
	}
	for _, tc := range tests {
		if got := unavailable(tc.err); got != tc.want {
			t.Errorf("unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRecordWithoutClientIsUnavailable(t *testing.T) {
	s := New(Options{Client: func() client.Client { return nil }})
	_, err := s.Record(context.Background(), &Source{Name: "x"}, []alerts.Alert{{ID: "x:1"}})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
