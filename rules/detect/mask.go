package detect

import (
	"bytes"
	"strings"
)

// mask renders a normalised value so that a reader can recognise the kind and
// tell samples apart without learning the value. Every mask of a personal
// value contains '*', which no normalised value does.
func mask(d int, v []byte) string {
	switch d {
	case detMyNumber, detCorporate:
		return keep(v, 4, 0)
	case detLicense:
		return keep(v, 2, 0)
	case detCard:
		return "****-****-****-" + string(v[max(0, len(v)-4):])
	case detPhone:
		return phoneMask(v)
	case detPostal:
		return keep(v, 3, 0)[:3] + "-****"
	case detBank:
		return "****" + string(v[max(0, len(v)-3):])
	case detPassport, detResidence:
		return keep(v, 2, 0)
	case detEmail:
		at := bytes.LastIndexByte(v, '@')
		if at < 1 {
			return "***"
		}
		return string(v[:1]) + "***" + string(v[at:])
	case detAddress:
		return addressMask(v)
	case detKeyword:
		return string(v)
	}
	return strings.Repeat("*", len(v))
}

// phoneMask shows the kind of number and its last digits. A landline's
// area code has two to five digits, so none of it is shown rather than a
// wrong split (031-… for Tokyo's 03).
func phoneMask(v []byte) string {
	switch {
	case len(v) < 8:
		return strings.Repeat("*", len(v))
	case len(v) == 11: // mobile, IP phone: 0X0-XXXX-XXXX
		return string(v[:3]) + "-****-" + string(v[len(v)-4:])
	case bytes.HasPrefix(v, []byte("0120")) || bytes.HasPrefix(v, []byte("0800")):
		return string(v[:4]) + "-***-" + string(v[len(v)-3:])
	}
	return string(v[:1]) + strings.Repeat("*", len(v)-5) + "-" + string(v[len(v)-4:])
}

// keep shows the first head and last tail bytes and stars the rest; at least
// one character is always starred.
func keep(v []byte, head, tail int) string {
	if head+tail >= len(v) {
		head, tail = 0, 0
	}
	return string(v[:head]) + strings.Repeat("*", len(v)-head-tail) + string(v[len(v)-tail:])
}

// addressMask keeps the prefecture and municipality and hides the rest.
func addressMask(v []byte) string {
	s := string(v)
	for i, r := range s {
		if i > 0 && municipalitySuffix(r) {
			return s[:i+len(string(r))] + "***"
		}
	}
	return "***"
}
