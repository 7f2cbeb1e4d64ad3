package pattern

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// testObs decodes a JSON object of SCOs keyed by reference name.
func testObs(t testing.TB, at time.Time, objs string) *Observation {
	t.Helper()
	var m map[string]map[string]any
	if err := json.Unmarshal([]byte(objs), &m); err != nil {
		t.Fatalf("bad test observation: %v", err)
	}
	return &Observation{Time: at, Objects: m}
}

const netObs = `{
 "0": {"type": "ipv4-addr", "value": "198.51.100.7"},
 "1": {"type": "ipv4-addr", "value": "203.0.113.0/25"},
 "2": {"type": "network-traffic", "src_ref": "0", "dst_ref": "1", "src_port": 49152, "dst_port": 443,
       "protocols": ["ipv4", "tcp", "tls"], "start": "2024-03-01T11:59:58.5Z", "is_active": false},
 "3": {"type": "domain-name", "value": "evil.example.com", "resolves_to_refs": ["0", "5"]},
 "5": {"type": "ipv6-addr", "value": "2001:db8::1"}
}`

const fileObs = `{
 "0": {"type": "file", "name": "Final Report.exe", "size": 371712,
       "hashes": {"SHA-256": "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F", "MD5": "cead3f77f6cda6ec00f57d76c9a6879f"},
       "magic_number_hex": "ffd8ffe0", "parent_directory_ref": "1",
       "extensions": {"windows-pebinary-ext": {"sections": [{"name": ".text", "entropy": 6.1}, {"name": ".rsrc", "entropy": 7.4}]}}},
 "1": {"type": "directory", "path": "C:\\Windows\\System32"},
 "2": {"type": "artifact", "mime_type": "application/vnd.tcpdump.pcap", "payload_bin": "1MOyoQIABAA="},
 "3": {"type": "email-addr", "value": "jdoe@example.com"},
 "4": {"type": "email-message", "from_ref": "3", "subject": "Conference Info", "is_multipart": false},
 "5": {"type": "x509-certificate", "serial_number": "4c:0b:1d"}
}`

