package playbooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// Expressions in playbooks are CEL (https://cel.dev). They appear in if:,
// in set: and inside ${{ }} templates in action arguments, approval prompts
// and notify messages and channels. They see four variables, each a map from
// string to any value:
//
//	alert     the alert that started the incident: source, id, title,
//	          severity, status, observed_at (RFC 3339 string), labels (map),
//	          observables (list of {type, value})
//	incident  id, title, severity, status, phase, alert_count (int),
//	          observables (list of {type, value}), created_at (RFC 3339)
//	steps     steps.<id>.status (succeeded, failed, skipped, not_configured,
//	          approved, rejected, expired, cancelled) and steps.<id>.output
//	vars      the playbook's inputs (their defaults) and the values of set:
//
// A key that is missing from a map is an evaluation error, as in CEL. Guard
// optional data with has(steps.enrich.output.score) or
// "score" in steps.enrich.output, or use optional syntax:
// steps.enrich.output.?score.orValue(0).
//
// Evaluation is deterministic, as workflow code must be: the environment
// has no clock and no randomness (CEL has no now()), maps given in env are
// iterated in sorted key order, and every evaluation is bounded by a cost
// limit. Besides the CEL standard library it has the strings, lists, sets,
// math and bindings (cel.bind) extensions, optional types, and numeric
// comparisons across int and double (JSON numbers arrive as doubles). Map
// literals written inside an expression iterate in an unspecified order:
// do not build lists from them with map() or filter().

// AlertFields are the keys of the alert variable.
var AlertFields = []string{"source", "id", "title", "severity", "status", "observed_at", "labels", "observables"}

// IncidentFields are the keys of the incident variable.
var IncidentFields = []string{"id", "title", "severity", "status", "phase", "alert_count", "observables", "created_at"}

// StepFields are the keys of each steps.<id> entry.
var StepFields = []string{"status", "output"}

// exprCostLimit bounds one evaluation so that a bad expression cannot stall
// an incident.
const exprCostLimit = 1_000_000

// Expression variables.
const (
	varAlert    = "alert"
	varIncident = "incident"
	varSteps    = "steps"
	varVars     = "vars"
)

var exprVars = []string{varAlert, varIncident, varSteps, varVars}

// celEnv is the one environment of playbook expressions.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.CustomTypeAdapter(sortedAdapter{}),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
		ext.Math(),
		ext.Bindings(),
	}
	for _, v := range exprVars {
		opts = append(opts, cel.Variable(v, cel.MapType(cel.StringType, cel.DynType)))
	}
	return cel.NewEnv(opts...)
})

// checked caches checkExpr's answers by expression, up to checkedMax of
// them: playbooks repeat expressions, and validation input is not trusted
// to be small.
var (
	checked    sync.Map
	checkedN   atomic.Int64
	checkedMax = int64(4096)
)

type checkResult struct {
	ast *cel.Ast
	iss *cel.Issues
}

// checkExpr parses and type-checks an expression. It gives the checked AST,
// or the issues when the expression is not valid.
func checkExpr(expr string) (*cel.Ast, *cel.Issues, error) {
	if r, ok := checked.Load(expr); ok {
		r := r.(checkResult)
		return r.ast, r.iss, nil
	}
	env, err := celEnv()
	if err != nil {
		return nil, nil, err
	}
	ast, iss := env.Compile(expr)
	r := checkResult{ast: ast}
	if iss != nil && iss.Err() != nil {
		r = checkResult{iss: iss}
	}
	if checkedN.Load() < checkedMax {
		if _, loaded := checked.LoadOrStore(expr, r); !loaded {
			checkedN.Add(1)
		}
	}
	return r.ast, r.iss, nil
}

// programs caches compiled programs by expression; compilation is pure, and
// a cel.Program is safe for concurrent use.
var programs sync.Map

