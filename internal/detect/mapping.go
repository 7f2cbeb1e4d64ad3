package detect

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Mapping tells which source fields hold which values: field name (dotted
// for nested JSON) to target.
type Mapping map[string]*Target

func (m Mapping) add(kind Kind, role Role, path string, names ...string) {
	for _, n := range names {
		m[n] = &Target{Name: n, Kind: kind, Role: role, Path: path}
	}
}

// LoadMapping reads a JSON object from field names to STIX object paths
// ("ipv4-addr:value", "domain-name:value", "url:value",
// "file:hashes.'SHA-256'", "email-addr:value", "cryptocurrency-wallet:value",
// "network-traffic:dst_ref.value", any other "type:property" for exact
// comparison) or the words "host" (domain or IP), "hashes" (Sysmon list),
// "time" and "auto".
func LoadMapping(r io.Reader) (Mapping, error) {
	var raw map[string]string
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	m := Mapping{}
	for k, p := range raw {
		t, ok := targetFromPath(k, p)
		if !ok {
			return nil, fmt.Errorf("mapping: field %q: %q is not a STIX object path", k, p)
		}
		m[k] = &t
	}
	return m, nil
}

func withPrefixes(m Mapping, prefixes ...string) Mapping {
	out := Mapping{}
	for k, t := range m {
		for _, p := range prefixes {
			c := *t
			c.Name = p + k
			out[p+k] = &c
		}
	}
	return out
}

// DefaultMapping covers common field names of JSON and CSV logs.
func DefaultMapping() Mapping {
	m := Mapping{}
	m.add(KindIP, RoleSrc, "", "src_ip", "srcip", "src", "source_ip", "sourceip", "client_ip", "clientip",
		"source.ip", "client.ip", "id.orig_h", "remote_ip", "remote_addr", "SourceIp", "IpAddress", "c-ip")
	m.add(KindIP, RoleDst, "", "dest_ip", "dst_ip", "dstip", "dst", "destination_ip", "destinationip", "server_ip",
		"destination.ip", "server.ip", "id.resp_h", "DestinationIp", "s-ip")
	m.add(KindIP, RoleNone, "", "ip", "ip_address", "ipaddress", "addr", "address_ip")
	m.add(KindSrcPort, RoleNone, "", "src_port", "srcport", "source.port", "id.orig_p", "SourcePort")
	m.add(KindDstPort, RoleNone, "", "dest_port", "dst_port", "dstport", "destination.port", "id.resp_p", "DestinationPort")
	m.add(KindDomain, RoleNone, "", "query", "qname", "domain", "rrname", "dns.question.name", "dns.rrname",
		"QueryName", "url.domain", "fqdn")
	m.add(KindHost, RoleNone, "", "host", "hostname", "server_name", "sni", "tls.sni", "http.hostname",
		"DestinationHostname", "cs-host", "answers", "answer", "destination.domain")
	m.add(KindURL, RoleNone, "", "url", "url.full", "request_url", "full_url", "referrer", "referer", "cs-uri")
	m.add(KindMD5, RoleNone, "", "md5", "file.hash.md5", "hash.md5", "MD5")
	m.add(KindSHA1, RoleNone, "", "sha1", "file.hash.sha1", "hash.sha1", "SHA1")
	m.add(KindSHA256, RoleNone, "", "sha256", "file.hash.sha256", "hash.sha256", "SHA256")
	m.add(KindSHA512, RoleNone, "", "sha512", "file.hash.sha512")
	m.add(KindHash, RoleNone, "", "hash", "file_hash", "filehash")
	m.add(KindHashes, RoleNone, "", "Hashes", "hashes")
	m.add(KindEmail, RoleNone, "", "email", "from", "to", "sender", "recipient", "mailfrom", "rcptto", "reply_to", "cc")
	m.add(KindWallet, RoleNone, "", "wallet", "wallet_address", "address", "crypto_address")
	m.add(KindTime, RoleNone, "", "ts", "timestamp", "@timestamp", "time", "TimeCreated", "UtcTime", "datetime", "date")
	return m
}

// ZeekMapping covers the fields of Zeek's conn, dns, http, ssl, x509, files,
// smtp, notice and related logs; TSV and JSON use the same names.
func ZeekMapping() Mapping {
	m := Mapping{}
	m.add(KindTime, RoleNone, "", "ts")
	m.add(KindLogPath, RoleNone, "", "_path")
	m.add(KindIP, RoleSrc, "", "id.orig_h", "tx_hosts", "x_originating_ip", "src")
	m.add(KindIP, RoleDst, "", "id.resp_h", "rx_hosts", "dst")
	m.add(KindSrcPort, RoleNone, "", "id.orig_p")
	m.add(KindDstPort, RoleNone, "", "id.resp_p")
	m.add(KindIP, RoleNone, "", "san.ip", "path")
	m.add(KindDomain, RoleNone, "", "query", "san.dns")
	m.add(KindHost, RoleNone, "", "answers", "host", "server_name")
	m.add(KindURI, RoleNone, "", "uri")
	m.add(KindURL, RoleNone, "", "referrer", "san.uri")
	m.add(KindMD5, RoleNone, "", "md5")
	m.add(KindSHA1, RoleNone, "", "sha1")
	m.add(KindSHA256, RoleNone, "", "sha256")
	m.add(KindHash, RoleNone, "", "fingerprint", "cert_chain_fps", "cert_chain_fuids_hashes")
	m.add(KindEmail, RoleNone, "", "mailfrom", "rcptto", "from", "to", "cc", "reply_to")
	return m
}

// EVEMapping covers Suricata EVE JSON.
func EVEMapping() Mapping {
	m := Mapping{}
	m.add(KindTime, RoleNone, "", "timestamp")
	m.add(KindLogPath, RoleNone, "", "event_type")
	m.add(KindIP, RoleSrc, "", "src_ip")
	m.add(KindIP, RoleDst, "", "dest_ip")
	m.add(KindSrcPort, RoleNone, "", "src_port")
	m.add(KindDstPort, RoleNone, "", "dest_port")
	m.add(KindDomain, RoleNone, "", "dns.rrname", "dns.queries.rrname", "dns.answers.rrname", "dns.query.rrname")
	m.add(KindHost, RoleNone, "", "dns.answers.rdata", "http.hostname", "tls.sni", "dns.grouped.A", "dns.grouped.AAAA", "dns.grouped.CNAME")
	m.add(KindURI, RoleNone, "", "http.url")
	m.add(KindURL, RoleNone, "", "http.http_refer")
	m.add(KindMD5, RoleNone, "", "fileinfo.md5")
	m.add(KindSHA1, RoleNone, "", "fileinfo.sha1")
	m.add(KindSHA256, RoleNone, "", "fileinfo.sha256")
	m.add(KindEmail, RoleNone, "", "smtp.mail_from", "smtp.rcpt_to", "email.from", "email.to")
	return m
}

// WindowsMapping covers Windows events as JSON, flat (Security-Datasets,
// Winlogbeat-like) and nested (evtx_dump, Hayabusa: Event.System,
// Event.EventData).
func WindowsMapping() Mapping {
	data := Mapping{}
	data.add(KindIP, RoleDst, "", "DestinationIp")
	data.add(KindIP, RoleSrc, "", "SourceIp", "IpAddress")
	data.add(KindSrcPort, RoleNone, "", "SourcePort")
	data.add(KindDstPort, RoleNone, "", "DestinationPort")
	data.add(KindHost, RoleNone, "", "DestinationHostname")
	data.add(KindDomain, RoleNone, "", "QueryName")
	data.add(KindHashes, RoleNone, "", "Hashes", "Hash")
	data.add(KindImage, RoleNone, "", "Image", "NewProcessName")
	data.add(KindOther, RoleNone, "process:command_line", "CommandLine")
	data.add(KindTime, RoleNone, "", "UtcTime")
	m := withPrefixes(data, "", "Event.EventData.")
	m.add(KindTime, RoleNone, "", "TimeCreated", "@timestamp", "Event.System.TimeCreated.#attributes.SystemTime",
		"Event.System.TimeCreated_attributes.SystemTime")
	m.add(KindChannel, RoleNone, "", "Channel", "Event.System.Channel")
	m.add(KindEventID, RoleNone, "", "EventID", "Event.System.EventID", "Event.System.EventID.#text")
	return m
}

// lowerKeys returns m with lower-case keys, for formats matched without case.
func lowerKeys(m Mapping) Mapping {
	out := Mapping{}
	for k, t := range m {
		if _, dup := out[strings.ToLower(k)]; !dup || k == strings.ToLower(k) {
			out[strings.ToLower(k)] = t
		}
	}
	return out
}
