package playbooks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"gopkg.in/yaml.v3"
)

// validate runs the checks that need the whole playbook: duplicate step ids,
// expressions (CEL syntax and types) and what they refer to.
//
// Steps run in phase order, then in list order; the branches of a parallel
// step run at the same time. An expression may refer to steps.<id> and
// vars.<name> only when that step has finished before the expression's step
// starts (or, in undo arguments, is the step itself) and when the variable
// is an input or set by such a step.
func (p *parser) validate() {
	byPos := slices.Clone(p.all)
	slices.SortStableFunc(byPos, func(a, b *stepInfo) int {
		return cmp.Or(cmp.Compare(a.node.Line, b.node.Line), cmp.Compare(a.node.Column, b.node.Column))
	})
	for _, si := range byPos {
		if si.id == "" || si.idNode == nil {
			continue
		}
		if first, dup := p.byID[si.id]; dup {
			p.errorf(si.idNode, "duplicate step id %q (first at line %d)", si.id, first.idNode.Line)
			continue
		}
		p.byID[si.id] = si
	}

	doneSteps := map[string]bool{}
	doneVars := map[string]bool{}
	for name := range p.inputs {
		doneVars[name] = true
	}
	for _, ph := range PhaseOrder {
		for _, si := range p.phases[ph] {
			p.checkStep(si, doneSteps, doneVars)
			markDone(si, doneSteps, doneVars)
		}
	}
}

// checkStep checks a step's expressions and those of its branches, which
// all see the same finished steps.
func (p *parser) checkStep(si *stepInfo, steps, vars map[string]bool) {
	for _, e := range si.exprs {
		p.checkExprUse(si, e, steps, vars)
	}
	for _, c := range si.children {
		p.checkStep(c, steps, vars)
	}
}

func markDone(si *stepInfo, steps, vars map[string]bool) {
	if si.id != "" {
		steps[si.id] = true
	}
	for _, v := range si.sets {
		vars[v] = true
	}
	for _, c := range si.children {
		markDone(c, steps, vars)
	}
}

func (p *parser) checkExprUse(si *stepInfo, e exprUse, steps, vars map[string]bool) {
	ast, iss, err := checkExpr(e.src)
	if err != nil {
		p.errorf(e.node, "%s: %v", e.ctx, err)
		return
	}
	if iss != nil {
		first := iss.Errors()[0]
		line, col := p.exprPos(e, first.Location.Line(), first.Location.Column())
		p.errorAt(line, col, "%s: %s", e.ctx, celMessage(first.Message))
		return
	}
	if e.wantBool {
		if out := ast.OutputType(); !out.IsExactType(types.BoolType) && !out.IsExactType(types.DynType) {
			line, col := p.exprPos(e, 1, 0)
			p.errorAt(line, col, "%s: must give a bool, gives %s", e.ctx, out.String())
		}
	}

	native := ast.NativeRep()
	info := native.SourceInfo()
	reported := map[string]bool{}
	report := func(id int64, msg string) {
		if reported[msg] {
			return
		}
		reported[msg] = true
		loc := info.GetStartLocation(id)
		line, col := p.exprPos(e, loc.Line(), loc.Column())
		p.errorAt(line, col, "%s", msg)
	}
	celast.PreOrderVisit(native.Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		base, key, ok := keyOf(x)
		if !ok {
			return
		}
		if base.Kind() == celast.IdentKind {
			if msg := p.refProblem(si, e, base.AsIdent(), key, steps, vars); msg != "" {
				report(base.ID(), msg)
			}
			return
		}
		// steps.<id>.<field>
		b2, id, ok := keyOf(base)
		if ok && b2.Kind() == celast.IdentKind && b2.AsIdent() == varSteps && !slices.Contains(StepFields, key) {
			report(b2.ID(), fmt.Sprintf("steps.%s has no field %q (fields: %s)", id, key, strings.Join(StepFields, ", ")))
		}
	}))
}

