package alerts

import (
	"fmt"
	"testing"
)

func aSNIncident(name, props string) string {
	return fmt.Sprintf(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/incidents/%s","name":%q,"type":"Microsoft.SecurityInsights/incidents","etag":"\"e\"","properties":{%s}}`,
		name, name, props)
}

const aSNProps = `"title":"Suspicious sign-in","severity":"Medium","status":"New","incidentNumber":42,"createdTimeUtc":"2024-06-01T10:05:00Z","firstActivityTimeUtc":"2024-06-01T09:58:00.1234567Z","lastActivityTimeUtc":"2024-06-01T10:00:00Z","owner":{"assignedTo":null},"labels":[{"labelName":"vip","labelType":"User"},{"labelName":"Phishing","labelType":"AutoAssigned"}]`

// A Logic App "Microsoft Sentinel incident" trigger body.
const aSNTrigger = `{"eventUniqueId":"ev-1","objectSchemaType":"Incident","objectEventType":"Create","workspaceInfo":{"SubscriptionId":"s","ResourceGroupName":"rg","WorkspaceName":"w"},"workspaceId":"ws-1",` +
	`"object":{"id":"/subscriptions/s/.../incidents/11111111-2222-3333-4444-555555555555","name":"11111111-2222-3333-4444-555555555555","etag":"\"x\"","type":"Microsoft.SecurityInsights/Incidents",` +
	`"properties":{"title":"Mass download","severity":"Informational","status":"Active","incidentNumber":7,"createdTimeUtc":"2024-06-02T08:00:00Z","owner":{"assignedTo":"Ann"},"labels":[],` +
	`"relatedEntities":[` +
	`{"id":"e1","type":"Microsoft.SecurityInsights/Entities","kind":"Ip","properties":{"address":"203.0.113.50","friendlyName":"203.0.113.50"}},` +
	`{"id":"e2","kind":"Host","properties":{"hostName":"LAPTOP-9","dnsDomain":"corp.example","osFamily":"Windows"}},` +
	`{"id":"e3","kind":"Account","properties":{"accountName":"jdoe","upnSuffix":"corp.example","ntDomain":"CORP"}},` +
	`{"id":"e4","kind":"Url","properties":{"url":"https://phish.example/login"}},` +
	`{"id":"e5","kind":"FileHash","properties":{"algorithm":"SHA256","hashValue":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}},` +
	`{"id":"e6","kind":"FileHash","properties":{"algorithm":"Unknown","hashValue":"d41d8cd98f00b204e9800998ecf8427e"}},` +
	`{"id":"e7","kind":"File","properties":{"fileName":"invoice.exe","directory":"C:\\Users\\jdoe\\Downloads"}},` +
	`{"id":"e8","kind":"Process","properties":{"commandLine":"powershell -nop -w hidden","processId":"4242"}},` +
	`{"id":"e9","kind":"DnsResolution","properties":{"domainName":"C2.Example.net"}},` +
	`{"id":"e10","kind":"Mailbox","properties":{"mailboxPrimaryAddress":"jdoe@corp.example"}},` +
	`{"id":"e11","kind":"CloudApplication","properties":{"appId":11161}},` +
	`{"id":"e12","kind":"Ip"}` +
	`]}}}`

var aSentinelCases = []aCase{
	{
		name: "REST resource, New",
		body: aSNIncident("aaaaaaaa-0000-0000-0000-000000000001", aSNProps),
		check: aAll(
			aWantOne("sentinel:aaaaaaaa-0000-0000-0000-000000000001", "Suspicious sign-in", SeverityMedium, StatusFiring, "2024-06-01T09:58:00.1234567Z"),
			aWantLabels("incidentNumber", "42", "status", "New", "label.vip", "true", "label.Phishing", "true", "owner.assignedTo", "<absent>"),
			aWantObs(),
		),
	},
	{
		name:  "Closed is resolved",
		body:  aSNIncident("c", `"title":"t","severity":"Low","status":"Closed","classification":"TruePositive","firstActivityTimeUtc":"2024-06-01T00:00:00Z"`),
		check: aAll(aWantOne("sentinel:c", "t", SeverityLow, StatusResolved, "2024-06-01T00:00:00Z"), aWantLabels("classification", "TruePositive")),
	},
	{
		name:  "Active is firing",
		body:  aSNIncident("c", `"title":"t","severity":"High","status":"Active","firstActivityTimeUtc":"2024-06-01T00:00:00Z"`),
		check: aWantOne("", "", SeverityHigh, StatusFiring, ""),
	},
	{
		name:  "createdTimeUtc when there is no firstActivityTimeUtc; no severity gives the default",
		body:  aSNIncident("c", `"title":"t","status":"New","createdTimeUtc":"2024-06-01T01:02:03Z"`),
		check: aWantOne("", "", SeverityMedium, "", "2024-06-01T01:02:03Z"),
	},
	{
		name:  "no severity gives the configured default",
		body:  aSNIncident("c", `"title":"t","status":"New","createdTimeUtc":"2024-06-01T01:02:03Z"`),
		opts:  Options{DefaultSeverity: SeverityHigh},
		check: aWantOne("", "", SeverityHigh, "", ""),
	},
	{
		name: "Logic App trigger with related entities",
		body: aSNTrigger,
		check: aAll(
			aWantOne("sentinel:11111111-2222-3333-4444-555555555555", "Mass download", SeverityInformational, StatusFiring, "2024-06-02T08:00:00Z"),
			aWantObs("ip", "203.0.113.50", "hostname", "laptop-9.corp.example", "user", "jdoe@corp.example", "url", "https://phish.example/login",
				"hash_sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hash_md5", "d41d8cd98f00b204e9800998ecf8427e",
				"file", `C:\Users\jdoe\Downloads\invoice.exe`, "process", "powershell -nop -w hidden", "domain", "c2.example.net", "email", "jdoe@corp.example"),
			aWantLabels("owner.assignedTo", "Ann", "objectEventType", "Create", "workspaceId", "ws-1", "incidentNumber", "7"),
			func(t *testing.T, as []Alert) {
				if s := string(as[0].Raw); s[:8] != `{"id":"/` {
					t.Errorf("raw is not the incident object: %.60s", s)
				}
			},
		),
	},
	{
		name:  "relatedEntities next to properties",
		body:  `{"name":"n","properties":{"title":"t","createdTimeUtc":"2024-06-01T00:00:00Z"},"relatedEntities":[{"kind":"ip","properties":{"address":"192.0.2.9"}}]}`,
		check: aWantObs("ip", "192.0.2.9"),
	},
	{name: "wrapped object not an object", body: `{"object":"x"}`,
		wantErr: []string{`sentinel: expected a Sentinel incident with "properties"`, `got "object" as a JSON string ("x")`}},
	{name: "no properties", body: `{"name":"n","type":"Microsoft.SecurityInsights/incidents"}`,
		wantErr: []string{`sentinel: expected a Sentinel incident`, `got a JSON object without "properties"`}},
	{name: "properties of something else", body: `{"type":"Feature","properties":{"name":"park"}}`,
		wantErr: []string{`sentinel: expected a Sentinel incident`, `got "properties" without "title" or "incidentNumber"`}},
	{name: "no name or id", body: `{"properties":{"title":"t","createdTimeUtc":"2024-06-01T00:00:00Z"}}`,
		wantErr: []string{`sentinel: expected a Sentinel incident`, `got an incident without "name" (its GUID) or "id"`}},
	{name: "no time", body: aSNIncident("c", `"title":"t"`),
		wantErr: []string{`sentinel: firstActivityTimeUtc/createdTimeUtc: missing time`}},
}

func TestSentinelCases(t *testing.T) { aRunCases(t, Sentinel{}, aSentinelCases) }

func TestSentinelStableIDs(t *testing.T) {
	id := func(body string) string { return aNormalize(t, Sentinel{}, body, Options{})[0].ID }
	a := aSNIncident("aaaaaaaa-0000-0000-0000-000000000001", aSNProps)
	// An update of the same incident (status, severity) keeps its id.
	a2 := aSNIncident("aaaaaaaa-0000-0000-0000-000000000001", `"title":"Suspicious sign-in","severity":"High","status":"Closed","createdTimeUtc":"2024-06-01T10:05:00Z"`)
	b := aSNIncident("aaaaaaaa-0000-0000-0000-000000000002", aSNProps)
	if id(a) != id(a2) {
		t.Errorf("same incident, different ids: %s %s", id(a), id(a2))
	}
	if id(a) == id(b) {
		t.Error("different incidents share an id")
	}
}
