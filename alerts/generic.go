package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// GenericMapping maps a JSON body to alert fields, for tools whose webhook
// body is a template the user writes (Elastic, Datadog) and any tool
// without a normaliser of its own.
//
// Each field is either a JSON path starting with "$" or a CEL expression
// over `event`, the alert object as decoded JSON.
//
// JSON paths: "$" is the alert object; ".name" and "['name']" (or
// "[\"name\"]") select a key, "[2]" an array element, "[*]" or ".*" every
// element (the result is then a list). A dotted step also matches a key
// that itself contains dots, so "$.kibana.alert.uuid" finds both
// {"kibana":{"alert":{"uuid":…}}} and {"kibana.alert.uuid":…}: the key as
// written is tried first, then longer dotted keys.
//
// CEL: `event` is dynamic; numbers that are whole are int, others double.
// The strings extension (split, lowerAscii, trim, ...) and optional
// values (event.?key.orValue("")) are available. A key that does not exist
// counts as "no value", like a JSON path that finds nothing. Each
// evaluation is bounded by a cost limit.
type GenericMapping struct {
	// Items optionally yields the list of alert objects from the body
	// (for example "$.alerts" or "$.hits.hits[*]._source"). Empty: the
	// body itself is the alert object, an array of them, or NDJSON of
	// them.
	Items string
	// ID is required; the alert's ID is MakeID(format, <value>).
	ID string
	// Title is required.
	Title string
	// Severity is optional. Its value (as text) is looked up in
	// SeverityMap, case-insensitively, then read as a named level (low,
	// high, ...); otherwise, or when absent, the default applies.
	Severity string
	// SeverityMap maps vendor values ("P1", "3") to one of informational,
	// low, medium, high, critical.
	SeverityMap map[string]string
	// Time is required; read by ParseTime (RFC 3339, epoch s or ms). An
	// alert without a time is an error: a receive time would make the
	// alert non-deterministic.
	Time string
	// Status is optional: resolved, ok, recovered, closed, inactive or
	// normal (any case), or the boolean false, mean resolved; anything
	// else, or absent, means firing. A boolean is read as "is firing".
	Status string
	// Observables each yield a string or a list of strings.
	Observables []GenericObservable
	// Labels maps a label name to a field; lists are comma-joined and
	// objects given as JSON.
	Labels map[string]string
}

// GenericObservable is one observable field of a GenericMapping.
type GenericObservable struct {
	Type  ObservableType
	Value string
}

// Generic is a compiled GenericMapping; it implements Normalizer.
type Generic struct {
	format      string
	items       *bGenExpr
	id          *bGenExpr
	title       *bGenExpr
	severity    *bGenExpr
	sevMap      map[string]Severity
	when        *bGenExpr
	status      *bGenExpr
	observables []bGenObservable
	labels      []bGenLabel
	usesCEL     bool
}

type bGenObservable struct {
	typ  ObservableType
	expr *bGenExpr
}

type bGenLabel struct {
	name string
	expr *bGenExpr
}

// bGenExpr is one compiled field: a JSON path or a CEL program.
type bGenExpr struct {
	field string // for errors: "title", "labels[\"rule\"]"
	src   string
	path  []bPathSeg
	multi bool // the path has a wildcard: its value is a list
	prg   cel.Program
}

// bGenericCostLimit bounds one CEL evaluation (an Items expression may
// walk a large array, hence more than the routing rules allow).
const bGenericCostLimit = 1_000_000

// bGenericEvalTimeout is a backstop behind the cost limit.
const bGenericEvalTimeout = 2 * time.Second

// bCELKinds are the result kinds a field may have; dyn is always allowed.
var (
	bScalarKinds = []types.Kind{types.StringKind, types.IntKind, types.UintKind, types.DoubleKind, types.BoolKind,
		types.NullTypeKind, types.OpaqueKind}
	bTimeKinds  = []types.Kind{types.StringKind, types.IntKind, types.UintKind, types.DoubleKind, types.TimestampKind, types.OpaqueKind}
	bListKinds  = append([]types.Kind{types.ListKind}, bScalarKinds...)
	bItemsKinds = []types.Kind{types.ListKind, types.MapKind, types.OpaqueKind}
	bLabelKinds = append([]types.Kind{types.ListKind, types.MapKind, types.TimestampKind}, bScalarKinds...)
)