// argTypeProblem checks a literal argument against its type; a string with
// a template is checked when it is rendered.
func argTypeProblem(n *yaml.Node, typ string) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && strings.Contains(n.Value, tmplOpen) {
		if typ == ArgString || typ == ArgDuration || typ == ArgAny || isWholeTemplate(n.Value) {
			return ""
		}
		return fmt.Sprintf("expected %s, got text with a template (only a whole ${{ expr }} can give %s)", argTypeName(typ), argTypeName(typ))
	}
	tag := n.ShortTag()
	scalar := n.Kind == yaml.ScalarNode
	switch typ {
	case ArgString:
		if scalar && tag == "!!str" {
			return ""
		}
	case ArgDuration:
		if scalar && tag == "!!str" {
			if d, err := time.ParseDuration(n.Value); err != nil || d <= 0 {
				return fmt.Sprintf("expected a duration (e.g. 30m, 24h), got %q", n.Value)
			}
			return ""
		}
	case ArgInt:
		if scalar && tag == "!!int" {
			return ""
		}
	case ArgBool:
		if scalar && tag == "!!bool" {
			return ""
		}
	case ArgList:
		if n.Kind == yaml.SequenceNode {
			return ""
		}
	case ArgMap:
		if n.Kind == yaml.MappingNode {
			return ""
		}
	default:
		return ""
	}
	return fmt.Sprintf("expected %s, got %s", argTypeName(typ), kindName(n))
}

func isWholeTemplate(s string) bool {
	parts, err := parseTemplate(s)
	return err == nil && whole(s, parts)
}

func argTypeName(typ string) string {
	switch typ {
	case ArgInt:
		return "an int"
	case ArgList:
		return "a list"
	case ArgMap:
		return "a mapping"
	case ArgAny:
		return "any value"
	}
	return "a " + typ
}

// keyOf matches x.key, x["key"], x[?"key"], x.?key and "key" in x.
func keyOf(x celast.Expr) (base celast.Expr, key string, ok bool) {
	switch x.Kind() {
	case celast.SelectKind:
		s := x.AsSelect()
		return s.Operand(), s.FieldName(), true
	case celast.CallKind:
		c := x.AsCall()
		args := c.Args()
		if len(args) != 2 {
			return nil, "", false
		}
		switch c.FunctionName() {
		case "_[_]", "_[?_]", "_?._":
			base, lit := args[0], args[1]
			if k, ok := stringLiteral(lit); ok {
				return base, k, true
			}
		case "@in":
			if k, ok := stringLiteral(args[0]); ok && args[1].Kind() == celast.IdentKind {
				return args[1], k, true
			}
		}
	}
	return nil, "", false
}

func stringLiteral(x celast.Expr) (string, bool) {
	if x.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := x.AsLiteral().(types.String)
	return string(s), ok
}

// refProblem says what is wrong with <name>.<key>, or "".
func (p *parser) refProblem(si *stepInfo, e exprUse, name, key string, steps, vars map[string]bool) string {
	switch name {
	case varAlert:
		if !slices.Contains(AlertFields, key) {
			return fmt.Sprintf("alert has no field %q (fields: %s)", key, strings.Join(AlertFields, ", "))
		}
	case varIncident:
		if !slices.Contains(IncidentFields, key) {
			return fmt.Sprintf("incident has no field %q (fields: %s)", key, strings.Join(IncidentFields, ", "))
		}
	case varVars:
		if !vars[key] {
			return fmt.Sprintf("vars.%s is not an input and no earlier step sets it", key)
		}
	case varSteps:
		if steps[key] || (e.self && key == si.id) {
			return ""
		}
		return fmt.Sprintf("steps.%s refers to %s", key, p.stepRelation(si, key))
	}
	return ""
}

// stepRelation describes a step that an expression in si may not use.
func (p *parser) stepRelation(si *stepInfo, id string) string {
	t, ok := p.byID[id]
	if !ok {
		return "a step that does not exist"
	}
	if t == si {
		return "the step itself"
	}
	ancestors := map[*stepInfo]bool{}
	for a := si.parent; a != nil; a = a.parent {
		if a == t {
			return "its enclosing parallel step"
		}
		ancestors[a] = true
	}
	for a := t.parent; a != nil; a = a.parent {
		if a == si {
			return "a step inside it"
		}
		if ancestors[a] {
			return "a step in the same parallel block"
		}
	}
	return "a step that comes later"
}

// exprPos maps a CEL location (line from 1, column from 0, in runes) to
// the file.
func (p *parser) exprPos(e exprUse, line, col int) (int, int) {
	off := 0
	if line >= 1 {
		lines := strings.Split(e.src, "\n")
		for i := 0; i < line-1 && i < len(lines); i++ {
			off += len([]rune(lines[i])) + 1
		}
		off += max(col, 0)
	}
	return p.posIn(e.node, e.off+off)
}
