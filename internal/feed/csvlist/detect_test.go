package csvlist

import (
	"testing"

	"github.com/bulwark-intel/bulwark/internal/feed"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		in   string
		kind feed.Kind // "" when not an indicator
		want string
	}{
		// IP addresses and blocks
		{"185.142.236.226", feed.KindIPv4, "185.142.236.226"},
		{" 8.8.8.8 ", feed.KindIPv4, "8.8.8.8"},
		{"010.1.1.1", "", ""},     // leading zeros: octal or decimal? refuse
		{"192.168.1.256", "", ""}, // octet out of range
		{"10.0.0.0/8", feed.KindIPv4, "10.0.0.0/8"},
		{"10.1.2.3/8", feed.KindIPv4, "10.0.0.0/8"}, // masked
		{"10.1.2.3/32", feed.KindIPv4, "10.1.2.3"},
		{"10.0.0.0/33", "", ""},
		{"2001:DB8::1", feed.KindIPv6, "2001:db8::1"},
		{"2001:db8::/32", feed.KindIPv6, "2001:db8::/32"},
		{"::ffff:192.0.2.1", feed.KindIPv4, "192.0.2.1"},
		{"fe80::1%eth0", "", ""},
		{"1.2.3.4:443", "", ""}, // host:port is not one observable (Parse has it)
		// numbers and versions that look dotted
		{"10.2.3", "", ""},
		{"1.2.3", "", ""},
		{"v1.2.3", "", ""},
		{"3.14", "", ""},
		// domains
		{"celasllc.com", feed.KindDomain, "celasllc.com"},
		{"tksRpdl.atwebpages.com", feed.KindDomain, "tksrpdl.atwebpages.com"},
		{"example.com.", feed.KindDomain, "example.com"},
		{"stat_tiara.certuser.info", feed.KindDomain, "stat_tiara.certuser.info"},
		{"xn--oi2b61z32a.xn--3e0b707e", feed.KindDomain, "xn--oi2b61z32a.xn--3e0b707e"},
		{"evil[.]com", feed.KindDomain, "evil.com"},
		{"evil(.)co(.)kr", feed.KindDomain, "evil.co.kr"},
		{"a.b", "", ""},
		{"localhost", "", ""},
		{"invoice.pdf", "", ""},
		{"setup.exe", "", ""},
		{"ffmpeg.dll", "", ""},
		{"payload.zip", "", ""},
		{"-bad-.com", "", ""},
		{"bad..com", "", ""},
		{"пример.рф", "", ""},
		{"two words.com", "", ""},
		// URLs
		{"hxxp://evil[.]com/path", feed.KindURL, "http://evil.com/path"},
		{"hXXps://Evil.COM/A/B?x=1", feed.KindURL, "https://evil.com/A/B?x=1"},
		{"http://163.25.24.44", feed.KindURL, "http://163.25.24.44"},
		{"http://137.117.57.244:8080/ServiceDeskPlus/products.do", feed.KindURL, "http://137.117.57.244:8080/ServiceDeskPlus/products.do"},
		{"Engpro.xyz/images/detail.php", feed.KindURL, "engpro.xyz/images/detail.php"},
		{"theorigin.co.kr:443/admin/management/index.php", feed.KindURL, "theorigin.co.kr:443/admin/management/index.php"},
		{"setup.exe/x", "", ""},
		{"/update/49890878", "", ""},
		{"http://010.1.1.1/x", "", ""},
		{"http://[2001:db8::1]:8080/x", feed.KindURL, "http://[2001:db8::1]:8080/x"},
		// hashes
		{"0889A7AD0AD0822E9BCE2CA316B57F4D", feed.KindMD5, "0889a7ad0ad0822e9bce2ca316b57f4d"},
		{"3b3e778b647371262120a523eb873c20bb82beaf", feed.KindSHA1, "3b3e778b647371262120a523eb873c20bb82beaf"},
		{"6471f3898e63c2a9af25284253dc087dfda94809182c45728b3adc40e238c7f6", feed.KindSHA256, "6471f3898e63c2a9af25284253dc087dfda94809182c45728b3adc40e238c7f6"},
		{"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", feed.KindSHA512, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
		{"0889a7ad0ad0822e9bce2ca316b57f4", "", ""}, // 31 hex digits
		{"0889a7ad0ad0822e9bce2ca316b57f4g", "", ""},
		// email
		{"philip.je@proton.me", feed.KindEmail, "philip.je@proton.me"},
		{"Jackie.W@Gmail.com", feed.KindEmail, "jackie.w@gmail.com"},
		{"someone[@]evil[.]com", feed.KindEmail, "someone@evil.com"},
		{"@evil.com", "", ""},
		{"a@b", "", ""},
		// wallets
		{"0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D", feed.KindWallet, "0x51e9d833ecae4e8d9d8be17300aee6d3398c135d"},
		{"0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135", "", ""},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", feed.KindWallet, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "", ""}, // checksum
		{"31nadacWrgPeAQxKRMabhn3fPhnhi3hjKa", feed.KindWallet, "31nadacWrgPeAQxKRMabhn3fPhnhi3hjKa"},
		{"bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw", feed.KindWallet, "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw"},
		{"BC1Q05AKTDDF9CE4P7HH3STGSF253M4VWEU7NKHTMW", feed.KindWallet, "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw"},
		{"bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmq", "", ""}, // checksum
		{"TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", feed.KindWallet, "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"},
		{"TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLrf", "", ""},
		// junk
		{"", "", ""},
		{"   ", "", ""},
		{"hello", "", ""},
		{"evil.com\x00", "", ""},
		{"\xff\xfe.com", "", ""},
	}
	for _, tt := range tests {
		kind, got, ok := Detect(tt.in)
		if tt.kind == "" {
			if ok {
				t.Errorf("Detect(%q) = %s %q, want not an indicator", tt.in, kind, got)
			}
			continue
		}
		if !ok || kind != tt.kind || got != tt.want {
			v, err := Parse(tt.in)
			t.Errorf("Detect(%q) = %s %q %v, want %s %q (Parse: %+v, %v)", tt.in, kind, got, ok, tt.kind, tt.want, v, err)
		}
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		kind feed.Kind
		val  string
		port int
	}{
		{"216.120.201.112:443", feed.KindIPv4, "216.120.201.112", 443},
		{"[2001:db8::1]:8443", feed.KindIPv6, "2001:db8::1", 8443},
		{"evil.com:8080", feed.KindDomain, "evil.com", 8080},
	}
	for _, tt := range tests {
		v, err := Parse(tt.in)
		if err != nil || v.Kind != tt.kind || v.Value != tt.val || v.Port != tt.port {
			t.Errorf("Parse(%q) = %+v, %v", tt.in, v, err)
		}
	}
	for _, bad := range []string{"1.2.3.4:0", "1.2.3.4:70000", "evil.com:http"} {
		if v, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want error", bad, v)
		}
	}
}

