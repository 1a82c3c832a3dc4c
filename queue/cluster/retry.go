package cluster

import "context"

// Retry makes a queued message due now. Only held messages are shared, so
// a queued one is always this node's own.
func (n *Node) Retry(ctx context.Context, id string) error { return n.Local.Retry(ctx, id) }
