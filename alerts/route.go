package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"cel.dev/cel-go/cel"
)

// RouteSpec is one routing rule as configured.
type RouteSpec struct {
	Name string
	// Match is a CEL condition over alert and host; empty matches all.
	Match    string
	Playbook string
	// GroupBy is a CEL string expression; alerts with equal values (within
	// GroupWindow) join one incident.
	GroupBy     string
	GroupWindow time.Duration
	Suppress    bool
}

// Decision is where an alert goes.
type Decision struct {
	Route      string `json:"route"`
	Playbook   string `json:"playbook,omitempty"`
	Suppressed bool   `json:"suppressed,omitempty"`
	GroupKey   string `json:"group_key,omitempty"`
	// IncidentID is the incident workflow's ID: the same group key in the
	// same window always gives the same ID, which is what deduplicates.
	IncidentID string `json:"incident_id,omitempty"`
	// GroupFallback is set when GroupBy failed on this alert (a missing
	// label, say) and the alert was grouped by its own ID instead, so that
	// it is still recorded.
	GroupFallback error `json:"-"`
}

// Router applies routing rules, first match wins.
type Router struct {
	routes []*compiledRoute
	def    *compiledRoute
}

type compiledRoute struct {
	spec    RouteSpec
	match   cel.Program
	groupBy cel.Program
}

// celCostLimit bounds a single evaluation so that a bad expression cannot
// stall ingestion.
const celCostLimit = 100_000

func routeEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("alert", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("host", cel.StringType),
	)
}

// NewRouter compiles the rules. Errors name the route and the field.
func NewRouter(routes []RouteSpec, def RouteSpec) (*Router, error) {
	env, err := routeEnv()
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	r := &Router{}
	var errs []error
	for _, spec := range routes {
		cr, err := compileRoute(env, spec, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.routes = append(r.routes, cr)
	}
	if def.Name == "" {
		def.Name = "default"
	}
	def.Match, def.Suppress = "", false
	if r.def, err = compileRoute(env, def, true); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func compileRoute(env *cel.Env, spec RouteSpec, isDefault bool) (*compiledRoute, error) {
	cr := &compiledRoute{spec: spec}
	if spec.Match != "" {
		p, err := compileExpr(env, spec.Match, cel.BoolType)
		if err != nil {
			return nil, fmt.Errorf("route %q: match: %w", spec.Name, err)
		}
		cr.match = p
	}
	if !spec.Suppress {
		expr := spec.GroupBy
		if expr == "" {
			if isDefault {
				return nil, fmt.Errorf("route %q: group_by: required", spec.Name)
			}
			expr = `alert.source + "/" + alert.title`
		}
		p, err := compileExpr(env, expr, cel.StringType)
		if err != nil {
			return nil, fmt.Errorf("route %q: group_by: %w", spec.Name, err)
		}
		cr.groupBy = p
	}
	return cr, nil
}

func compileExpr(env *cel.Env, expr string, want *cel.Type) (cel.Program, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	// alert is a map of dyn, so most results are dyn and checked at run
	// time; a definite wrong type is caught here.
	if out := ast.OutputType(); !out.IsEquivalentType(want) && !out.IsEquivalentType(cel.DynType) {
		return nil, fmt.Errorf("must give a %s, gives %s", want, out)
	}
	return env.Program(ast, cel.CostLimit(celCostLimit))
}

// Route decides where a alert goes.
func (r *Router) Route(a Alert) Decision {
	act := Activation(a)
	for _, cr := range r.routes {
		if cr.match != nil {
			out, _, err := cr.match.Eval(act)
			// An error (a missing label) is not a match: the next rule or
			// the default takes the alert, so nothing is dropped.
			if err != nil || out.Value() != true {
				continue
			}
		}
		return cr.decide(a, act)
	}
	return r.def.decide(a, act)
}

func (cr *compiledRoute) decide(a Alert, act map[string]any) Decision {
	d := Decision{Route: cr.spec.Name, Playbook: cr.spec.Playbook}
	if cr.spec.Suppress {
		d.Suppressed, d.Playbook = true, ""
		return d
	}
	out, _, err := cr.groupBy.Eval(act)
	if err == nil {
		if s, ok := out.Value().(string); ok {
			d.GroupKey = s
		} else {
			err = fmt.Errorf("group_by gave %T, not a string", out.Value())
		}
	}
	if err != nil {
		d.GroupKey, d.GroupFallback = "alert:"+a.ID, fmt.Errorf("route %q: group_by: %w", cr.spec.Name, err)
	}
	d.IncidentID = IncidentID(cr.spec.Name, d.GroupKey, a.ObservedAt, cr.spec.GroupWindow)
	return d
}

// IncidentID derives the incident workflow ID from the route, the group key
// and, with a window, the window the alert's observed_at falls in. It uses
// the alert's own time, not the arrival time, so a retried post lands in
// the same incident.
func IncidentID(route, groupKey string, observedAt time.Time, window time.Duration) string {
	h := sha256.New()
	for _, p := range []string{route, groupKey} {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	if window > 0 {
		bucket := observedAt.UTC().Truncate(window).Unix()
		h.Write([]byte(strconv.FormatInt(bucket, 10)))
	}
	return "inc-" + hex.EncodeToString(h.Sum(nil))[:20]
}

// Activation is the CEL view of an alert: alert.{source, id, title,
// severity, status, observed_at, labels, observables} and host, the first
// hostname (else IP) observable.
func Activation(a Alert) map[string]any {
	labels := make(map[string]string, len(a.Labels))
	for k, v := range a.Labels {
		labels[k] = v
	}
	obs := make([]map[string]string, 0, len(a.Observables))
	host, ip := "", ""
	for _, o := range a.Observables {
		obs = append(obs, map[string]string{"type": string(o.Type), "value": o.Value})
		if o.Type == ObsHostname && host == "" {
			host = o.Value
		}
		if o.Type == ObsIP && ip == "" {
			ip = o.Value
		}
	}
	if host == "" {
		host = ip
	}
	return map[string]any{
		"alert": map[string]any{
			"source":      a.Source,
			"id":          a.ID,
			"title":       a.Title,
			"severity":    string(a.Severity),
			"status":      string(a.Status),
			"observed_at": a.ObservedAt,
			"labels":      labels,
			"observables": obs,
		},
		"host": host,
	}
}
