package extract

import "bytes"

// unflow joins the soft line breaks of a text/plain; format=flowed body
// (RFC 3676): a line ending in a space continues on the next line of the
// same quote depth, so a number wrapped as "1932 5813 " / "8140" reads as
// one. Space-stuffing is undone; with delsp the soft break's space is
// removed too. The signature separator "-- " is a hard break.
func unflow(text []byte, delsp bool) []byte {
	out := make([]byte, 0, len(text))
	soft, prevDepth := false, -1
	for len(text) > 0 {
		line := text
		if nl := bytes.IndexByte(text, '\n'); nl >= 0 {
			line, text = text[:nl], text[nl+1:]
		} else {
			text = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		body := line[depth:]
		if len(body) > 0 && body[0] == ' ' {
			body = body[1:] // space-stuffing (and the space after quote marks)
		}
		if soft && depth == prevDepth {
			// continue the paragraph on the same output line
		} else {
			if prevDepth >= 0 {
				out = append(out, '\n')
			}
			if depth > 0 {
				out = append(out, line[:depth]...)
				out = append(out, ' ')
			}
		}
		isSig := string(body) == "-- "
		soft = !isSig && len(body) > 0 && body[len(body)-1] == ' '
		if soft && delsp {
			body = body[:len(body)-1]
		}
		out = append(out, body...)
		prevDepth = depth
	}
	if prevDepth >= 0 {
		out = append(out, '\n')
	}
	return out
}
