package outbound

import "bytes"

// passesUnchanged reports whether go-smtp's data writer would send p, the
// whole message, as it is: no line starts with '.', and CR and LF occur
// only as CRLF pairs. Every LF is checked to follow a CR; as many CRs as
// LFs then means no other CR (a bare one, or one before a pair's CR, which
// the writer treats differently).
func passesUnchanged(p []byte) bool {
	if len(p) > 0 && p[0] == '.' {
		return false
	}
	lfs := 0
	for i := 0; ; {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			break
		}
		j += i
		if j == 0 || p[j-1] != '\r' || (j+1 < len(p) && p[j+1] == '.') {
			return false
		}
		lfs++
		i = j + 1
	}
	return bytes.Count(p, []byte{'\r'}) == lfs
}