func TestMatchObservation(t *testing.T) {
	net := testObs(t, t0, netObs)
	file := testObs(t, t0, fileObs)
	tests := []struct {
		pat  string
		obs  *Observation
		want bool
	}{
		// = and !=
		{"[ipv4-addr:value = '198.51.100.7']", net, true},
		{"[ipv4-addr:value = '198.51.100.8']", net, false},
		{"[ipv4-addr:value != '198.51.100.7']", net, true}, // the other ipv4-addr object
		{"[domain-name:value != 'evil.example.com']", net, false},
		{"[domain-name:value NOT = 'evil.example.com']", net, false},
		{"[domain-name:value NOT != 'evil.example.com']", net, true},
		{"[ipv6-addr:value = '198.51.100.7']", net, false}, // wrong type
		// Types: string vs int never compares, either way.
		{"[file:size = '371712']", file, false},
		{"[file:size != '371712']", file, false},
		{"[file:size NOT = '371712']", file, false},
		{"[file:size = 371712]", file, true},
		{"[file:size = 371712.0]", file, true},
		{"[file:name = 371712]", file, false},
		// Ordering
		{"[file:size > 1024]", file, true},
		{"[file:size >= 371712]", file, true},
		{"[file:size < 371712]", file, false},
		{"[file:size <= 371712]", file, true},
		{"[file:size NOT < 1024]", file, true},
		{"[network-traffic:dst_port < 1024.5]", net, true},
		{"[file:name > 'A']", file, true},
		{"[file:name < 'A']", file, false},
		{"[network-traffic:start > t'2024-03-01T11:59:58Z']", net, true},
		{"[network-traffic:start = t'2024-03-01T11:59:58.500Z']", net, true},
		{"[network-traffic:start < t'2024-03-01T11:59:58Z']", net, false},
		{"[network-traffic:start = '2024-03-01T11:59:58.500Z']", net, false}, // string compare
		// Booleans
		{"[network-traffic:is_active = false]", net, true},
		{"[network-traffic:is_active = true]", net, false},
		{"[network-traffic:is_active = 'false']", net, false},
		{"[email-message:is_multipart != true]", file, true},
		// IN
		{"[network-traffic:dst_port IN (80, 443)]", net, true},
		{"[network-traffic:dst_port IN (80, 8080)]", net, false},
		{"[network-traffic:dst_port NOT IN (80, 8080)]", net, true},
		{"[network-traffic:dst_port NOT IN ('443')]", net, false}, // no applicable element
		{"[network-traffic:dst_port IN ()]", net, false},
		// LIKE
		{"[file:name LIKE 'Final%']", file, true},
		{"[file:name LIKE 'final%']", file, false},
		{"[file:name LIKE 'Final Repor_.exe']", file, true},
		{"[file:name LIKE 'Final Repo_.exe']", file, false},
		{"[file:name LIKE '%.exe']", file, true},
		{"[file:name LIKE '%.(exe)']", file, false}, // metacharacters are literal
		{"[file:name NOT LIKE '%.dll']", file, true},
		// MATCHES
		{"[file:name MATCHES '^Final Report\\\\.exe$']", file, true},
		{"[file:name MATCHES '^Final Report.+\\\\.exe$']", file, false},
		{"[file:name MATCHES 'Report']", file, true}, // unanchored search
		{"[file:name MATCHES '^Report']", file, false},
		{"[file:name NOT MATCHES '^Report']", file, true},
		{"[file:size MATCHES '3']", file, false},
		{"[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']", file, true},
		{"[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$']", file, true},
		// ISSUBSET / ISSUPERSET
		{"[ipv4-addr:value ISSUBSET '198.51.100.0/24']", net, true},
		{"[ipv4-addr:value ISSUBSET '198.51.100.1/24']", net, true}, // host bits ignored
		{"[ipv4-addr:value ISSUBSET '198.51.101.0/24']", net, false},
		{"[ipv4-addr:value NOT ISSUBSET '198.51.101.0/24']", net, true},
		{"[ipv4-addr:value ISSUPERSET '203.0.113.7']", net, true},
		{"[ipv4-addr:value ISSUPERSET '203.0.113.200']", net, false},
		{"[ipv4-addr:value ISSUPERSET '203.0.113.0/24']", net, false},
		{"[ipv6-addr:value ISSUBSET '2001:db8::/32']", net, true},
		{"[ipv6-addr:value ISSUBSET '10.0.0.0/8']", net, false},
		// EXISTS
		{"[EXISTS network-traffic:src_port]", net, true},
		{"[EXISTS network-traffic:ipfix]", net, false},
		{"[EXISTS network-traffic:dst_ref.value]", net, true},
		// Paths: refs, lists, [*], indexes, quoted keys
		{"[network-traffic:dst_ref.value = '203.0.113.0/25']", net, true},
		{"[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '198.51.100.7']", net, true},
		{"[network-traffic:src_ref.value = '203.0.113.0/25']", net, false},
		{"[domain-name:resolves_to_refs[*].value = '2001:db8::1']", net, true},
		{"[domain-name:resolves_to_refs[0].value = '198.51.100.7']", net, true},
		{"[domain-name:resolves_to_refs[1].value = '198.51.100.7']", net, false},
		{"[domain-name:resolves_to_refs[-1].value = '2001:db8::1']", net, true},
		{"[domain-name:resolves_to_refs[9].value = '2001:db8::1']", net, false},
		{"[network-traffic:protocols[*] = 'tls']", net, true},
		{"[network-traffic:protocols[0] = 'tls']", net, false},
		{"[network-traffic:protocols = 'tcp']", net, true}, // list without [*]: any element
		{"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", file, true},
		{"[file:extensions.'windows-pebinary-ext'.sections[0].entropy > 7.0]", file, false},
		{"[file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']", file, true},
		{"[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']", file, false},
		// Hashes: values and algorithm names compare case-insensitively.
		{"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", file, true},
		{"[file:hashes.SHA256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", file, true},
		{"[file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']", file, true},
		{"[file:hashes[*] = 'cead3f77f6cda6ec00f57d76c9a6879f']", file, true},
		{"[file:hashes.'SHA-1' = 'cead3f77f6cda6ec00f57d76c9a6879f']", file, false},
		{"[file:name = 'final report.exe']", file, false}, // other strings are case-sensitive
		// Binary and hex literals
		{"[file:magic_number_hex = h'ffd8ffe0']", file, true},
		{"[file:magic_number_hex = h'ffd8']", file, false},
		{"[artifact:payload_bin = b'1MOyoQIABAA=']", file, true},
		{"[artifact:payload_bin = h'd4c3b2a102000400']", file, true},
		// AND binds to one object; OR may use different objects.
		{"[file:name = 'Final Report.exe' AND file:size = 371712]", file, true},
		{"[file:name = 'Final Report.exe' AND directory:path = 'C:\\\\Windows\\\\System32']", file, false},
		{"[file:name = 'nope' OR directory:path = 'C:\\\\Windows\\\\System32']", file, true},
		{"[(file:name = 'nope' OR file:size = 371712) AND file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']", file, true},
		// Observation operators with a single observation.
		{"[file:name = 'nope'] OR [x509-certificate:serial_number = '4c:0b:1d']", file, true},
		{"[file:name = 'Final Report.exe'] AND [x509-certificate:serial_number = '4c:0b:1d']", file, false},
		{"[file:size = 371712] WITHIN 5 SECONDS", file, true},
		{"[file:size = 371712] REPEATS 1 TIMES", file, true},
		{"[file:size = 371712] REPEATS 2 TIMES", file, false},
		{"[file:size = 371712] START t'2024-03-01T00:00:00Z' STOP t'2024-03-02T00:00:00Z'", file, true},
		{"[file:size = 371712] START t'2024-03-01T12:00:00.001Z' STOP t'2024-03-02T00:00:00Z'", file, false},
		{"[file:size = 371712] START t'2024-02-01T00:00:00Z' STOP t'2024-03-01T12:00:00Z'", file, false}, // STOP exclusive
	}
	for _, tt := range tests {
		m, err := Compile(MustParse(tt.pat))
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pat, err)
			continue
		}
		if got := m.MatchObservation(tt.obs); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.pat, got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tt := range []struct{ pat, msg string }{
		{"[file:name MATCHES '(?<=a)b']", "MATCHES"},
		{"[file:name MATCHES '(a']", "missing closing )"},
		{"[file:name MATCHES '(a)\\\\1']", "escape"},
		{"[ipv4-addr:value ISSUBSET 'not-an-ip']", "not an IP address or CIDR"},
		{"[ipv4-addr:value ISSUPERSET '10.0.0.0/33']", "CIDR"},
	} {
		_, err := Compile(MustParse(tt.pat))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Compile(%s) = %v, want error with %q", tt.pat, err, tt.msg)
		}
	}
}

