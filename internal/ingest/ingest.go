// Package ingest records normalised alerts in Temporal: it routes each
// alert, then signals its incident workflow with SignalWithStart, so the
// first alert of a group starts the incident and later ones join it. A
// request is acknowledged only once every alert in it is in a workflow's
// history.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

// ErrUnavailable means Temporal could not be reached; nothing after the
// first failed alert was recorded and the sender should retry.
var ErrUnavailable = errors.New("temporal is unavailable")

// maxRawBytes bounds the raw payload kept with each alert in workflow
// history; Temporal warns on payloads over 512 KiB.
const maxRawBytes = 256 << 10

// Source is one configured webhook source.
type Source struct {
	Name       string
	Format     string
	Normalizer alerts.Normalizer
	Options    alerts.Options
}

// Accepted is the answer for one alert.
type Accepted struct {
	AlertID    string `json:"alert_id"`
	IncidentID string `json:"incident_id,omitempty"`
	Playbook   string `json:"playbook,omitempty"`
	// Deduplicated is true when the alert joined an incident that already
	// existed rather than starting one.
	Deduplicated bool `json:"deduplicated"`
	Suppressed   bool `json:"suppressed,omitempty"`
}

// ClientFunc returns the Temporal client, or nil while not connected.
type ClientFunc func() client.Client

// Options configure a Service.
type Options struct {
	Client           ClientFunc
	Namespace        string
	TaskQueue        string
	Router           *alerts.Router
	Playbooks        map[string]*playbooks.Playbook
	ReopenWindow     time.Duration
	ReminderFraction float64
	IncidentChannels bool
	MaxHistoryEvents int
	Identity         string
	Logger           *zap.Logger
	// Timeout bounds the Temporal calls of one alert.
	Timeout time.Duration
}

// Service records alerts.
type Service struct {
	o  Options
	dc converter.DataConverter
}

// New returns a Service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	return &Service{o: o, dc: converter.GetDefaultDataConverter()}
}

// Record routes and records the alerts in order. On ErrUnavailable the
// alerts before the failure are recorded; a retry of the whole request is
// safe because incidents deduplicate by alert ID.
func (s *Service) Record(ctx context.Context, src *Source, list []alerts.Alert) ([]Accepted, error) {
	c := s.o.Client()
	if c == nil {
		return nil, fmt.Errorf("%w: not connected yet", ErrUnavailable)
	}
	out := make([]Accepted, 0, len(list))
	for _, a := range list {
		if len(a.Raw) > maxRawBytes {
			a.Raw = nil
			a.Labels["riposte.raw_dropped"] = "true"
		}
		d := s.o.Router.Route(a)
		if d.Suppressed {
			out = append(out, Accepted{AlertID: a.ID, Suppressed: true})
			continue
		}
		if d.GroupFallback != nil {
			s.o.Logger.Warn("grouping failed; alert grouped by its own id",
				zap.String("source", src.Name), zap.String("alert_id", a.ID), zap.Error(d.GroupFallback))
		}
		started, err := s.signalWithStart(ctx, c, a, d)
		if err != nil {
			return out, err
		}
		out = append(out, Accepted{AlertID: a.ID, IncidentID: d.IncidentID, Playbook: d.Playbook, Deduplicated: !started})
	}
	return out, nil
}

func (s *Service) signalWithStart(ctx context.Context, c client.Client, a alerts.Alert, d alerts.Decision) (started bool, err error) {
	in := workflows.IncidentInput{
		ID: d.IncidentID, Title: a.Title, Severity: string(a.Severity), Source: a.Source,
		Playbook: d.Playbook, Route: d.Route, GroupKey: d.GroupKey, MaxHistoryEvents: s.o.MaxHistoryEvents,
		PlaybookDef: s.o.Playbooks[d.Playbook], ReopenWindow: s.o.ReopenWindow, ReminderFraction: s.o.ReminderFraction,
		IncidentChannel: s.o.IncidentChannels,
	}
	input, err := s.dc.ToPayloads(in)
	if err != nil {
		return false, fmt.Errorf("encode incident input: %w", err)
	}
	sig, err := s.dc.ToPayloads(a)
	if err != nil {
		return false, fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	// A new incident is listed in full from its start, and its first
	// visibility write is skipped as unchanged (make bench).
	sa, err := workflows.StartSearchAttributes(in, a)
	if err != nil {
		return false, fmt.Errorf("incident %s: %w", d.IncidentID, err)
	}
	// The raw call, rather than client.SignalWithStartWorkflow, because
	// its response says whether the incident was new.
	req := &workflowservice.SignalWithStartWorkflowExecutionRequest{
		Namespace:             s.o.Namespace,
		WorkflowId:            d.IncidentID,
		WorkflowType:          &commonpb.WorkflowType{Name: workflows.IncidentWorkflowName},
		TaskQueue:             &taskqueuepb.TaskQueue{Name: s.o.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input:                 input,
		SignalName:            workflows.SignalAlert,
		SignalInput:           sig,
		Identity:              s.o.Identity,
		RequestId:             uuid.NewString(),
		WorkflowIdReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		SearchAttributes:      sa,
	}
	cctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	// Transient refusals (an incident busy continuing as new, a server
	// restarting) are retried until the timeout with the same request ID,
	// so a signal whose answer was lost is not applied twice.
	backoff := 20 * time.Millisecond
	for {
		resp, err := c.WorkflowService().SignalWithStartWorkflowExecution(cctx, req)
		if err == nil {
			return resp.GetStarted(), nil
		}
		if !unavailable(err) {
			return false, fmt.Errorf("record alert %s in incident %s: %w", a.ID, d.IncidentID, err)
		}
		select {
		case <-cctx.Done():
			return false, fmt.Errorf("%w: record alert %s in incident %s: %v", ErrUnavailable, a.ID, d.IncidentID, err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// unavailable tells transient failures (the sender should retry) from
// rejections.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var (
		u  *serviceerror.Unavailable
		d  *serviceerror.DeadlineExceeded
		re *serviceerror.ResourceExhausted
		nf *serviceerror.NamespaceNotFound
	)
	return errors.As(err, &u) || errors.As(err, &d) || errors.As(err, &re) || errors.As(err, &nf)
}

// MarshalAccepted is the 202 body.
func MarshalAccepted(acc []Accepted) ([]byte, error) {
	if acc == nil {
		acc = []Accepted{}
	}
	return json.Marshal(map[string]any{"accepted": acc})
}
