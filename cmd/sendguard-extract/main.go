// Command sendguard-extract is the gateway's PDF extraction worker: the
// gateway starts it once per PDF, under the budgets and isolation of
// rules/extract's sandbox, with the file on stdin. It is not run by hand.
//
// It holds only the worker side (rules/extract/worker) and the PDF reader,
// so a start costs about a millisecond of CPU where re-executing the
// gateway costs ten. Install it next to the sendguard binary (or name it in
// extraction.worker); without it the gateway re-executes itself.
package main

import (
	"fmt"
	"os"

	"github.com/sendguard/sendguard/rules/extract/worker"
)

func main() {
	code, ok := worker.Main()
	if !ok {
		fmt.Fprintln(os.Stderr, "sendguard-extract: the PDF extraction worker of sendguard; started by the gateway, not by hand")
		os.Exit(2)
	}
	os.Exit(code)
}
