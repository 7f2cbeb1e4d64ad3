package detect

import (
	"context"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/sigma"
)

func TestScanSigma(t *testing.T) {
	rules, errs := sigma.ParseRules([]byte(`title: Rundll32 comsvcs MiniDump
id: 00000000-0000-4000-8000-000000000001
level: high
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\rundll32.exe'
    CommandLine|contains: comsvcs
  condition: sel
`), "t.yml", sigma.Options{Mapping: sigma.WindowsMapping})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	data := `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\Windows\\System32\\rundll32.exe","CommandLine":"rundll32 C:\\windows\\system32\\comsvcs.dll, MiniDump 624 x full"}
{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\Windows\\System32\\rundll32.exe","CommandLine":"comsvcs"}
{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\x\\rundll32.exe","CommandLine":"comsvcs.dll MiniDump"}}}
`
	var lines []int64
	_, err := Scan(context.Background(), nil, []Input{stringInput("w.json", data)}, ScanOptions{Rules: rules}, func(h Hit) {
		if h.RuleTitle != "Rundll32 comsvcs MiniDump" || h.Severity != "high" {
			t.Errorf("%+v", h)
		}
		lines = append(lines, h.Line)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0] != 1 || lines[1] != 3 {
		t.Fatalf("hits on lines %v, want [1 3]", lines)
	}
}
