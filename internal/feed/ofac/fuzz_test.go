package ofac

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// fuzzRead checks that a reader never panics, yields only valid objects, and
// that every rejection names the file.
func fuzzRead(t *testing.T, f feed.Format, path string, data []byte) {
	err := f.Read(context.Background(), feed.Source{Path: path, R: bytes.NewReader(data), Time: mtime}, func(it feed.Item) error {
		if it.Err != nil {
			return nil
		}
		if it.Object == nil {
			t.Fatal("item with neither object nor error")
		}
		if err := stix.Validate(it.Object); err != nil {
			t.Fatalf("invalid object %s: %v", it.Object.Raw, err)
		}
		return nil
	})
	_ = err
}

func FuzzXML(f *testing.F) {
	if b, err := os.ReadFile("testdata/sdn_advanced.xml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`<Sanctions xmlns="` + NamespaceAdvanced + `"><ReferenceValueSets><FeatureTypeValues><FeatureType ID="1">Digital Currency Address - ETH</FeatureType></FeatureTypeValues></ReferenceValueSets><DistinctParties><DistinctParty FixedRef="1"><Profile ID="1"><Identity><Alias Primary="true"><DocumentedName><DocumentedNamePart><NamePartValue>X CO</NamePartValue></DocumentedNamePart></DocumentedName></Alias></Identity><Feature FeatureTypeID="1"><FeatureVersion><VersionDetail>0x1111111111111111111111111111111111111111</VersionDetail></FeatureVersion></Feature></Profile></DistinctParty></DistinctParties></Sanctions>`))
	f.Add([]byte(`<Sanctions><DateOfIssue><Year>x</Year></DateOfIssue></Sanctions>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, XML, "f.xml", data)
	})
}

func FuzzList(f *testing.F) {
	f.Add([]byte("0x098B716B8Aaf21512996dC57EB0615e2383E2f96\n# c\n\n1BoatSLRHtKNngkdXEeobR76b53LETtpyT\r\n"), false)
	f.Add([]byte(`["0x098B716B8Aaf21512996dC57EB0615e2383E2f96", 5, "a'b"]`), true)
	f.Add([]byte(`[`), true)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		path := "sanctioned_addresses_ETH.txt"
		if asJSON {
			path = "sanctioned_addresses_ETH.json"
		}
		fuzzRead(t, List, path, data)
		List.Sniff(path, data)
	})
}

func FuzzEntities(f *testing.F) {
	f.Add([]byte(`{"metadata":{"sdnListDate":"08/20/2026"},"addresses":{"0x098b716b8aaf21512996dc57eb0615e2383e2f96":{"type":"Digital Currency Address - ETH","entries":[{"entity":"LAZARUS GROUP","program":"DPRK3","type":"Digital Currency Address - ETH","uid":"27307","akas":["HIDDEN COBRA"]}]}}}`))
	f.Add([]byte(`{"addresses":{"a":{"entries":[{"entity":"","type":"x"}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, Entities, "m.json", data)
	})
}