func TestParseTyped(t *testing.T) {
	tests := []struct {
		value, typ string
		kinds      []feed.Kind
		wantErr    bool
	}{
		{"evil.zip", "domain", []feed.Kind{feed.KindDomain}, false},
		{"evil.zip", "", nil, true},
		{"192.0.2.1", "hostname", []feed.Kind{feed.KindIPv4}, false},
		{"evil.com", "ip", nil, true},
		{"evil.com", "URL", []feed.Kind{feed.KindURL}, false},
		{"3b3e778b647371262120a523eb873c20bb82beaf", "md5", nil, true},
		{"59e1edf4d82fae4978e97512b0331b7eb21dd4b838b850ba46794d9c7a2c0983,bfecb8ce89a312d2ef4afc64a63847ae11c6f69e,0eeb1c0133eb4d571178b2d9d14ce3e9", "file",
			[]feed.Kind{feed.KindSHA256, feed.KindSHA1, feed.KindMD5}, false},
		{"philip.je@proton.me", "emailwhois", []feed.Kind{feed.KindEmail}, false},
		{"0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D", "btc", nil, true},
		{"0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D", "ETH", []feed.Kind{feed.KindWallet}, false},
		{"TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "wallet", []feed.Kind{feed.KindWallet}, false},
		{"C:\\ProgramData\\ntnser.bin", "filename", []feed.Kind{feed.KindFileName}, false},
		{"1.2.3.4:443", "ip-dst|port", []feed.Kind{feed.KindIPv4}, false},
		{"evil.com", "yara", nil, true},
	}
	for _, tt := range tests {
		vals, err := parseTyped(tt.value, tt.typ)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseTyped(%q, %q) error = %v, want error %v", tt.value, tt.typ, err, tt.wantErr)
			continue
		}
		if len(vals) != len(tt.kinds) {
			t.Errorf("parseTyped(%q, %q) = %+v, want kinds %v", tt.value, tt.typ, vals, tt.kinds)
			continue
		}
		for i, v := range vals {
			if v.Kind != tt.kinds[i] {
				t.Errorf("parseTyped(%q, %q)[%d] kind %s, want %s", tt.value, tt.typ, i, v.Kind, tt.kinds[i])
			}
		}
	}
}
