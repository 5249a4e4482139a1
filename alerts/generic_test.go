package alerts

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func bMinimalMapping() GenericMapping {
	return GenericMapping{ID: "$.id", Title: "$.title", Time: "$.time"}
}

func bMustGeneric(t *testing.T, format string, m GenericMapping) *Generic {
	t.Helper()
	g, err := NewGeneric(format, m)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGenericMappingErrorsB(t *testing.T) {
	mod := func(f func(*GenericMapping)) GenericMapping {
		m := bMinimalMapping()
		f(&m)
		return m
	}
	tests := []struct {
		name   string
		format string
		m      GenericMapping
		want   []string
	}{
		{"missing id", "datadog", mod(func(m *GenericMapping) { m.ID = "" }), []string{`generic mapping "datadog": id: required`}},
		{"missing title", "datadog", mod(func(m *GenericMapping) { m.Title = " " }), []string{`generic mapping "datadog": title: required`}},
		{"missing time", "datadog", mod(func(m *GenericMapping) { m.Time = "" }), []string{`generic mapping "datadog": time: required`}},
		{"cel syntax error", "datadog", mod(func(m *GenericMapping) { m.Title = `event.title +` }), []string{`generic mapping "datadog": title: cel: `, "Syntax error"}},
		{"cel unknown variable", "datadog", mod(func(m *GenericMapping) { m.Title = `alert.title` }), []string{`generic mapping "datadog": title: cel: `, "undeclared reference to 'alert'"}},
		{"cel wrong type", "datadog", mod(func(m *GenericMapping) { m.ID = `{"a": 1}` }), []string{`generic mapping "datadog": id: cel: expression gives map`}},
		{"bad json path", "datadog", mod(func(m *GenericMapping) { m.Time = `$.a[` }), []string{`generic mapping "datadog": time: bad JSON path "$.a["`}},
		{"bad json path key", "datadog", mod(func(m *GenericMapping) { m.Time = `$..a` }), []string{`time: bad JSON path`, "empty key"}},
		{"unknown observable type", "datadog", mod(func(m *GenericMapping) {
			m.Observables = []GenericObservable{{Type: ObsIP, Value: "$.ip"}, {Type: "ipv4", Value: "$.ip"}}
		}), []string{`generic mapping "datadog": observables[1]: unknown type "ipv4" (want one of ip, domain`}},
		{"observable without value", "datadog", mod(func(m *GenericMapping) {
			m.Observables = []GenericObservable{{Type: ObsIP}}
		}), []string{`generic mapping "datadog": observables[0]: required`}},
		{"bad severity map value", "datadog", mod(func(m *GenericMapping) {
			m.Severity = "$.p"
			m.SeverityMap = map[string]string{"P1": "urgent", "P2": "high"}
		}), []string{`generic mapping "datadog": severity_map["P1"]: "urgent" is not a severity`}},
		{"severity map without severity", "datadog", mod(func(m *GenericMapping) {
			m.SeverityMap = map[string]string{"P1": "critical"}
		}), []string{`generic mapping "datadog": severity_map: set, but severity is empty`}},
		{"label cel error", "datadog", mod(func(m *GenericMapping) { m.Labels = map[string]string{"team": "event.team ==="} }), []string{`generic mapping "datadog": labels["team"]: cel: `}},
		{"empty format", "", bMinimalMapping(), []string{`generic mapping "": format name`}},
		{"format with colon", "a:b", bMinimalMapping(), []string{`generic mapping "a:b": format name`}},
		{"several problems", "x", GenericMapping{Title: "((", Time: "$"}, []string{`"x": id: required`, `"x": title: cel:`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGeneric(tt.format, tt.m)
			if err == nil {
				t.Fatalf("no error; got %+v", g)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestGenericPathVersusCELB(t *testing.T) {
	body := `{"alert":{"id":12345678901234567,"name":"Disk full","sev":3,"ts":"2024-02-03T04:05:06Z","resolved":false,
"hosts":[{"ip":"192.0.2.1","name":"db1"},{"ip":"192.0.2.2","name":"db2"}],"odd key":"v","user":{"name":"carol"},"ratio":0.25}}`
	path := GenericMapping{
		ID: "$.alert.id", Title: "$.alert.name", Severity: "$.alert.sev", SeverityMap: map[string]string{"3": "high"},
		Time: "$.alert.ts", Status: "$.alert.resolved",
		Observables: []GenericObservable{{Type: ObsIP, Value: "$.alert.hosts[*].ip"}, {Type: ObsHostname, Value: "$.alert.hosts[1].name"},
			{Type: ObsUser, Value: "$['alert'][\"user\"].name"}},
		Labels: map[string]string{"odd": "$.alert['odd key']", "ratio": "$.alert.ratio", "hosts": "$.alert.hosts[*].name"},
	}
	cel := GenericMapping{
		ID: "string(event.alert.id)", Title: "event.alert.name", Severity: "event.alert.sev", SeverityMap: map[string]string{"3": "high"},
		Time: "event.alert.ts", Status: "!event.alert.resolved ? false : true",
		Observables: []GenericObservable{{Type: ObsIP, Value: "event.alert.hosts.map(h, h.ip)"}, {Type: ObsHostname, Value: "event.alert.hosts[1].name"},
			{Type: ObsUser, Value: "event.alert.user.name"}},
		Labels: map[string]string{"odd": "event.alert['odd key']", "ratio": "event.alert.ratio", "hosts": "event.alert.hosts.map(h, h.name)"},
	}
	var results [][]Alert
	for name, m := range map[string]GenericMapping{"path": path, "cel": cel} {
		t.Run(name, func(t *testing.T) {
			g := bMustGeneric(t, "mon", m)
			opts := Options{Source: "mon"}
			as, err := g.Normalize([]byte(body), opts)
			if err != nil {
				t.Fatal(err)
			}
			bCheckAlerts(t, as, opts)
			a := as[0]
			bCheckWant(t, a, bWant{
				id: "mon:12345678901234567", title: "Disk full", sev: SeverityHigh, status: StatusResolved,
				at:     "2024-02-03T04:05:06Z",
				obs:    []Observable{{ObsIP, "192.0.2.1"}, {ObsIP, "192.0.2.2"}, {ObsHostname, "db2"}, {ObsUser, "carol"}},
				labels: map[string]string{"odd": "v", "ratio": "0.25", "hosts": "db1,db2"},
			})
			if len(a.Observables) != 4 {
				t.Errorf("observables = %v", a.Observables)
			}
			results = append(results, as)
		})
	}
	if len(results) == 2 && results[0][0].ID != results[1][0].ID {
		t.Errorf("path and CEL ids differ")
	}
}

func TestGenericBodiesB(t *testing.T) {
	g := bMustGeneric(t, "tool", GenericMapping{ID: "$.id", Title: "$.title", Time: "$.time", Status: "$.state",
		Severity: "$.level", Labels: map[string]string{"team": "$.team", "meta": "$.meta", "cel_missing": "event.nope.deeper"}})
	one := `{"id":"a1","title":"T1","time":1700000000,"state":"OK","level":"CRITICAL","team":"blue","meta":{"k":1}}`
	two := `{"id":"a2","title":"T2","time":"2024-01-01T00:00:00+02:00","level":"bogus"}`
	opts := Options{Source: "tool", DefaultSeverity: SeverityLow}

	as, err := g.Normalize([]byte(one), opts)
	if err != nil {
		t.Fatal(err)
	}
	bCheckAlerts(t, as, opts)
	a := as[0]
	if a.ID != "tool:a1" || a.Status != StatusResolved || a.Severity != SeverityCritical ||
		a.ObservedAt != time.Unix(1700000000, 0).UTC() || a.Labels["team"] != "blue" || a.Labels["meta"] != `{"k":1}` {
		t.Errorf("got %+v", a)
	}
	if _, ok := a.Labels["cel_missing"]; ok {
		t.Errorf("a missing key gave a label")
	}

	for name, body := range map[string]string{"array": "[" + one + ",\n" + two + "]", "ndjson": one + "\n\n" + two + "\n"} {
		t.Run(name, func(t *testing.T) {
			as, err := g.Normalize([]byte(body), opts)
			if err != nil {
				t.Fatal(err)
			}
			bCheckAlerts(t, as, opts)
			if len(as) != 2 || as[1].ID != "tool:a2" || as[1].Severity != SeverityLow || as[1].Status != StatusFiring ||
				as[1].ObservedAt.Hour() != 22 || string(as[1].Raw) != two {
				t.Errorf("got %+v", as)
			}
		})
	}
	bWantErr(t, g, `[`+one+`,{"title":"no id","time":1}]`, "tool: element 1: expected an alert object with a value for id ($.id)")
	bWantErr(t, g, one+"\n"+`{"id":"x","title":"t"}`, "tool: line 2: time ($.time): missing")
	bWantErr(t, g, `{"id":"x","title":"t","time":"soon"}`, "tool: time ($.time): unrecognised time")
	bWantErr(t, g, `{"id":{"a":1},"title":"t","time":1}`, "tool: id ($.id): expected a string or a number, got an object")
	bWantErr(t, g, `[1,2]`, "tool: element 0: expected an alert object")
	bWantErr(t, g, `{"id":"x","title":"","time":1}`, "expected an alert object with a value for title ($.title)")
}

func TestGenericItemsB(t *testing.T) {
	hits := `{"took":3,"hits":{"total":{"value":2},"hits":[
{"_index":".alerts-security","_id":"h1","_source":{"kibana.alert.uuid":"u1","kibana.alert.rule.name":"R1","@timestamp":"2024-03-01T00:00:00Z","kibana.alert.severity":"high","host":{"ip":["10.0.0.1","10.0.0.2"]}}},
{"_index":".alerts-security","_id":"h2","_source":{"kibana":{"alert":{"uuid":"u2","rule":{"name":"R2"},"severity":"medium"}},"@timestamp":"2024-03-01T00:00:01Z","host":{"ip":"10.0.0.3"}}}]}}`
	m := GenericMapping{
		Items: "$.hits.hits[*]._source", ID: "$.kibana.alert.uuid", Title: "$.kibana.alert.rule.name",
		Severity: "$.kibana.alert.severity", Time: "$['@timestamp']",
		Observables: []GenericObservable{{Type: ObsIP, Value: "$.host.ip"}},
	}
	opts := Options{Source: "es"}
	as, err := bMustGeneric(t, "elastic", m).Normalize([]byte(hits), opts)
	if err != nil {
		t.Fatal(err)
	}
	bCheckAlerts(t, as, opts)
	if len(as) != 2 || as[0].ID != "elastic:u1" || as[1].ID != "elastic:u2" || as[1].Title != "R2" ||
		as[0].Severity != SeverityHigh || as[1].Severity != SeverityMedium ||
		len(as[0].Observables) != 2 || as[1].Observables[0] != (Observable{ObsIP, "10.0.0.3"}) {
		t.Fatalf("got %+v", as)
	}

	// A CEL Items expression.
	m.Items = `event.hits.hits.filter(h, h._id != "h1").map(h, h._source)`
	as, err = bMustGeneric(t, "elastic", m).Normalize([]byte(hits), opts)
	if err != nil || len(as) != 1 || as[0].ID != "elastic:u2" {
		t.Fatalf("cel items: %+v %v", as, err)
	}
	// Items built by CEL, with a value JSON cannot carry.
	built := GenericMapping{Items: `[{"id": "x", "title": "t", "time": event.t, "v": 0.0/0.0}]`, ID: "$.id", Title: "$.title", Time: "$.time",
		Labels: map[string]string{"v": "$.v"}}
	as, err = bMustGeneric(t, "built", built).Normalize([]byte(`{"t":1700000000}`), opts)
	if err != nil || len(as) != 1 || as[0].Labels["v"] != "NaN" {
		t.Fatalf("cel-built items: %+v %v", as, err)
	}
	bCheckAlerts(t, as, opts)
	bWantErr(t, bMustGeneric(t, "elastic", m), `{"hits":{"hits":[]}}`, "elastic: expected alert objects at items", "got an empty array")
	bWantErr(t, bMustGeneric(t, "elastic", m), `{"took":1}`, "elastic: expected alert objects at items", "got nothing")
}

func TestGenericCostLimitB(t *testing.T) {
	m := bMinimalMapping()
	m.Labels = map[string]string{"boom": "event.xs.map(a, event.xs.map(b, event.xs.map(c, a + b + c))).size()"}
	g := bMustGeneric(t, "hostile", m)
	xs := strings.TrimSuffix(strings.Repeat("1,", 500), ",")
	body := fmt.Sprintf(`{"id":"x","title":"t","time":1,"xs":[%s]}`, xs)
	start := time.Now()
	_, err := g.Normalize([]byte(body), Options{})
	if err == nil || !strings.Contains(err.Error(), `hostile: labels["boom"]`) || !strings.Contains(err.Error(), "cost") {
		t.Fatalf("err = %v, want a cost limit error naming the label", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestGenericStatusWordsB(t *testing.T) {
	g := bMustGeneric(t, "s", GenericMapping{ID: "$.id", Title: "$.id", Time: "$.t", Status: "$.s"})
	for v, want := range map[string]Status{`"resolved"`: StatusResolved, `"OK"`: StatusResolved, `"Recovered"`: StatusResolved,
		`"closed"`: StatusResolved, `false`: StatusResolved, `true`: StatusFiring, `"Triggered"`: StatusFiring,
		`"alerting"`: StatusFiring, `null`: StatusFiring, `0`: StatusFiring} {
		as, err := g.Normalize([]byte(`{"id":"1","t":1,"s":`+v+`}`), Options{})
		if err != nil || as[0].Status != want {
			t.Errorf("status %s: %v %v, want %s", v, as, err, want)
		}
	}
}

func TestGenericPathParserB(t *testing.T) {
	obj := map[string]any{"a": map[string]any{"b c": []any{"x", map[string]any{"d": "deep"}}, `q"k`: "quoted"},
		"a.b": "dotted", "list": []any{map[string]any{"v": "1"}, map[string]any{"v": "2"}, map[string]any{"w": "3"}}}
	tests := []struct {
		path string
		want string
	}{
		{"$.a['b c'][0]", "[x]"},
		{"$.a['b c'][1].d", "[deep]"},
		{`$.a["q\"k"]`, "[quoted]"},
		{"$['a.b']", "[dotted]"},
		{"$.a.b", "[dotted]"},
		{"$.list[*].v", "[1 2]"},
		{"$.list.*.w", "[3]"},
		{"$.list[5]", "[]"},
		{"$.missing.x", "[]"},
	}
	for _, tt := range tests {
		segs, err := bParsePath(tt.path)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		var got []any
		bWalkPath(obj, segs, func(v any) { got = append(got, v) })
		if fmt.Sprint(got) != tt.want && !(tt.want == "[]" && got == nil) {
			t.Errorf("%s = %v, want %s", tt.path, got, tt.want)
		}
	}
	for _, bad := range []string{"a.b", "$.", "$[", "$['x", "$[x]", "$[-1]", "$[*", "$a"} {
		if _, err := bParsePath(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestGenericWrongBodiesB(t *testing.T) {
	g := bMustGeneric(t, "tool", bMinimalMapping())
	bTestWrongBodies(t, g, "tool", "expected an alert object", "graylog/graylog_notify_aggregation_with_fields.json")
}

func TestGenericStableIDsB(t *testing.T) {
	g := bMustGeneric(t, "datadog", bDatadogMapping())
	body := bReadFixture(t, "../generic/datadog_webhook.json")
	a := bSame(t, g, body)
	b := bSame(t, g, []byte(strings.Replace(string(body), "7412305981146400001", "7412305981146400002", 1)))
	if a[0].ID == b[0].ID {
		t.Errorf("different cycle keys share id %q", a[0].ID)
	}
}
