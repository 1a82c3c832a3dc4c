package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/queue/cluster"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/consolepg"
)

// consoleQueue is the console's view of the cluster's held queue
// (console.SharedQueue): its queue and message pages list, show and
// decide the held mail of every node, through the same exactly-once
// transition as sendguard queue release|reject.
type consoleQueue struct{ node *cluster.Node }

// consoleAccounts keeps console accounts and sessions in PostgreSQL, so
// an account or a session made on one node is valid on every node; nil
// (this node's DB) with bbolt.
func (s *sharedStore) consoleAccounts() console.Accounts {
	if s == nil {
		return nil
	}
	return consolepg.New(s.pool)
}

// consoleShared is the console's shared queue; nil with bbolt.
func (s *sharedStore) consoleShared() console.SharedQueue {
	if s == nil {
		return nil
	}
	return consoleQueue{s.node}
}

func (c consoleQueue) HeldRecords(ctx context.Context, state hold.State) ([]*hold.Record, error) {
	list, err := c.node.Shared.List(ctx, string(state))
	if err != nil {
		return nil, err
	}
	out := make([]*hold.Record, 0, len(list))
	for _, h := range list {
		out = append(out, h.Hold)
	}
	return out, nil
}

func (c consoleQueue) HeldRecord(ctx context.Context, id string) (*hold.Record, error) {
	h, err := c.node.Shared.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return h.Hold, nil
}

func (c consoleQueue) HeldBody(ctx context.Context, id string) ([]byte, error) {
	return c.node.Shared.Body(ctx, id)
}

func (c consoleQueue) Counts(ctx context.Context) (map[hold.State]int, error) {
	return c.node.Shared.Counts(ctx)
}

func (c consoleQueue) Events(ctx context.Context, id string) ([]hold.Event, error) {
	return c.node.Events(ctx, id)
}

// Decide maps the cluster's answers to hold's: a message in another state
// is "already decided", an unknown one "not found".
func (c consoleQueue) Decide(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error) {
	rec, err := c.node.Decide(ctx, id, to, actor, reason, mode)
	var se *queue.StateError
	switch {
	case errors.As(err, &se):
		return nil, fmt.Errorf("%w: %w", hold.ErrAlreadyDecided, err)
	case errors.Is(err, queue.ErrNotFound):
		return nil, fmt.Errorf("%w: %w", hold.ErrNotFound, err)
	}
	return rec, err
}

func (c consoleQueue) Note(ctx context.Context, e hold.Event) error {
	_, err := c.node.Shared.AppendEvent(ctx, e)
	return err
}

func (c consoleQueue) Up(ctx context.Context) error {
	return c.node.Available(ctx, time.Second)
}

func (c consoleQueue) RecordsSince(ctx context.Context, from time.Time, limit, withReports int) ([]*hold.Record, error) {
	return c.node.Shared.RecordsSince(ctx, from, limit, withReports)
}
