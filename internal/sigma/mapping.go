package sigma

import (
	"strings"
)

// Mapping translates Sigma field names into event paths. Paths are dotted
// (Event.EventData.Image); MapEvent also accepts a dotted key that exists as
// is (Zeek's flat "id.orig_h"). The mapping is applied when a rule is
// compiled, so evaluation pays nothing for it.
type Mapping struct {
	Name  string
	Rules []MappingRule
}

// MappingRule applies to rules whose logsource matches Logsource (empty parts
// match anything).
type MappingRule struct {
	Logsource Logsource
	// Fields gives candidate paths for a Sigma field name; the first path
	// present in an event is used.
	Fields map[string][]string
	// Prefixes are tried, in order, for every field: prefix+name. The empty
	// prefix means the name itself.
	Prefixes []string
}

func (mr *MappingRule) applies(ls Logsource) bool {
	ok := func(want, got string) bool { return want == "" || strings.EqualFold(want, got) }
	return ok(mr.Logsource.Product, ls.Product) && ok(mr.Logsource.Category, ls.Category) && ok(mr.Logsource.Service, ls.Service)
}

// Paths returns the candidate event paths of a Sigma field for a rule with
// logsource ls. Without a mapping, or when no rule applies, it is the name.
func (m *Mapping) Paths(ls Logsource, field string) []string {
	return m.paths(ls, field)
}

func (m *Mapping) paths(ls Logsource, field string) []string {
	if m == nil {
		return []string{field}
	}
	var out []string
	add := func(p string) {
		for _, x := range out {
			if x == p {
				return
			}
		}
		out = append(out, p)
	}
	for i := range m.Rules {
		mr := &m.Rules[i]
		if !mr.applies(ls) {
			continue
		}
		if ps, ok := mr.Fields[field]; ok {
			for _, p := range ps {
				add(p)
			}
		}
	}
	for i := range m.Rules {
		mr := &m.Rules[i]
		if !mr.applies(ls) {
			continue
		}
		for _, pre := range mr.Prefixes {
			add(pre + field)
		}
	}
	if len(out) == 0 {
		out = []string{field}
	}
	return out
}

// WindowsMapping reads Windows events both flat (OTRF Security-Datasets,
// Winlogbeat-like exports: Image, EventID, Channel at top level) and nested
// as evtx_dump and Hayabusa write them (Event.System.*, Event.EventData.*).
// Security 4688 process creation names Image and ParentImage differently.
var WindowsMapping = &Mapping{
	Name: "windows",
	Rules: []MappingRule{
		{
			Logsource: Logsource{Product: "windows"},
			Fields: map[string][]string{
				"Provider_Name": {"Provider_Name", "Event.System.Provider.#attributes.Name", "Event.System.Provider_attributes.Name", "SourceName", "ProviderName"},
				"EventID":       {"EventID", "Event.System.EventID", "EventId"},
			},
			Prefixes: []string{"", "Event.EventData.", "Event.System.", "Event.UserData."},
		},
		{
			Logsource: Logsource{Product: "windows", Category: "process_creation"},
			Fields: map[string][]string{
				"Image":       {"Image", "Event.EventData.Image", "NewProcessName", "Event.EventData.NewProcessName"},
				"ParentImage": {"ParentImage", "Event.EventData.ParentImage", "ParentProcessName", "Event.EventData.ParentProcessName"},
			},
		},
	},
}

// ZeekMapping maps Sigma's generic network taxonomy onto Zeek log fields.
// Rules written for product zeek already use Zeek names and pass through.
var ZeekMapping = &Mapping{
	Name: "zeek",
	Rules: []MappingRule{
		{
			Logsource: Logsource{Category: "dns"},
			Fields: map[string][]string{
				"query":       {"query"},
				"answer":      {"answers"},
				"QueryName":   {"query"},
				"record_type": {"qtype_name"},
				"src_ip":      {"id.orig_h"},
				"dst_ip":      {"id.resp_h"},
			},
		},
		{
			Logsource: Logsource{Category: "proxy"},
			Fields: map[string][]string{
				"c-uri":           {"uri"},
				"c-uri-query":     {"uri"},
				"c-uri-stem":      {"uri"},
				"c-useragent":     {"user_agent"},
				"cs-host":         {"host"},
				"r-dns":           {"host"},
				"cs-method":       {"method"},
				"cs-referrer":     {"referrer"},
				"sc-status":       {"status_code"},
				"cs-version":      {"version"},
				"src_ip":          {"id.orig_h"},
				"dst_ip":          {"id.resp_h"},
				"cs-bytes":        {"request_body_len"},
				"sc-bytes":        {"response_body_len"},
				"c-uri-extension": {"uri"},
			},
		},
		{
			Logsource: Logsource{Category: "firewall"},
			Fields: map[string][]string{
				"src_ip":   {"id.orig_h"},
				"dst_ip":   {"id.resp_h"},
				"src_port": {"id.orig_p"},
				"dst_port": {"id.resp_p"},
				"protocol": {"proto"},
			},
		},
		{Prefixes: []string{""}},
	},
}

// WindowsLogsource derives the Sigma logsource of a Windows event from its
// channel and event id, as Sigma's Windows taxonomy defines it (Sysmon event
// ids map to categories; Security 4688 is process_creation).
func WindowsLogsource(channel string, eventID int) (product, category, service string) {
	product = "windows"
	ch := strings.ToLower(channel)
	switch {
	case strings.Contains(ch, "sysmon"):
		service = "sysmon"
		category = sysmonCategories[eventID]
	case ch == "security":
		service = "security"
		if eventID == 4688 {
			category = "process_creation"
		}
	case ch == "system":
		service = "system"
	case ch == "application":
		service = "application"
	case strings.Contains(ch, "powershell"):
		service = "powershell"
		switch eventID {
		case 4104:
			category = "ps_script"
		case 4103:
			category = "ps_module"
		case 400, 600:
			category = "ps_classic_start"
		}
		if ch == "windows powershell" {
			service = "powershell-classic"
		}
	case strings.Contains(ch, "taskscheduler"):
		service = "taskscheduler"
	case strings.Contains(ch, "windows defender"):
		service = "windefend"
	}
	return product, category, service
}

var sysmonCategories = map[int]string{
	1:  "process_creation",
	2:  "file_change",
	3:  "network_connection",
	5:  "process_termination",
	6:  "driver_load",
	7:  "image_load",
	8:  "create_remote_thread",
	9:  "raw_access_thread",
	10: "process_access",
	11: "file_event",
	12: "registry_add",
	13: "registry_set",
	14: "registry_rename",
	15: "create_stream_hash",
	17: "pipe_created",
	18: "pipe_created",
	19: "wmi_event",
	20: "wmi_event",
	21: "wmi_event",
	22: "dns_query",
	23: "file_delete",
	24: "clipboard_capture",
	25: "process_tampering",
	26: "file_delete_detected",
	29: "file_executable_detected",
}
