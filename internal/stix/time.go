package stix

import (
	"errors"
	"strconv"
	"time"
)

// ParseTimestamp parses a STIX timestamp: RFC 3339 in UTC with a literal "Z"
// and any number of fractional digits, e.g. 2016-05-12T08:17:27.000Z.
// Offsets other than Z, lower-case t or z, and out-of-range fields are refused.
func ParseTimestamp(s string) (time.Time, error) {
	const base = len("2006-01-02T15:04:05Z")
	if len(s) < base || len(s) > 40 {
		return time.Time{}, errors.New("timestamp " + strconv.Quote(trunc(s, 40)) + " is not RFC 3339 with Z")
	}
	ok := isDigits(s[0:4]) && s[4] == '-' && isDigits(s[5:7]) && s[7] == '-' && isDigits(s[8:10]) &&
		s[10] == 'T' && isDigits(s[11:13]) && s[13] == ':' && isDigits(s[14:16]) && s[16] == ':' &&
		isDigits(s[17:19]) && s[len(s)-1] == 'Z'
	if ok && len(s) > base {
		frac := s[19 : len(s)-1]
		ok = len(frac) >= 2 && frac[0] == '.' && isDigits(frac[1:])
	}
	if !ok {
		return time.Time{}, errors.New("timestamp " + strconv.Quote(s) + " is not RFC 3339 with Z")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("timestamp " + strconv.Quote(s) + " is out of range")
	}
	return t.UTC(), nil
}

// FormatTimestamp formats t as STIX does: UTC, "Z", and millisecond precision
// (the precision STIX recommends for created and modified).
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// FormatTAXII formats t with microseconds, as TAXII 2.1 requires for
// date_added and its headers.
func FormatTAXII(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
