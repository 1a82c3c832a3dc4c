package outbound

// peekResult is what a look at an idle connection's socket tells.
type peekResult int

const (
	peekUnknown peekResult = iota // could not look: check with RSET
	peekIdle                      // open, nothing unread
	peekGone                      // closed, failed or sent something unasked
)
