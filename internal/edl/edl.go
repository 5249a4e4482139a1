// Package edl is the built-in firewall: blocks go to the BlocklistWorkflow
// and firewalls poll them as an external dynamic list (plain text, one entry
// per line, the format PAN-OS, FortiGate, Check Point and OPNsense read).
package edl

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/workflows"
)

// Blocklist implements activities.Firewall on the blocklist workflow.
type Blocklist struct {
	Client    func() client.Client
	TaskQueue string
}

var errNotConnected = errors.New("temporal client not connected")

func (b *Blocklist) signal(ctx context.Context, name string, blk activities.Block) error {
	c := b.Client()
	if c == nil {
		return errNotConnected
	}
	req := workflows.BlockRequest{Type: blk.Type, Value: blk.Value, TTL: blk.TTL, Incident: blk.IncidentID, Step: blk.StepID, Reason: blk.Reason}
	// The list workflow may not exist yet; SignalWithStart creates it. The
	// operation is idempotent (a set keyed by value), so a retry is safe.
	_, err := c.SignalWithStartWorkflow(ctx, workflows.BlocklistWorkflowID, name, req,
		client.StartWorkflowOptions{ID: workflows.BlocklistWorkflowID, TaskQueue: b.TaskQueue},
		workflows.BlocklistWorkflowName, workflows.BlocklistInput{})
	return err
}

// Block adds a value.
func (b *Blocklist) Block(ctx context.Context, blk activities.Block) error {
	return b.signal(ctx, workflows.SignalBlock, blk)
}

// Unblock removes a value.
func (b *Blocklist) Unblock(ctx context.Context, blk activities.Block) error {
	return b.signal(ctx, workflows.SignalUnblock, blk)
}

// Entries reads the list; an absent list is empty.
func (b *Blocklist) Entries(ctx context.Context) ([]workflows.BlockEntry, error) {
	c := b.Client()
	if c == nil {
		return nil, errNotConnected
	}
	v, err := c.QueryWorkflow(ctx, workflows.BlocklistWorkflowID, "", workflows.QueryBlocklist)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, fmt.Errorf("query blocklist: %w", err)
	}
	var out []workflows.BlockEntry
	if err := v.Get(&out); err != nil {
		return nil, fmt.Errorf("decode blocklist: %w", err)
	}
	return out, nil
}
