package playbooks

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/riposte-soar/riposte/playbooks/library"
)

// Problem is one problem in a playbook file. Its text is
// "file:line:col: message"; Parse and the loaders join every problem they
// find with errors.Join.
type Problem struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Msg)
}

// Problems flattens an error from Parse or a loader into its problems and
// other errors (unreadable files), in order.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	return []error{err}
}

// MustParse parses a playbook and panics on any problem. It is for tests and
// for playbooks built into programs.
func MustParse(file string, data []byte) *Playbook {
	p, err := Parse(file, data)
	if err != nil {
		panic(err)
	}
	return p
}

// LoadFile reads and parses one playbook file.
func LoadFile(path string) (*Playbook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// LoadPaths loads playbooks from files and from directories (their *.yaml
// and *.yml files, not their subdirectories), in sorted order. It returns
// the playbooks that are valid and an error joining every problem in every
// file, including two files that use the same playbook name.
func LoadPaths(paths ...string) ([]*Playbook, error) {
	var files []source
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			files = append(files, source{err: err})
			continue
		}
		if !fi.IsDir() {
			files = append(files, source{name: p})
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			files = append(files, source{err: err})
			continue
		}
		n := 0
		for _, e := range entries {
			if !e.IsDir() && isPlaybookFile(e.Name()) {
				files = append(files, source{name: filepath.Join(p, e.Name())})
				n++
			}
		}
		if n == 0 {
			files = append(files, source{err: fmt.Errorf("%s: no playbooks (*.yaml, *.yml) in the directory", p)})
		}
	}
	return load(files, os.ReadFile)
}

// source is a file to load, or the error that stood in its place.
type source struct {
	name string
	err  error
}

// LoadLibrary parses the shipped playbooks (playbooks/library); their file
// names read "library/<name>.yaml".
func LoadLibrary() ([]*Playbook, error) {
	entries, err := fs.ReadDir(library.Library, ".")
	if err != nil {
		return nil, err
	}
	var files []source
	for _, e := range entries {
		if !e.IsDir() && isPlaybookFile(e.Name()) {
			files = append(files, source{name: "library/" + e.Name()})
		}
	}
	read := func(name string) ([]byte, error) {
		return fs.ReadFile(library.Library, strings.TrimPrefix(name, "library/"))
	}
	return load(files, read)
}