func program(expr string) (cel.Program, error) {
	if p, ok := programs.Load(expr); ok {
		return p.(cel.Program), nil
	}
	ast, iss, err := checkExpr(expr)
	if err != nil {
		return nil, err
	}
	if iss != nil {
		return nil, fmt.Errorf("expression %q: %s", expr, celMessage(iss.Errors()[0].Message))
	}
	env, _ := celEnv()
	prg, err := env.Program(ast, cel.CostLimit(exprCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", expr, err)
	}
	p, _ := programs.LoadOrStore(expr, prg)
	return p.(cel.Program), nil
}

// expectingRE matches the parser's list of tokens it would have accepted,
// which says more about the grammar than about the mistake.
var expectingRE = regexp.MustCompile(` expecting \{[^}]*\}`)

// celMessage tidies a CEL error message for a one-line report.
func celMessage(msg string) string {
	msg = strings.ReplaceAll(msg, " (in container '')", "")
	msg = expectingRE.ReplaceAllString(msg, "")
	if msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return msg
}

func eval(expr string, env map[string]any) (ref.Val, error) {
	prg, err := program(expr)
	if err != nil {
		return nil, err
	}
	act := make(map[string]any, len(exprVars))
	for _, v := range exprVars {
		if x, ok := env[v]; ok && x != nil {
			act[v] = x
		} else {
			act[v] = map[string]any{}
		}
	}
	out, _, err := prg.Eval(act)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", expr, err)
	}
	return out, nil
}

// EvalBool evaluates a condition (an if:). It is an error when the result
// is not a bool.
func EvalBool(expr string, env map[string]any) (bool, error) {
	out, err := eval(expr, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("expression %q gives %s, not a bool", expr, out.Type().TypeName())
	}
	return bool(b), nil
}

// EvalValue evaluates an expression to a plain Go value: nil, bool, int64,
// float64, string, []any or map[string]any (timestamps become RFC 3339
// strings, durations Go duration strings), so the result encodes cleanly as
// JSON and travels through workflow history.
func EvalValue(expr string, env map[string]any) (any, error) {
	out, err := eval(expr, env)
	if err != nil {
		return nil, err
	}
	v, err := toNative(out)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", expr, err)
	}
	return v, nil
}

// toNative converts a CEL value to plain Go data.
func toNative(v ref.Val) (any, error) {
	switch x := v.(type) {
	case *types.Err:
		return nil, x
	case *types.Unknown:
		return nil, errors.New("unknown value")
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), nil
		}
		return float64(x), nil
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("result %v is not a finite number", f)
		}
		return f, nil
	case types.String:
		return string(x), nil
	case types.Bytes:
		return string(x), nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return x.Duration.String(), nil
	case *types.Optional:
		if !x.HasValue() {
			return nil, nil
		}
		return toNative(x.GetValue())
	case traits.Mapper:
		out := map[string]any{}
		it := x.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			kv, err := toNative(k)
			if err != nil {
				return nil, err
			}
			ks, ok := kv.(string)
			if !ok {
				ks = fmt.Sprint(kv)
			}
			ev, err := toNative(x.Get(k))
			if err != nil {
				return nil, err
			}
			out[ks] = ev
		}
		return out, nil
	case traits.Lister:
		n, ok := x.Size().(types.Int)
		if !ok {
			return nil, errors.New("list of unknown size")
		}
		out := make([]any, 0, int(n))
		for i := types.Int(0); i < n; i++ {
			ev, err := toNative(x.Get(i))
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case ref.Type:
		return x.TypeName(), nil
	}
	return v.Value(), nil
}

// Render fills in ${{ expr }} templates. Strings, maps and lists are walked;
// a string that is exactly one template becomes the expression's value (of
// any type); a string with templates among text gets each replaced with the
// value as text (nil as empty, lists and maps as JSON). Other values are
// returned unchanged. The first expression (in key order) that fails stops
// the rendering.
func Render(v any, env map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		return renderString(x, env)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make(map[string]any, len(x))
		for _, k := range keys {
			r, err := Render(x[k], env)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := Render(e, env)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func renderString(s string, env map[string]any) (any, error) {
	if !strings.Contains(s, tmplOpen) {
		return s, nil
	}
	parts, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if whole(s, parts) {
		return EvalValue(parts[0].expr, env)
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.isExpr {
			b.WriteString(p.text)
			continue
		}
		v, err := EvalValue(p.expr, env)
		if err != nil {
			return nil, err
		}
		b.WriteString(formatValue(v))
	}
	return b.String(), nil
}

// formatValue is how a value reads inside text.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any, map[string]any:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err == nil {
			return strings.TrimSuffix(b.String(), "\n")
		}
	}
	return fmt.Sprint(v)
}

const (
	tmplOpen  = "${{"
	tmplClose = "}}"
)

// tmplPart is literal text or one ${{ expr }} of a template.
type tmplPart struct {
	isExpr bool
	text   string // literal text
	expr   string // the expression, trimmed
	// off is the offset, in runes from the start of the string, of the
	// expression (or of the ${{ of a bad template).
	off int
}

// templateError is a malformed template, at a rune offset in the string.
type templateError struct {
	off int
	msg string
}

