package incidents

import "testing"

func TestQueryAndFilter(t *testing.T) {
	got := Query(Filter{Status: "open", Severity: "high", Playbook: "ssh"})
	want := "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND RiposteStatus = 'open' AND RiposteSeverity = 'high' AND RipostePlaybook = 'ssh'"
	if got != want {
		t.Fatalf("Query =\n%s\nwant\n%s", got, want)
	}
	bad := []Filter{
		{Status: "pending"},
		{Severity: "urgent"},
		{Playbook: "x' OR '1'='1"},
		{Limit: 5000},
	}
	for _, f := range bad {
		if err := ValidateFilter(f); err == nil {
			t.Errorf("ValidateFilter(%+v) accepted", f)
		}
	}
	if err := ValidateFilter(Filter{Status: "closed", Severity: "low", Playbook: "triage", Limit: 10}); err != nil {
		t.Fatal(err)
	}
}