func isPlaybookFile(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

func load(files []source, read func(string) ([]byte, error)) ([]*Playbook, error) {
	var out []*Playbook
	var errs []error
	byName := map[string]*Playbook{}
	for _, src := range files {
		if src.err != nil {
			errs = append(errs, src.err)
			continue
		}
		f := src.name
		data, err := read(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pb, nameNode, err := parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if first, ok := byName[pb.Name]; ok {
			errs = append(errs, &Problem{File: f, Line: nameNode.Line, Column: nameNode.Column,
				Msg: fmt.Sprintf("duplicate playbook name %q (also in %s)", pb.Name, first.File)})
			continue
		}
		byName[pb.Name] = pb
		out = append(out, pb)
	}
	return out, errors.Join(errs...)
}

// Parse parses and validates one playbook. File names the playbook in
// messages and in Playbook.File. Every problem is reported, as
// "file:line:col: message", sorted by position and joined with errors.Join;
// the playbook is nil when there is any.
func Parse(file string, data []byte) (*Playbook, error) {
	pb, _, err := parse(file, data)
	return pb, err
}

// parse is Parse that also returns the node of the name.
func parse(file string, data []byte) (*Playbook, *yaml.Node, error) {
	p := &parser{file: file, src: data, byID: map[string]*stepInfo{}, bad: map[*yaml.Node]bool{}}
	pb := p.parse()
	if len(p.probs) > 0 {
		slices.SortStableFunc(p.probs, func(a, b *Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		errs := make([]error, len(p.probs))
		for i, pr := range p.probs {
			errs[i] = pr
		}
		return nil, nil, errors.Join(errs...)
	}
	sum := sha256.Sum256(data)
	pb.SHA256 = hex.EncodeToString(sum[:])
	pb.File = file
	return pb, p.nameNode, nil
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	identRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	versionRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

const (
	nameRule  = "use lowercase letters, digits and dashes, starting with a letter or digit (at most 63)"
	identRule = "use lowercase letters, digits and underscores, starting with a letter (at most 63)"
)

var (
	topKeys      = []string{"name", "description", "version", "inputs", PhaseDetect, PhaseContain, PhaseAnalyse, PhaseRestore, PhaseFollowUp}
	inputKeys    = []string{"name", "description", "default"}
	stepKeys     = []string{"id", "if", "timeout", "retry", "on_error", "undo", "action", "args", KindApproval, KindParallel, KindWait, KindSet, KindNotify}
	kindKeys     = []string{KindAction, KindApproval, KindParallel, KindWait, KindSet, KindNotify}
	approvalKeys = []string{"approvers", "prompt", "timeout", "on_timeout", "escalate_to", "escalation_timeout", "required"}
	waitKeys     = []string{"duration", "until"}
	notifyKeys   = []string{"message", "channel"}
	retryKeys    = []string{"max_attempts", "initial_interval", "max_interval", "backoff_coefficient"}
	undoKeys     = []string{"action", "args"}
)

// parser holds one file's state. It builds the model and checks what it
// can locally; validate.go checks what needs the whole playbook.
type parser struct {
	file  string
	src   []byte
	lines []string // src split into lines, on first use
	probs []*Problem
	// bad nodes were reported already (aliases); they are skipped quietly.
	bad map[*yaml.Node]bool

	root     *yaml.Node
	nameNode *yaml.Node
	inputs   map[string]*yaml.Node
	phases   map[string][]*stepInfo
	all      []*stepInfo // every step, in phase order, depth first
	byID     map[string]*stepInfo
}

// stepInfo is what validation needs to know about a step beyond the model.
type stepInfo struct {
	id       string
	idNode   *yaml.Node
	node     *yaml.Node
	parent   *stepInfo // the enclosing parallel step
	children []*stepInfo
	exprs    []exprUse
	sets     []string // variables that set: assigns
}

func (s *stepInfo) name() string {
	if s.id == "" {
		return "step"
	}
	return fmt.Sprintf("step %q", s.id)
}

// exprUse is one expression in a step: an if:, a set: value or one
// ${{ }} of a template.
type exprUse struct {
	ctx      string     // where, for messages: "if", "set.src_ip", `argument "ip"`
	node     *yaml.Node // the scalar that holds it
	src      string
	off      int  // rune offset of src in node.Value
	wantBool bool // an if:
	self     bool // may refer to its own step (undo arguments)
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errorAt(n.Line, n.Column, format, args...)
}

func (p *parser) errorAt(line, col int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	msg = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`).Replace(msg)
	p.probs = append(p.probs, &Problem{File: p.file, Line: max(line, 1), Column: max(col, 1), Msg: msg})
}

// yamlLineRE matches the line that yaml.v3 puts in its syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.errorAt(line, 1, "invalid YAML: %s", msg)
}

func (p *parser) parse() *Playbook {
	dec := yaml.NewDecoder(bytes.NewReader(p.src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorAt(1, 1, "empty playbook")
		} else {
			p.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(&extra, "more than one YAML document: one playbook per file")
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(err)
	}
	if len(doc.Content) == 0 {
		p.errorAt(1, 1, "empty playbook")
		return nil
	}
	p.root = doc.Content[0]
	p.markAliases(p.root)
	if p.bad[p.root] {
		return nil
	}
	if p.root.Kind != yaml.MappingNode {
		p.errorf(p.root, "a playbook must be a mapping, got %s", kindName(p.root))
		return nil
	}

	pb := &Playbook{Phases: map[string][]Step{}}
	f := p.fields(p.root, topKeys, "")
	if kv, ok := f["name"]; ok {
		if s, ok := p.str(kv.val, "name"); ok {
			switch {
			case s == "":
				p.errorf(kv.val, "name must not be empty")
			case !nameRE.MatchString(s):
				p.errorf(kv.val, "invalid name %q: %s", s, nameRule)
			}
			pb.Name, p.nameNode = s, kv.val
		}
	} else {
		p.errorf(p.root, "missing required key %q", "name")
	}
	if kv, ok := f["description"]; ok {
		pb.Description, _ = p.str(kv.val, "description")
	}
	if kv, ok := f["version"]; ok {
		if kv.val.Kind == yaml.ScalarNode && (kv.val.ShortTag() == "!!int" || kv.val.ShortTag() == "!!float") {
			p.errorf(kv.val, "version: expected a string, got %s (quote it: \"%s\")", kindName(kv.val), kv.val.Value)
		} else if s, ok := p.str(kv.val, "version"); ok {
			if !versionRE.MatchString(s) {
				p.errorf(kv.val, "invalid version %q: use MAJOR.MINOR.PATCH, e.g. 1.2.0", s)
			}
			pb.Version = s
		}
	} else {
		p.errorf(p.root, "missing required key %q", "version")
	}
	if kv, ok := f["inputs"]; ok {
		pb.Inputs = p.parseInputs(kv.val)
	}
	p.phases = map[string][]*stepInfo{}
	n := 0
	for _, ph := range PhaseOrder {
		kv, ok := f[ph]
		if !ok || p.isNull(kv.val) {
			continue
		}
		if !p.want(kv.val, yaml.SequenceNode, ph, "a list of steps") {
			continue
		}
		var steps []Step
		for _, sn := range kv.val.Content {
			st, si := p.parseStep(sn, nil)
			steps = append(steps, st)
			p.phases[ph] = append(p.phases[ph], si)
			n++
		}
		if len(steps) > 0 {
			pb.Phases[ph] = steps
		}
	}
	if n == 0 {
		p.errorf(p.root, "playbook has no steps: add some under %s", strings.Join(PhaseOrder, ", "))
	}
	p.validate()
	return pb
}

// markAliases reports every alias once and marks it bad, so that nothing
// follows it: aliases would make line numbers point at the anchor, and
// nested ones can blow up.
func (p *parser) markAliases(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n, "YAML aliases (*%s) are not supported in playbooks", n.Value)
		p.bad[n] = true
		return
	}
	for _, c := range n.Content {
		p.markAliases(c)
	}
}

func (p *parser) parseInputs(n *yaml.Node) []Input {
	if p.isNull(n) || !p.want(n, yaml.SequenceNode, "inputs", "a list") {
		return nil
	}
	var out []Input
	for i, in := range n.Content {
		if !p.want(in, yaml.MappingNode, fmt.Sprintf("inputs[%d]", i), "a mapping") {
			continue
		}
		var input Input
		where := fmt.Sprintf(" in inputs[%d]", i)
		if nk := p.lookup(in, "name"); nk != nil && nk.Kind == yaml.ScalarNode && nk.Value != "" {
			where = fmt.Sprintf(" in input %q", nk.Value)
		}
		f := p.fields(in, inputKeys, where)
		kv, ok := f["name"]
		if !ok {
			p.errorf(in, "input has no name")
			continue
		}
		name, ok := p.str(kv.val, "name")
		if !ok {
			continue
		}
		input.Name = name
		if !identRE.MatchString(name) {
			p.errorf(kv.val, "invalid input name %q: %s", name, identRule)
		} else if first, dup := p.inputs[name]; dup {
			p.errorf(kv.val, "duplicate input %q (first at line %d)", name, first.Line)
		} else {
			if p.inputs == nil {
				p.inputs = map[string]*yaml.Node{}
			}
			p.inputs[name] = kv.val
		}
		if kv, ok := f["description"]; ok {
			input.Description, _ = p.str(kv.val, "description")
		}
		if kv, ok := f["default"]; ok {
			input.Default = p.value(kv.val, "default", nil)
		}
		out = append(out, input)
	}
	return out
}

func (p *parser) parseStep(n *yaml.Node, parent *stepInfo) (Step, *stepInfo) {
	si := &stepInfo{node: n, parent: parent}
	p.all = append(p.all, si)
	if parent != nil {
		parent.children = append(parent.children, si)
	}
	var st Step
	if p.bad[n] {
		return st, si
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "a step must be a mapping, got %s", kindName(n))
		return st, si
	}
	if idn := p.lookup(n, "id"); idn != nil && idn.Kind == yaml.ScalarNode && idn.ShortTag() == "!!str" && idn.Value != "" {
		si.id = idn.Value
	}
	f := p.fields(n, stepKeys, " in "+si.name())

	if kv, ok := f["id"]; ok {
		if id, ok := p.str(kv.val, "id"); ok {
			si.idNode = kv.val
			st.ID = id
			if id == "" {
				p.errorf(kv.val, "step has no id")
			} else if !identRE.MatchString(id) {
				p.errorf(kv.val, "invalid step id %q: %s", id, identRule)
			}
		}
	} else {
		p.errorf(n, "step has no id")
	}

	// The kind.
	var kinds []field
	for _, k := range kindKeys {
		if kv, ok := f[k]; ok {
			kinds = append(kinds, kv)
		}
	}
	slices.SortFunc(kinds, func(a, b field) int {
		return cmp.Or(cmp.Compare(a.key.Line, b.key.Line), cmp.Compare(a.key.Column, b.key.Column))
	})
	switch len(kinds) {
	case 0:
		p.errorf(n, "%s has no kind: give it one of %s", si.name(), strings.Join(kindKeys, ", "))
	case 1:
		st.Kind = kinds[0].key.Value
	default:
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = k.key.Value
		}
		p.errorf(kinds[1].key, "%s has more than one kind: %s", si.name(), andList(names))
		st.Kind = kinds[0].key.Value
	}

	if kv, ok := f["if"]; ok {
		if src, ok := p.exprSource(kv.val, "if"); ok {
			st.If = src
			si.exprs = append(si.exprs, exprUse{ctx: "if", node: kv.val, src: src, wantBool: true})
		}
	}
	if kv, ok := f["timeout"]; ok {
		st.Timeout, _ = p.duration(kv.val, "timeout")
	}
	if kv, ok := f["retry"]; ok {
		st.Retry = p.parseRetry(kv, si)
	}
	if kv, ok := f["on_error"]; ok {
		if s, ok := p.str(kv.val, "on_error"); ok {
			switch s {
			case OnErrorFail, OnErrorContinue, OnErrorCompensate:
				st.OnError = s
			default:
				p.errorf(kv.val, "on_error: must be %s, %s or %s, got %q", OnErrorFail, OnErrorContinue, OnErrorCompensate, s)
			}
		}
	}

	var spec ActionSpec
	var specOK bool
	if kv, ok := f[KindAction]; ok {
		call := &ActionCall{}
		if name, ok := p.str(kv.val, "action"); ok {
			call.Name = name
			spec, specOK = LookupAction(name)
			if !specOK {
				p.errorf(kv.val, "unknown action %q", name)
			}
			var argsNode *yaml.Node
			if a, ok := f["args"]; ok {
				argsNode = a.val
			}
			call.Args = p.parseArgs(argsNode, kv.val, spec, specOK, "", si, false)
		}
		st.Action = call
	} else if kv, ok := f["args"]; ok {
		p.errorf(kv.key, "args is only allowed with action")
	}
	if kv, ok := f[KindApproval]; ok {
		st.Approval = p.parseApproval(kv, si)
	}
	if kv, ok := f[KindParallel]; ok {
		if !p.isNull(kv.val) && p.want(kv.val, yaml.SequenceNode, "parallel", "a list of steps") {
			if len(kv.val.Content) == 0 {
				p.errorf(kv.val, "parallel has no steps")
			}
			for _, cn := range kv.val.Content {
				cs, _ := p.parseStep(cn, si)
				st.Parallel = append(st.Parallel, cs)
			}
		} else if p.isNull(kv.val) {
			p.errorf(kv.key, "parallel has no steps")
		}
	}
	if kv, ok := f[KindWait]; ok {
		st.Wait = p.parseWait(kv, si)
	}
	if kv, ok := f[KindSet]; ok {
		st.Set = p.parseSet(kv, si)
	}
	if kv, ok := f[KindNotify]; ok {
		st.Notify = p.parseNotify(kv, si)
	}
	if kv, ok := f["undo"]; ok {
		st.Undo = p.parseUndo(kv, st, spec, specOK, si)
	}
	return st, si
}

func (p *parser) parseRetry(kv field, si *stepInfo) *Retry {
	if !p.want(kv.val, yaml.MappingNode, "retry", "a mapping") {
		return nil
	}
	r := &Retry{}
	f := p.fields(kv.val, retryKeys, " in retry of "+si.name())
	if v, ok := f["max_attempts"]; ok {
		if i, ok := p.integer(v.val, "retry.max_attempts"); ok {
			if i < 1 {
				p.errorf(v.val, "retry.max_attempts: must be at least 1")
			}
			r.MaxAttempts = int(i)
		}
	}
	if v, ok := f["initial_interval"]; ok {
		r.InitialInterval, _ = p.duration(v.val, "retry.initial_interval")
	}
	if v, ok := f["max_interval"]; ok {
		var ok bool
		if r.MaxInterval, ok = p.duration(v.val, "retry.max_interval"); ok && r.InitialInterval > 0 && r.MaxInterval < r.InitialInterval {
			p.errorf(v.val, "retry.max_interval: must not be less than initial_interval (%s)", r.InitialInterval.D())
		}
	}
	if v, ok := f["backoff_coefficient"]; ok {
		if x, ok := p.number(v.val, "retry.backoff_coefficient"); ok {
			if x < 1 {
				p.errorf(v.val, "retry.backoff_coefficient: must be at least 1")
			}
			r.BackoffCoefficient = x
		}
	}
	return r
}

func (p *parser) parseApproval(kv field, si *stepInfo) *Approval {
	if !p.want(kv.val, yaml.MappingNode, "approval", "a mapping") {
		return nil
	}
	a := &Approval{Required: 1, OnTimeout: "deny"}
	f := p.fields(kv.val, approvalKeys, " in approval of "+si.name())
	if v, ok := f["approvers"]; ok {
		a.Approvers = p.roles(v.val, "approval.approvers")
		if p.isNull(v.val) || (v.val.Kind == yaml.SequenceNode && len(v.val.Content) == 0) {
			p.errorf(v.val, "approval has no approvers")
		}
	} else {
		p.errorf(kv.key, "approval has no approvers")
	}
	if v, ok := f["prompt"]; ok {
		if s, ok := p.str(v.val, "approval.prompt"); ok {
			a.Prompt = s
			p.templates(v.val, "approval.prompt", si, false)
		}
	}
	if v, ok := f["timeout"]; ok {
		a.Timeout, _ = p.duration(v.val, "approval.timeout")
	} else {
		p.errorf(kv.key, "approval has no timeout")
	}
	var onTimeout *yaml.Node
	if v, ok := f["on_timeout"]; ok {
		if s, ok := p.str(v.val, "approval.on_timeout"); ok {
			switch s {
			case "deny", "escalate":
				a.OnTimeout = s
				onTimeout = v.val
			default:
				p.errorf(v.val, "approval.on_timeout: must be deny or escalate, got %q", s)
			}
		}
	}
	escTo, hasEscTo := f["escalate_to"]
	if hasEscTo {
		a.EscalateTo = p.roles(escTo.val, "approval.escalate_to")
	}
	escTimeout, hasEscTimeout := f["escalation_timeout"]
	if hasEscTimeout {
		a.EscalationTimeout, _ = p.duration(escTimeout.val, "approval.escalation_timeout")
	}
	if a.OnTimeout == "escalate" {
		if !hasEscTo || p.isNull(escTo.val) || (escTo.val.Kind == yaml.SequenceNode && len(escTo.val.Content) == 0) {
			p.errorf(onTimeout, "approval: on_timeout escalate needs escalate_to (roles)")
		}
		if !hasEscTimeout {
			p.errorf(onTimeout, "approval: on_timeout escalate needs escalation_timeout")
		}
	} else {
		if hasEscTo {
			p.errorf(escTo.key, "approval.escalate_to: only used with on_timeout: escalate")
		}
		if hasEscTimeout {
			p.errorf(escTimeout.key, "approval.escalation_timeout: only used with on_timeout: escalate")
		}
	}
	if v, ok := f["required"]; ok {
		if i, ok := p.integer(v.val, "approval.required"); ok {
			if i < 1 {
				p.errorf(v.val, "approval.required: must be at least 1")
			}
			a.Required = int(i)
		}
	}
	return a
}

// roles reads a list of roles.
func (p *parser) roles(n *yaml.Node, what string) []string {
	if p.isNull(n) || !p.want(n, yaml.SequenceNode, what, "a list of roles") {
		return nil
	}
	var out []string
	for _, r := range n.Content {
		s, ok := p.str(r, what)
		if !ok {
			continue
		}
		if !validRole(s) {
			p.errorf(r, "unknown role %q (roles: %s)", s, rolesList())
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) parseWait(kv field, si *stepInfo) *Wait {
	if !p.want(kv.val, yaml.MappingNode, "wait", "a mapping") {
		return nil
	}
	w := &Wait{}
	f := p.fields(kv.val, waitKeys, " in wait of "+si.name())
	_, hasDur := f["duration"]
	_, hasUntil := f["until"]
	if v, ok := f["duration"]; ok {
		w.Duration, _ = p.duration(v.val, "wait.duration")
	}
	if v, ok := f["until"]; ok {
		if s, ok := p.str(v.val, "wait.until"); ok {
			if s != WaitAlertResolved {
				p.errorf(v.val, "wait.until: unknown event %q (events: %s)", s, WaitAlertResolved)
			}
			w.Until = s
		}
	}
	if !hasDur && !hasUntil {
		p.errorf(kv.key, "wait needs a duration or until (or both: whichever comes first)")
	}
	return w
}

func (p *parser) parseSet(kv field, si *stepInfo) map[string]string {
	if p.isNull(kv.val) {
		p.errorf(kv.key, "set has no variables")
		return nil
	}
	if !p.want(kv.val, yaml.MappingNode, "set", "a mapping of variable: expression") {
		return nil
	}
	out := map[string]string{}
	for _, fe := range p.pairs(kv.val) {
		name := fe.key.Value
		if !identRE.MatchString(name) {
			p.errorf(fe.key, "invalid variable name %q: %s", name, identRule)
			continue
		}
		ctx := "set." + name
		src, ok := p.exprSource(fe.val, ctx)
		if !ok {
			continue
		}
		out[name] = src
		si.sets = append(si.sets, name)
		si.exprs = append(si.exprs, exprUse{ctx: ctx, node: fe.val, src: src})
	}
	if len(kv.val.Content) == 0 {
		p.errorf(kv.val, "set has no variables")
	}
	return out
}

func (p *parser) parseNotify(kv field, si *stepInfo) *Notify {
	if !p.want(kv.val, yaml.MappingNode, "notify", "a mapping") {
		return nil
	}
	nt := &Notify{}
	f := p.fields(kv.val, notifyKeys, " in notify of "+si.name())
	if v, ok := f["message"]; ok {
		if s, ok := p.str(v.val, "notify.message"); ok {
			if strings.TrimSpace(s) == "" {
				p.errorf(v.val, "notify has no message")
			}
			nt.Message = s
			p.templates(v.val, "notify.message", si, false)
		}
	} else {
		p.errorf(kv.key, "notify has no message")
	}
	if v, ok := f["channel"]; ok {
		if s, ok := p.str(v.val, "notify.channel"); ok {
			nt.Channel = s
			p.templates(v.val, "notify.channel", si, false)
		}
	}
	return nt
}

func (p *parser) parseUndo(kv field, st Step, spec ActionSpec, specOK bool, si *stepInfo) *ActionCall {
	if st.Kind != KindAction {
		p.errorf(kv.key, "undo is only allowed on action steps")
		return nil
	}
	if specOK && !spec.Reversible {
		p.errorf(kv.key, "undo: action %q is not reversible", spec.Name)
	}
	if !p.want(kv.val, yaml.MappingNode, "undo", "a mapping with action and args") {
		return nil
	}
	f := p.fields(kv.val, undoKeys, " in undo of "+si.name())
	av, ok := f["action"]
	if !ok {
		p.errorf(kv.key, "undo has no action")
		return nil
	}
	name, ok := p.str(av.val, "undo.action")
	if !ok {
		return nil
	}
	call := &ActionCall{Name: name}
	uspec, uok := LookupAction(name)
	if !uok {
		p.errorf(av.val, "undo: unknown action %q", name)
	}
	var argsNode *yaml.Node
	if a, ok := f["args"]; ok {
		argsNode = a.val
	}
	call.Args = p.parseArgs(argsNode, av.val, uspec, uok, "undo: ", si, true)
	return call
}

// parseArgs reads an action's arguments and checks them against its spec.
func (p *parser) parseArgs(n, actionNode *yaml.Node, spec ActionSpec, known bool, prefix string, si *stepInfo, self bool) map[string]any {
	out := map[string]any{}
	var pairs []field
	if n != nil && !p.isNull(n) && p.want(n, yaml.MappingNode, strings.TrimSuffix(prefix, " ")+"args", "a mapping") {
		pairs = p.pairs(n)
	}
	seen := map[string]bool{}
	for _, fe := range pairs {
		name := fe.key.Value
		seen[name] = true
		ctx := fmt.Sprintf("argument %q", name)
		var as ArgSpec
		if known {
			var ok bool
			if as, ok = spec.Arg(name); !ok {
				p.errorf(fe.key, "%saction %s: unknown argument %q", prefix, spec.Name, name)
				continue
			}
			if p.bad[fe.val] {
				continue
			}
			if msg := argTypeProblem(fe.val, as.Type); msg != "" {
				p.errorf(fe.val, "%saction %s: argument %q: %s", prefix, spec.Name, name, msg)
				continue
			}
		}
		out[name] = p.value(fe.val, prefix+ctx, func(sn *yaml.Node) { p.templates(sn, prefix+ctx, si, self) })
	}
	if known {
		for _, as := range spec.Args {
			if as.Required && !seen[as.Name] {
				p.errorf(actionNode, "%saction %s: missing argument %q", prefix, spec.Name, as.Name)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// templates records the ${{ }} expressions in a string.
func (p *parser) templates(n *yaml.Node, ctx string, si *stepInfo, self bool) {
	if !strings.Contains(n.Value, tmplOpen) {
		return
	}
	parts, err := parseTemplate(n.Value)
	if err != nil {
		var te *templateError
		errors.As(err, &te)
		line, col := p.posIn(n, te.off)
		p.errorAt(line, col, "%s: %s", ctx, te.msg)
		return
	}
	for _, part := range parts {
		if part.isExpr {
			si.exprs = append(si.exprs, exprUse{ctx: ctx, node: n, src: part.expr, off: part.off, self: self})
		}
	}
}

// value converts a literal to plain data (nil, bool, int64, float64, string,
// []any, map[string]any). onString, if set, sees every string scalar.
func (p *parser) value(n *yaml.Node, what string, onString func(*yaml.Node)) any {
	if p.bad[n] {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, fe := range p.pairs(n) {
			m[fe.key.Value] = p.value(fe.val, what, onString)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, p.value(c, what, onString))
		}
		return l
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b
			}
		case "!!int":
			var i int64
			if err := n.Decode(&i); err == nil {
				return i
			}
			p.errorf(n, "%s: integer %s is out of range", what, n.Value)
			return nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f
			}
			p.errorf(n, "%s: expected a finite number, got %s", what, n.Value)
			return nil
		case "!!str", "!!timestamp":
			if onString != nil {
				onString(n)
			}
			return n.Value
		}
		p.errorf(n, "%s: unsupported YAML tag %s", what, n.Tag)
	}
	return nil
}

// field is one key and its value in a mapping.
type field struct{ key, val *yaml.Node }

// pairs returns a mapping's entries, reporting keys that are not strings
// and keys given twice. A value may be a bad node, which readers skip.
func (p *parser) pairs(n *yaml.Node) []field {
	var out []field
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if p.bad[k] {
			continue
		}
		if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!merge") {
			p.errorf(k, "keys must be strings, got %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, "duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, field{k, v})
	}
	return out
}

// fields returns a mapping's entries by key, reporting keys that are not
// allowed; where ends the message ("" or ` in step "x"`).
func (p *parser) fields(n *yaml.Node, allowed []string, where string) map[string]field {
	out := map[string]field{}
	for _, fe := range p.pairs(n) {
		if !slices.Contains(allowed, fe.key.Value) {
			p.errorf(fe.key, "unknown key %q%s", fe.key.Value, where)
			continue
		}
		out[fe.key.Value] = fe
	}
	return out
}

// lookup finds a key's value without reporting anything.
func (p *parser) lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key && !p.bad[n.Content[i+1]] {
			return n.Content[i+1]
		}
	}
	return nil
}

func (p *parser) isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// want checks a node's kind; what names the key, desc the expected kind.
func (p *parser) want(n *yaml.Node, kind yaml.Kind, what, desc string) bool {
	if p.bad[n] {
		return false
	}
	if n.Kind != kind {
		p.errorf(n, "%s: expected %s, got %s", what, desc, kindName(n))
		return false
	}
	return true
}

// str reads a string; null reads as "".
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if p.bad[n] {
		return "", false
	}
	if p.isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.errorf(n, "%s: expected a string, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// exprSource reads a CEL expression: a string, or a bool or number whose
// text is the expression.
func (p *parser) exprSource(n *yaml.Node, what string) (string, bool) {
	if p.bad[n] {
		return "", false
	}
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!bool", "!!int", "!!float":
			if strings.TrimSpace(n.Value) == "" {
				p.errorf(n, "%s: empty expression", what)
				return "", false
			}
			return n.Value, true
		}
	}
	p.errorf(n, "%s: expected a CEL expression, got %s", what, kindName(n))
	return "", false
}

func (p *parser) duration(n *yaml.Node, what string) (Duration, bool) {
	if p.bad[n] {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || p.isNull(n) {
		p.errorf(n, "%s: expected a duration (e.g. 30m, 24h), got %s", what, kindName(n))
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil || n.ShortTag() != "!!str" {
		p.errorf(n, "%s: invalid duration %q (use a number with a unit, e.g. 30s, 5m, 24h)", what, n.Value)
		return 0, false
	}
	if d <= 0 {
		p.errorf(n, "%s: must be positive", what)
		return 0, false
	}
	return Duration(d), true
}

func (p *parser) integer(n *yaml.Node, what string) (int64, bool) {
	if p.bad[n] {
		return 0, false
	}
	var i int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || i > math.MaxInt32 {
		p.errorf(n, "%s: expected an int, got %s", what, kindName(n))
		return 0, false
	}
	return i, true
}

func (p *parser) number(n *yaml.Node, what string) (float64, bool) {
	if p.bad[n] {
		return 0, false
	}
	var f float64
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		p.errorf(n, "%s: expected a number, got %s", what, kindName(n))
		return 0, false
	}
	return f, true
}

// kindName describes a node for messages: "a string", "a list", "null".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int":
		return "an int"
	case "!!float":
		return "a float"
	case "!!bool":
		return "a bool"
	case "!!null":
		return "null"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return fmt.Sprintf("a value tagged %s", n.Tag)
}

func andList(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// posIn returns the file position of the rune at off in a scalar's value.
// That is exact for a scalar written on one line without escapes (plain or
// quoted); otherwise it is the scalar's own position.
func (p *parser) posIn(n *yaml.Node, off int) (line, col int) {
	line, col = n.Line, n.Column
	if n.Kind != yaml.ScalarNode || strings.ContainsAny(n.Value, "\n\r") || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 {
		return line, col
	}
	q := 0
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		q = 1
	}
	if p.lines == nil {
		p.lines = strings.Split(string(p.src), "\n")
	}
	if n.Line < 1 || n.Line > len(p.lines) {
		return line, col
	}
	raw := []rune(p.lines[n.Line-1])
	val := []rune(n.Value)
	start := n.Column - 1 + q
	if start < 0 || start+len(val) > len(raw) || string(raw[start:start+len(val)]) != n.Value || off > len(val) {
		return line, col
	}
	return n.Line, n.Column + q + off
}
