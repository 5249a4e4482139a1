package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// readiness answers /readyz: Temporal is reachable and this process's worker
// is among the task queue's pollers.
type readiness struct {
	address   string
	taskQueue string
	identity  string

	mu      sync.Mutex
	client  client.Client
	polling bool
	connErr error

	// The answer is cached briefly so a busy probe cannot load Temporal.
	cachedAt  time.Time
	cachedErr error
}

const readyCacheTTL = time.Second

func (r *readiness) setConnErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connErr = err
}

func (r *readiness) setWorker(c client.Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.client, r.polling, r.connErr = c, true, nil
	r.cachedAt = time.Time{}
}

func (r *readiness) Ready(ctx context.Context) error {
	r.mu.Lock()
	c, polling, connErr := r.client, r.polling, r.connErr
	if !r.cachedAt.IsZero() && time.Since(r.cachedAt) < readyCacheTTL {
		err := r.cachedErr
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()

	var err error
	switch {
	case c == nil && connErr != nil:
		err = fmt.Errorf("cannot reach temporal at %s: %w", r.address, connErr)
	case c == nil || !polling:
		err = fmt.Errorf("connecting to temporal at %s", r.address)
	default:
		err = r.checkPolling(ctx, c)
	}
	r.mu.Lock()
	r.cachedAt, r.cachedErr = time.Now(), err
	r.mu.Unlock()
	return err
}

func (r *readiness) checkPolling(ctx context.Context, c client.Client) error {
	resp, err := c.DescribeTaskQueue(ctx, r.taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return fmt.Errorf("cannot reach temporal at %s: %w", r.address, err)
	}
	for _, p := range resp.GetPollers() {
		if p.GetIdentity() == r.identity {
			return nil
		}
	}
	return errors.New("worker is not polling task queue " + r.taskQueue)
}