// NewGeneric compiles and checks a mapping once. format names the source
// format; it prefixes the IDs and the errors. Errors name the field:
// `generic mapping "datadog": title: ...`.
func NewGeneric(format string, m GenericMapping) (*Generic, error) {
	fail := func(err error) error { return fmt.Errorf("generic mapping %q: %w", format, err) }
	if format == "" || strings.IndexFunc(format, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return nil, fail(errors.New("format name must be non-empty letters, digits, '-', '_' or '.'"))
	}
	env, err := cel.NewEnv(
		cel.Variable("event", cel.DynType),
		ext.Strings(),
		cel.OptionalTypes(),
	)
	if err != nil {
		return nil, fail(err)
	}
	g := &Generic{format: format}
	var errs []error
	compile := func(field, src string, required bool, kinds []types.Kind) *bGenExpr {
		src = strings.TrimSpace(src)
		if src == "" {
			if required {
				errs = append(errs, fail(fmt.Errorf("%s: required", field)))
			}
			return nil
		}
		e, err := bCompileGenExpr(env, field, src, kinds)
		if err != nil {
			errs = append(errs, fail(fmt.Errorf("%s: %w", field, err)))
			return nil
		}
		if e.prg != nil {
			g.usesCEL = true
		}
		return e
	}
	g.items = compile("items", m.Items, false, bItemsKinds)
	g.id = compile("id", m.ID, true, bScalarKinds)
	g.title = compile("title", m.Title, true, bScalarKinds)
	g.severity = compile("severity", m.Severity, false, bScalarKinds)
	g.when = compile("time", m.Time, true, bTimeKinds)
	g.status = compile("status", m.Status, false, bScalarKinds)

	if len(m.SeverityMap) > 0 {
		if strings.TrimSpace(m.Severity) == "" {
			errs = append(errs, fail(errors.New("severity_map: set, but severity is empty")))
		}
		g.sevMap = map[string]Severity{}
		for _, k := range bSortedKeys(m.SeverityMap) {
			v := m.SeverityMap[k]
			s := Severity(strings.ToLower(strings.TrimSpace(v)))
			if !s.Valid() {
				errs = append(errs, fail(fmt.Errorf("severity_map[%q]: %q is not a severity (want informational, low, medium, high or critical)", k, v)))
				continue
			}
			g.sevMap[strings.ToLower(strings.TrimSpace(k))] = s
		}
	}

	for i, o := range m.Observables {
		field := fmt.Sprintf("observables[%d]", i)
		if !bKnownObservableType(o.Type) {
			names := make([]string, len(ObservableTypes))
			for j, t := range ObservableTypes {
				names[j] = string(t)
			}
			errs = append(errs, fail(fmt.Errorf("%s: unknown type %q (want one of %s)", field, o.Type, strings.Join(names, ", "))))
			continue
		}
		if e := compile(field, o.Value, true, bListKinds); e != nil {
			g.observables = append(g.observables, bGenObservable{typ: o.Type, expr: e})
		}
	}

	for _, name := range bSortedKeys(m.Labels) {
		field := fmt.Sprintf("labels[%q]", name)
		if strings.TrimSpace(name) == "" {
			errs = append(errs, fail(errors.New("labels: empty label name")))
			continue
		}
		if e := compile(field, m.Labels[name], true, bLabelKinds); e != nil {
			g.labels = append(g.labels, bGenLabel{name: name, expr: e})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

func bKnownObservableType(t ObservableType) bool {
	for _, k := range ObservableTypes {
		if t == k {
			return true
		}
	}
	return false
}

func bSortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func bCompileGenExpr(env *cel.Env, field, src string, kinds []types.Kind) (*bGenExpr, error) {
	e := &bGenExpr{field: field, src: src}
	if strings.HasPrefix(src, "$") {
		segs, err := bParsePath(src)
		if err != nil {
			return nil, err
		}
		e.path = segs
		for _, s := range segs {
			if s.kind == bSegAll {
				e.multi = true
			}
		}
		return e, nil
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("cel: %w", iss.Err())
	}
	out := ast.OutputType()
	ok := out.Kind() == types.DynKind || out.Kind() == types.AnyKind
	for _, k := range kinds {
		ok = ok || out.Kind() == k
	}
	if !ok {
		return nil, fmt.Errorf("cel: expression gives %s, which does not fit this field", out)
	}
	prg, err := env.Program(ast,
		cel.CostLimit(bGenericCostLimit),
		cel.InterruptCheckFrequency(100),
	)
	if err != nil {
		return nil, fmt.Errorf("cel: %w", err)
	}
	e.prg = prg
	return e, nil
}

// bGenItem is one alert object of a body, with where it came from.
type bGenItem struct {
	val any
	raw json.RawMessage
	loc string // "" when the body holds one alert; else "line 3: ", "element 2: "
}

// Normalize implements Normalizer.
func (g *Generic) Normalize(body []byte, opts Options) ([]Alert, error) {
	recs, err := bDecodeAll(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; %s", g.format, err, bGenericExpect)
	}
	multi := len(recs) > 1
	var items []bGenItem
	for _, rec := range recs {
		loc := ""
		if multi {
			loc = fmt.Sprintf("line %d: ", rec.line)
		}
		got, err := g.splitItems(rec, loc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.format, err)
		}
		items = append(items, got...)
	}
	if len(items) == 1 && !multi {
		items[0].loc = ""
	}
	out := make([]Alert, 0, len(items))
	for _, it := range items {
		a, err := g.alert(it, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %s%w", g.format, it.loc, err)
		}
		out = append(out, a)
	}
	return out, nil
}

const bGenericExpect = "expected an alert object (or an array of them, or NDJSON of them)"

// splitItems turns one top-level JSON value into alert objects, through
// Items when the mapping has it.
func (g *Generic) splitItems(rec bRecord, loc string) ([]bGenItem, error) {
	if g.items == nil {
		switch x := rec.val.(type) {
		case map[string]any:
			return []bGenItem{{val: x, raw: rec.raw, loc: loc}}, nil
		case []any:
			if len(x) == 0 {
				return nil, fmt.Errorf("%s%s, got an empty array", loc, bGenericExpect)
			}
			raws := bRawElements(rec.raw, x)
			out := make([]bGenItem, len(x))
			for i, el := range x {
				out[i] = bGenItem{val: el, raw: raws[i], loc: fmt.Sprintf("%selement %d: ", loc, i)}
			}
			return out, nil
		}
		return nil, fmt.Errorf("%s%s, got %s", loc, bGenericExpect, bDescribe(rec.val))
	}
	v, found, err := g.items.eval(rec.val, nil)
	if err != nil {
		return nil, fmt.Errorf("%s%w", loc, err)
	}
	var list []any
	switch x := v.(type) {
	case map[string]any:
		list = []any{x}
	case []any:
		list = x
	}
	if !found || len(list) == 0 {
		return nil, fmt.Errorf("%sexpected alert objects at items (%s), got %s", loc, g.items.short(), bDescribeFound(v, found))
	}
	out := make([]bGenItem, len(list))
	for i, el := range list {
		out[i] = bGenItem{val: el, raw: bRawOf(el), loc: fmt.Sprintf("%sitem %d: ", loc, i)}
	}
	return out, nil
}

func bDescribeFound(v any, found bool) string {
	if !found {
		return "nothing"
	}
	return bDescribe(v)
}

// bResolvedWords are the status values that mean resolved.
var bResolvedWords = map[string]bool{"resolved": true, "ok": true, "recovered": true, "closed": true,
	"inactive": true, "normal": true, "false": true}

func (g *Generic) alert(it bGenItem, opts Options) (Alert, error) {
	obj, ok := it.val.(map[string]any)
	if !ok {
		return Alert{}, fmt.Errorf("%s, got %s", bGenericExpect, bDescribe(it.val))
	}
	var celEv *any
	if g.usesCEL {
		v := bToCEL(obj)
		celEv = &v
	}

	id, err := g.requiredScalar(g.id, obj, celEv)
	if err != nil {
		return Alert{}, err
	}
	title, err := g.requiredScalar(g.title, obj, celEv)
	if err != nil {
		return Alert{}, err
	}

	tv, found, err := g.when.eval(obj, celEv)
	if err != nil {
		return Alert{}, err
	}
	if !found {
		return Alert{}, fmt.Errorf("time (%s): missing", g.when.short())
	}
	var observed time.Time
	if u, isUint := tv.(uint64); isUint {
		tv = json.Number(strconv.FormatUint(u, 10))
	}
	if t, isTime := tv.(time.Time); isTime {
		observed = t.UTC()
	} else if observed, err = ParseTime(tv); err != nil {
		return Alert{}, fmt.Errorf("time (%s): %w", g.when.short(), err)
	}

	sev := DefaultSeverity(opts.DefaultSeverity)
	if g.severity != nil {
		sv, found, err := g.severity.eval(obj, celEv)
		if err != nil {
			return Alert{}, err
		}
		if s := strings.TrimSpace(bString(sv)); found && s != "" {
			if m, ok := g.sevMap[strings.ToLower(s)]; ok {
				sev = m
			} else if n, ok := ParseNamedSeverity(s); ok {
				sev = n
			}
		}
	}

	status := StatusFiring
	if g.status != nil {
		sv, found, err := g.status.eval(obj, celEv)
		if err != nil {
			return Alert{}, err
		}
		if found && bResolvedWords[strings.ToLower(strings.TrimSpace(bString(sv)))] {
			status = StatusResolved
		}
	}

	var obs ObservableSet
	for _, o := range g.observables {
		v, found, err := o.expr.eval(obj, celEv)
		if err != nil {
			return Alert{}, err
		}
		if !found {
			continue
		}
		for _, s := range bFlatStrings(v, 0) {
			obs.Add(o.typ, s)
		}
	}

	labels := map[string]string{}
	for _, l := range g.labels {
		v, found, err := l.expr.eval(obj, celEv)
		if err != nil {
			return Alert{}, err
		}
		if t, isTime := v.(time.Time); isTime {
			v = t.UTC().Format(time.RFC3339Nano)
		}
		if found {
			bSetLabel(labels, l.name, v)
		}
	}

	return Alert{
		Source:      opts.Source,
		ID:          MakeID(g.format, id),
		Title:       title,
		Severity:    sev,
		Status:      status,
		ObservedAt:  observed,
		Observables: obs.List(),
		Labels:      labels,
		Raw:         it.raw,
	}, nil
}

// requiredScalar evaluates a required text field (id, title).
func (g *Generic) requiredScalar(e *bGenExpr, obj map[string]any, celEv *any) (string, error) {
	v, found, err := e.eval(obj, celEv)
	if err != nil {
		return "", err
	}
	switch v.(type) {
	case map[string]any, []any:
		return "", fmt.Errorf("%s (%s): expected a string or a number, got %s", e.field, e.short(), bDescribe(v))
	}
	s := strings.TrimSpace(bString(v))
	if !found || s == "" {
		return "", fmt.Errorf("expected an alert object with a value for %s (%s), got %s", e.field, e.short(), bDescribe(obj))
	}
	return s, nil
}

// short is the field's source for error messages.
func (e *bGenExpr) short() string { return truncate(e.src, 80) }

// eval gives the field's value: (nil, false, nil) when the body has none.
// celEv is the object already converted for CEL; nil converts v.
func (e *bGenExpr) eval(v any, celEv *any) (any, bool, error) {
	if e.prg == nil {
		var found []any
		bWalkPath(v, e.path, func(x any) { found = append(found, x) })
		if e.multi {
			return found, len(found) > 0, nil
		}
		if len(found) == 0 || found[0] == nil {
			return nil, false, nil
		}
		return found[0], true, nil
	}
	var in any
	if celEv != nil {
		in = *celEv
	} else {
		in = bToCEL(v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bGenericEvalTimeout)
	defer cancel()
	out, _, err := e.prg.ContextEval(ctx, map[string]any{"event": in})
	if err != nil {
		if bCELMissing(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("%s (%s): %v", e.field, e.short(), err)
	}
	r, ok := bFromCEL(out, 0)
	if !ok || r == nil {
		return nil, false, nil
	}
	return r, true, nil
}

// bCELMissing reports a run-time error that means "the body has no such
// field": a missing key or attribute, or an index past the end.
func bCELMissing(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such key") || strings.Contains(msg, "no such attribute") ||
		strings.Contains(msg, "index out of range")
}

// bToCEL converts decoded JSON for CEL: whole json.Numbers become int64
// (or uint64 when above int64), others float64.
func bToCEL(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return s
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = bToCEL(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = bToCEL(e)
		}
		return a
	}
	return v
}

// bFromCEL converts a CEL result to plain Go values (string, int64,
// uint64, float64, bool, time.Time, []any, map[string]any); ok is false
// for null and empty optionals.
func bFromCEL(v ref.Val, depth int) (any, bool) {
	if v == nil || depth > 64 {
		return nil, false
	}
	switch x := v.(type) {
	case types.String:
		return string(x), true
	case types.Int:
		return int64(x), true
	case types.Uint:
		return uint64(x), true
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// Not representable in JSON (an alert's raw part).
			return strconv.FormatFloat(f, 'g', -1, 64), true
		}
		return f, true
	case types.Bool:
		return bool(x), true
	case types.Bytes:
		return string(x), true
	case types.Null:
		return nil, false
	case types.Timestamp:
		return x.Time.UTC(), true
	case *types.Optional:
		if x.HasValue() {
			return bFromCEL(x.GetValue(), depth+1)
		}
		return nil, false
	case traits.Lister:
		n, ok := x.Size().(types.Int)
		if !ok || n < 0 {
			return nil, false
		}
		out := make([]any, 0, int(n))
		for i := types.Int(0); i < n; i++ {
			e, _ := bFromCEL(x.Get(i), depth+1)
			out = append(out, e)
		}
		return out, true
	case traits.Mapper:
		out := map[string]any{}
		it := x.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			e, _ := bFromCEL(x.Get(k), depth+1)
			ks, isStr := k.(types.String)
			if isStr {
				out[string(ks)] = e
			} else {
				out[fmt.Sprint(k.Value())] = e
			}
		}
		return out, true
	}
	switch y := v.Value().(type) {
	case string, int64, uint64, float64, bool:
		return y, true
	}
	return fmt.Sprint(v.Value()), true
}

// bFlatStrings reads a scalar or (nested) lists of scalars as strings.
func bFlatStrings(v any, depth int) []string {
	if a, ok := v.([]any); ok {
		if depth > 8 {
			return nil
		}
		var out []string
		for _, e := range a {
			out = append(out, bFlatStrings(e, depth+1)...)
		}
		return out
	}
	if s := strings.TrimSpace(bString(v)); s != "" {
		return []string{s}
	}
	return nil
}

// JSON paths.

type bSegKind byte

const (
	bSegKey    bSegKind = iota // .name: may also match a dotted key
	bSegQuoted                 // ['name']
	bSegIndex                  // [2]
	bSegAll                    // [*] or .*
)

type bPathSeg struct {
	kind  bSegKind
	key   string
	index int
}

// bParsePath parses "$", ".name", "['name']", "[\"name\"]", "[2]", "[*]"
// and ".*" steps.
func bParsePath(p string) ([]bPathSeg, error) {
	bad := func(i int, msg string) error {
		return fmt.Errorf("bad JSON path %q: %s at offset %d", truncate(p, 80), msg, i)
	}
	if !strings.HasPrefix(p, "$") {
		return nil, bad(0, `must start with "$"`)
	}
	var segs []bPathSeg
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i+1 : j]
			switch {
			case name == "":
				return nil, bad(i, "empty key")
			case name == "*":
				segs = append(segs, bPathSeg{kind: bSegAll})
			default:
				segs = append(segs, bPathSeg{kind: bSegKey, key: name})
			}
			i = j
		case '[':
			if i+1 >= len(p) {
				return nil, bad(i, "unterminated [")
			}
			switch c := p[i+1]; {
			case c == '\'' || c == '"':
				var sb strings.Builder
				j := i + 2
				for ; j < len(p) && p[j] != c; j++ {
					if p[j] == '\\' && j+1 < len(p) {
						j++
					}
					sb.WriteByte(p[j])
				}
				if j+1 >= len(p) || p[j+1] != ']' {
					return nil, bad(i, "unterminated quoted key")
				}
				segs = append(segs, bPathSeg{kind: bSegQuoted, key: sb.String()})
				i = j + 2
			case c == '*':
				if i+2 >= len(p) || p[i+2] != ']' {
					return nil, bad(i, "expected ] after *")
				}
				segs = append(segs, bPathSeg{kind: bSegAll})
				i += 3
			default:
				end := strings.IndexByte(p[i:], ']')
				if end < 0 {
					return nil, bad(i, "unterminated [")
				}
				n, err := strconv.Atoi(p[i+1 : i+end])
				if err != nil || n < 0 {
					return nil, bad(i+1, "expected an index, '*' or a quoted key")
				}
				segs = append(segs, bPathSeg{kind: bSegIndex, index: n})
				i += end + 1
			}
		default:
			return nil, bad(i, "expected . or [")
		}
	}
	return segs, nil
}

