//go:build !linux

package outbound

import (
	"net"
	"os"
	"time"

	"github.com/emersion/go-smtp"
)

// sendBodyFile sends nothing here: the caller copies the body.
func sendBodyFile(net.Conn, *smtp.DataCommand, *os.File, time.Duration) (bool, error) {
	return false, nil
}