func (e *templateError) Error() string { return e.msg }

// parseTemplate splits s into text and expressions. The first }} after a
// ${{ ends the expression.
func parseTemplate(s string) ([]tmplPart, error) {
	var parts []tmplPart
	pos := 0 // byte offset
	for {
		i := strings.Index(s[pos:], tmplOpen)
		if i < 0 {
			if pos < len(s) {
				parts = append(parts, tmplPart{text: s[pos:]})
			}
			return parts, nil
		}
		start := pos + i
		if start > pos {
			parts = append(parts, tmplPart{text: s[pos:start]})
		}
		body := start + len(tmplOpen)
		j := strings.Index(s[body:], tmplClose)
		if j < 0 {
			return nil, &templateError{off: runeOffset(s, start), msg: "unterminated ${{ (close it with }})"}
		}
		raw := s[body : body+j]
		expr := strings.TrimSpace(raw)
		if expr == "" {
			return nil, &templateError{off: runeOffset(s, start), msg: "empty ${{ }}"}
		}
		lead := len(raw) - len(strings.TrimLeft(raw, " \t\r\n"))
		parts = append(parts, tmplPart{isExpr: true, expr: expr, off: runeOffset(s, body+lead)})
		pos = body + j + len(tmplClose)
	}
}

// whole reports whether the template is exactly one expression.
func whole(s string, parts []tmplPart) bool {
	return len(parts) == 1 && parts[0].isExpr && strings.HasPrefix(s, tmplOpen) && strings.HasSuffix(s, tmplClose)
}

func runeOffset(s string, byteOff int) int { return len([]rune(s[:byteOff])) }

// sortedAdapter converts Go values for CEL so that every map iterates in
// sorted key order: comprehensions over maps (map(), filter(), all()) then
// give the same answer on every replay. Values that CEL does not know
// (structs) pass through encoding/json first.
type sortedAdapter struct{}

func (a sortedAdapter) NativeToValue(v any) ref.Val {
	switch x := v.(type) {
	case ref.Val:
		return x
	case nil:
		return types.NullValue
	case map[string]any:
		return newSortedMap(types.NewStringInterfaceMap(a, x), reflect.ValueOf(x))
	case []any:
		return types.NewDynamicList(a, x)
	case []byte, time.Time, time.Duration:
		return types.DefaultTypeAdapter.NativeToValue(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			return newSortedMap(types.NewDynamicMap(a, v), rv)
		}
	case reflect.Slice, reflect.Array:
		return types.NewDynamicList(a, v)
	case reflect.Pointer:
		if rv.IsNil() {
			return types.NullValue
		}
	}
	out := types.DefaultTypeAdapter.NativeToValue(v)
	if types.IsError(out) {
		if plain, ok := viaJSON(v); ok {
			return a.NativeToValue(plain)
		}
	}
	return out
}

// viaJSON turns a struct (or pointer to one) into plain data.
func viaJSON(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, false
	}
	return plainNumbers(out), true
}

func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainNumbers(e)
		}
	}
	return v
}

// sortedMap is a map whose keys iterate in sorted order. Embedding the
// Mapper interface (not the concrete map) hides the map's own Fold, so
// comprehensions use Iterator.
type sortedMap struct {
	traits.Mapper
	keys []string
}

func newSortedMap(m traits.Mapper, rv reflect.Value) sortedMap {
	keys := make([]string, 0, rv.Len())
	for _, k := range rv.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	return sortedMap{Mapper: m, keys: keys}
}

func (m sortedMap) Iterator() traits.Iterator { return &keyIterator{keys: m.keys} }

type keyIterator struct {
	keys []string
	i    int
}

func (it *keyIterator) HasNext() ref.Val { return types.Bool(it.i < len(it.keys)) }

func (it *keyIterator) Next() ref.Val {
	if it.i >= len(it.keys) {
		return nil
	}
	it.i++
	return types.String(it.keys[it.i-1])
}

func (it *keyIterator) ConvertToNative(reflect.Type) (any, error) {
	return nil, errors.New("iterators cannot be converted")
}

func (it *keyIterator) ConvertToType(ref.Type) ref.Val {
	return types.NewErr("iterators cannot be converted")
}

func (it *keyIterator) Equal(ref.Val) ref.Val { return types.NewErr("iterators cannot be compared") }
func (it *keyIterator) Type() ref.Type        { return types.IteratorType }
func (it *keyIterator) Value() any            { return nil }