// bWalkBudget bounds the steps of one path walk: the dotted-key fallback
// backtracks, and a hostile body could otherwise offer many ways to split
// a long path.
const bWalkBudget = 100_000

// bWalkPath calls emit with every value the path selects.
func bWalkPath(v any, segs []bPathSeg, emit func(any)) {
	budget := bWalkBudget
	bWalk(v, segs, emit, &budget)
}

// bWalk reports whether it emitted anything. A dotted step first tries
// the key as written, then the key joined with the following dotted steps
// ("kibana.alert.uuid"), shortest first; the first way that finds a value
// wins.
func bWalk(v any, segs []bPathSeg, emit func(any), budget *int) bool {
	if *budget <= 0 {
		return false
	}
	*budget--
	if len(segs) == 0 {
		emit(v)
		return true
	}
	s := segs[0]
	switch s.kind {
	case bSegAll:
		hit := false
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				hit = bWalk(e, segs[1:], emit, budget) || hit
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				hit = bWalk(x[k], segs[1:], emit, budget) || hit
			}
		}
		return hit
	case bSegIndex:
		if a, ok := v.([]any); ok && s.index < len(a) {
			return bWalk(a[s.index], segs[1:], emit, budget)
		}
	case bSegQuoted:
		if m, ok := v.(map[string]any); ok {
			if e, ok := m[s.key]; ok {
				return bWalk(e, segs[1:], emit, budget)
			}
		}
	case bSegKey:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if e, ok := m[s.key]; ok && bWalk(e, segs[1:], emit, budget) {
			return true
		}
		joined := s.key
		for j := 1; j < len(segs) && segs[j].kind == bSegKey; j++ {
			joined += "." + segs[j].key
			if e, ok := m[joined]; ok && bWalk(e, segs[j+1:], emit, budget) {
				return true
			}
		}
	}
	return false
}

var _ Normalizer = (*Generic)(nil)