func TestMatchHostileData(t *testing.T) {
	// Dangling refs, wrong JSON types, nil objects, ref cycles.
	obs := testObs(t, t0, `{
	 "0": {"type": "network-traffic", "dst_ref": "missing", "src_ref": 5, "protocols": "tcp", "x_ref": "0"},
	 "1": {"type": 7},
	 "2": {}
	}`)
	obs.Objects["3"] = nil
	for _, pat := range []string{
		"[network-traffic:dst_ref.value = 'x']",
		"[network-traffic:src_ref.value = 'x']",
		"[network-traffic:protocols[*] = 'x']",
		"[network-traffic:protocols[0] = 'x']",
		"[network-traffic:x_ref.x_ref.x_ref.type = 'x']",
		"[EXISTS network-traffic:dst_ref.value]",
	} {
		if MustCompile(pat).MatchObservation(obs) {
			t.Errorf("%s matched", pat)
		}
	}
	if !MustCompile("[network-traffic:x_ref.x_ref.x_ref.type = 'network-traffic']").MatchObservation(obs) {
		t.Error("self ref not followed")
	}
	if MustCompile("[a:b = 1]").MatchObservation(&Observation{}) {
		t.Error("empty observation matched")
	}
}

func BenchmarkMatch(b *testing.B) {
	m := MustCompile("[ipv4-addr:value = '198.51.100.7']")
	obs := testObs(b, t0, netObs)
	miss := MustCompile("[ipv4-addr:value = '198.51.100.9']")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !m.MatchObservation(obs) || miss.MatchObservation(obs) {
			b.Fatal("wrong result")
		}
	}
}
