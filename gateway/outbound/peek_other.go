//go:build !linux

package outbound

import "net"

// peekConn cannot look at the socket here: pooled sessions are checked
// with RSET.
func peekConn(net.Conn) peekResult { return peekUnknown }
