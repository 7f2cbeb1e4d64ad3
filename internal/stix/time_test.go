package stix

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	good := []struct {
		in   string
		want time.Time
	}{
		{"2016-05-12T08:17:27Z", time.Date(2016, 5, 12, 8, 17, 27, 0, time.UTC)},
		{"2016-05-12T08:17:27.000Z", time.Date(2016, 5, 12, 8, 17, 27, 0, time.UTC)},
		{"2016-05-12T08:17:27.123Z", time.Date(2016, 5, 12, 8, 17, 27, 123e6, time.UTC)},
		{"2016-05-12T08:17:27.1Z", time.Date(2016, 5, 12, 8, 17, 27, 100e6, time.UTC)},
		{"2016-05-12T08:17:27.123456Z", time.Date(2016, 5, 12, 8, 17, 27, 123456e3, time.UTC)},
		{"2016-05-12T08:17:27.123456789Z", time.Date(2016, 5, 12, 8, 17, 27, 123456789, time.UTC)},
		{"2024-02-29T23:59:59.999Z", time.Date(2024, 2, 29, 23, 59, 59, 999e6, time.UTC)},
		{"0001-01-01T00:00:00Z", time.Time{}},
	}
	for _, c := range good {
		got, err := ParseTimestamp(c.in)
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	bad := []string{
		"", "2016", "2016-05-12", "2016-05-12T08:17:27", // no Z
		"2016-05-12T08:17:27+00:00", "2016-05-12T08:17:27.000+09:00", "2016-05-12T08:17:27-05:00",
		"2016-05-12t08:17:27Z", "2016-05-12T08:17:27z", "2016-05-12 08:17:27Z",
		"2016-05-12T08:17:27.Z", "2016-05-12T08:17:27,123Z", "2016-05-12T08:17Z", "16-05-12T08:17:27Z",
		"2016-13-12T08:17:27Z", "2016-02-30T08:17:27Z", "2015-02-29T00:00:00Z", "2016-05-12T24:00:00Z",
		"2016-05-12T08:60:00Z", "2016-12-31T23:59:60Z", "+2016-05-12T08:17:27Z", "2016-05-12T08:17:27ZZ",
		"2016-05-12T08:17:27.12a3Z", "２016-05-12T08:17:27Z", " 2016-05-12T08:17:27Z", "2016-05-12T08:17:27Z ",
		"2016-05-12T08:17:27." + strings.Repeat("1", 30) + "Z",
	}
	for _, s := range bad {
		if got, err := ParseTimestamp(s); err == nil {
			t.Errorf("ParseTimestamp(%q) = %v, want an error", s, got)
		}
	}
}

func TestFormatTimestamp(t *testing.T) {
	ts := time.Date(2016, 5, 12, 8, 17, 27, 123456789, time.FixedZone("KST", 9*3600))
	if got := FormatTimestamp(ts); got != "2016-05-11T23:17:27.123Z" {
		t.Errorf("FormatTimestamp = %s", got)
	}
	if got := FormatTAXII(ts); got != "2016-05-11T23:17:27.123456Z" {
		t.Errorf("FormatTAXII = %s", got)
	}
	if got := FormatTimestamp(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); got != "2020-01-01T00:00:00.000Z" {
		t.Errorf("FormatTimestamp = %s", got)
	}
	// What FormatTimestamp writes, ParseTimestamp reads back to the millisecond.
	back, err := ParseTimestamp(FormatTimestamp(ts))
	if err != nil || !back.Equal(ts.Truncate(time.Millisecond)) {
		t.Errorf("round trip: %v, %v", back, err)
	}
}

// Timestamps in an object stay as the producer wrote them: Raw and
// VersionString keep the given precision, whatever the decoded time holds.
func TestTimestampsKeptAsGiven(t *testing.T) {
	for _, ts := range []string{"2016-05-12T08:17:27.123Z", "2016-05-12T08:17:27Z", "2016-05-12T08:17:27.100000Z", "2016-05-12T08:17:27.123456789Z"} {
		raw := `{"type":"identity","spec_version":"2.1","id":"` + idOf("identity") + `","created":"` + ts + `","modified":"` + ts + `","name":"x"}`
		o, err := Decode([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		if string(o.Raw) != raw {
			t.Errorf("Raw changed:\n got %s\nwant %s", o.Raw, raw)
		}
		if o.String("modified") != ts || o.VersionString() != ts {
			t.Errorf("modified %q, VersionString %q; want %q", o.String("modified"), o.VersionString(), ts)
		}
		want, _ := time.Parse(time.RFC3339Nano, ts)
		if !o.Modified.Equal(want) || !o.Created.Equal(want) || !o.Version().Equal(want) {
			t.Errorf("decoded %v / %v, want %v", o.Created, o.Modified, want)
		}
	}
	// An SCO has no timestamps; its version is the epoch.
	o, err := Decode([]byte(`{"type":"url","id":"` + idOf("url") + `","value":"http://x.test/"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !o.Version().Equal(time.Unix(0, 0)) || o.VersionString() != "1970-01-01T00:00:00.000Z" {
		t.Errorf("SCO version %v %q", o.Version(), o.VersionString())
	}
}
