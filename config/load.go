package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// LoadOptions says where Load reads configuration from.
type LoadOptions struct {
	// File is the YAML file to read; empty reads none.
	File string
	// FileRequired makes a missing File an error. Otherwise a missing File
	// is skipped, which is how the default riposte.yaml in the working
	// directory is optional.
	FileRequired bool
	// Environ is the environment, as os.Environ returns it. Load reads no
	// other environment, so callers (and tests) control it completely.
	Environ []string
}

// Load builds the configuration from Default, then File, then the RIPOSTE_*
// variables of Environ (the environment wins). Unknown keys and unknown
// RIPOSTE_* variables are errors. Every problem is reported at once, joined
// with errors.Join, each message starting with where the value came from
// ("riposte.yaml:4:21: " or "RIPOSTE_HTTP_LISTEN: ") and the key path.
//
// Load does not call Validate: the caller applies its own overrides (flags)
// first.
func Load(opts LoadOptions) (*Config, error) {
	ld := &loader{
		file:     opts.File,
		keyPos:   map[string]yamlPos{},
		valPos:   map[string]yamlPos{},
		dupLines: map[int]bool{},
		envByKey: map[string]string{},
	}
	// A fresh instance per call: the global viper would leak state between
	// calls and between parallel tests.
	v := viper.New()

	switch {
	case opts.File != "":
		data, err := os.ReadFile(opts.File)
		switch {
		case err == nil:
			ld.fileRead = true
			if m := ld.parseFile(data); m != nil {
				if err := v.MergeConfigMap(m); err != nil {
					ld.add(problem{rank: rankFile, text: fmt.Sprintf("%s: %v", opts.File, err)})
				}
			}
		case errors.Is(err, fs.ErrNotExist) && !opts.FileRequired:
			// The optional default file: nothing to read.
		default:
			ld.add(problem{rank: rankFile, text: err.Error(), err: err})
		}
	case opts.FileRequired:
		ld.add(problem{rank: rankFile, text: "no config file given"})
	}

	for key, val := range ld.parseEnv(opts.Environ) {
		v.Set(key, val)
	}

	cfg := Default()
	ld.unmarshal(v, &cfg)
	ld.lowerMapKeys(reflect.ValueOf(&cfg).Elem(), "")

	if err := ld.err(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Problem ranks order the joined errors: the file as a whole, then file
// positions in document order, then the environment by variable name.
const (
	rankFile = iota
	rankFilePos
	rankEnv
	rankOther
)

type problem struct {
	rank      int
	line, col int
	text      string
	err       error // the original error, kept for errors.Is, when there is one
}

type yamlPos struct{ line, col int }

type loader struct {
	file     string
	fileRead bool
	problems []problem

	keyPos   map[string]yamlPos // key path → position of the key in the file
	valPos   map[string]yamlPos // key path → position of its value
	dupLines map[int]bool       // lines where the walk found a duplicate key
	unknown  int                // unknown keys the walk found in the file

	envByKey map[string]string // leaf key → the variable that set it
}

func (ld *loader) add(p problem) { ld.problems = append(ld.problems, p) }

func (ld *loader) atPos(p yamlPos, text string) {
	ld.add(problem{rank: rankFilePos, line: p.line, col: p.col,
		text: fmt.Sprintf("%s:%d:%d: %s", ld.file, p.line, p.col, text)})
}

func (ld *loader) atNode(n *yaml.Node, text string) {
	ld.atPos(yamlPos{n.Line, n.Column}, text)
}

func (ld *loader) atEnv(name, text string) {
	ld.add(problem{rank: rankEnv, text: name + ": " + text})
}

// err sorts, de-duplicates and joins the problems.
func (ld *loader) err() error {
	slices.SortStableFunc(ld.problems, func(a, b problem) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.line, b.line),
			cmp.Compare(a.col, b.col), strings.Compare(a.text, b.text))
	})
	var errs []error
	seen := map[string]bool{}
	for _, p := range ld.problems {
		if seen[p.text] {
			continue
		}
		seen[p.text] = true
		if p.err != nil {
			errs = append(errs, p.err)
		} else {
			errs = append(errs, errors.New(p.text))
		}
	}
	return errors.Join(errs...)
}

// --- the file ---

// parseFile checks the file's keys against Config, records where each value
// is, and returns its contents for viper. It returns nil when there is
// nothing usable.
func (ld *loader) parseFile(data []byte) (m map[string]any) {
	defer func() {
		// The YAML library has panicked on hostile input before; a bad
		// file must be an error, not a crash.
		if r := recover(); r != nil {
			ld.add(problem{rank: rankFile, text: fmt.Sprintf("%s: internal error in the YAML parser: %v", ld.file, r)})
			m = nil
		}
	}()

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) { // io.EOF: an empty file
			ld.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		ld.yamlError(err)
	default:
		ld.atNode(&extra, "only one YAML document is allowed")
	}

	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	root = resolve(root)
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		ld.atNode(root, "expected a mapping of keys at the top level, got "+describeNode(root, false))
		return nil
	}
	ld.walkMapping(root, reflect.TypeFor[Config](), "", 0)

	if err := root.Decode(&m); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			ld.yamlError(err)
			return nil
		}
		for _, e := range te.Errors {
			ld.yamlTypeError(e)
		}
	}
	return m
}

var (
	yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (?s)(.*)$`)
	yamlTypeErr = regexp.MustCompile(`^line (\d+): (?s)(.*)$`)
)

// yamlError reports a syntax error as file:line:1 when the YAML library
// gives a line (it gives no column).
func (ld *loader) yamlError(err error) {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			ld.atPos(yamlPos{line, 1}, m[2])
			return
		}
	}
	ld.add(problem{rank: rankFile, text: ld.file + ": " + strings.TrimPrefix(msg, "yaml: ")})
}

func (ld *loader) yamlTypeError(msg string) {
	m := yamlTypeErr.FindStringSubmatch(msg)
	if m == nil {
		ld.add(problem{rank: rankFile, text: ld.file + ": " + msg})
		return
	}
	line, err := strconv.Atoi(m[1])
	if err != nil {
		ld.add(problem{rank: rankFile, text: ld.file + ": " + msg})
		return
	}
	if ld.dupLines[line] && strings.Contains(m[2], "already defined") {
		return // the walk reported it, with the key path
	}
	ld.atPos(yamlPos{line, 1}, m[2])
}

// maxMergeDepth bounds nested "<<" merges.
const maxMergeDepth = 8

// walkMapping checks the keys of mapping n, which holds the section t at
// path, and records their positions.
func (ld *loader) walkMapping(n *yaml.Node, t reflect.Type, path string, depth int) {
	seen := map[string]int{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		ld.walkEntry(k, v, t, path, seen, true)
	}
	// Merged keys ("<<: *anchor") come after the explicit ones, which
	// override them, as YAML specifies.
	if depth >= maxMergeDepth {
		return
	}
	for _, mv := range merges {
		mv = resolve(mv)
		srcs := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			srcs = mv.Content
		}
		for _, src := range srcs {
			src = resolve(src)
			if src.Kind != yaml.MappingNode {
				continue // the YAML decoder reports it
			}
			sub := map[string]int{}
			for i := 0; i+1 < len(src.Content); i += 2 {
				k := resolve(src.Content[i])
				if _, ok := seen[k.Value]; ok && k.Kind == yaml.ScalarNode {
					continue
				}
				ld.walkEntry(src.Content[i], src.Content[i+1], t, path, sub, false)
			}
			for k, line := range sub {
				seen[k] = line
			}
		}
	}
}

func (ld *loader) walkEntry(k, v *yaml.Node, t reflect.Type, path string, seen map[string]int, explicit bool) {
	kn := resolve(k)
	if kn.Kind != yaml.ScalarNode {
		ld.atNode(k, prefixKey(path, "unsupported key: a key must be a plain name"))
		ld.unknown++
		return
	}
	name := kn.Value
	if name == "" {
		ld.atNode(k, prefixKey(path, "empty key"))
		ld.unknown++
		return
	}
	full := joinKey(path, name)
	if first, dup := seen[name]; dup {
		if explicit {
			ld.atNode(k, fmt.Sprintf("%s: duplicate key (first at line %d)", full, first))
			ld.dupLines[k.Line] = true
		}
		return
	}
	seen[name] = k.Line
	f, ok := fieldByName(t, name)
	if !ok {
		ld.atNode(k, full+": unknown key"+unknownHint(t, name))
		ld.unknown++
		return
	}
	if _, ok := ld.keyPos[full]; !ok {
		ld.keyPos[full] = yamlPos{k.Line, k.Column}
		ld.valPos[full] = yamlPos{v.Line, v.Column}
	}
	ld.walkValue(v, f.typ, full, 0)
}

func (ld *loader) walkValue(v *yaml.Node, t reflect.Type, path string, depth int) {
	v = resolve(v)
	if isNull(v) {
		return
	}
	// Shapes are checked here rather than in the decode hook because viper
	// drops a scalar that stands where a mapping should be.
	switch {
	case isSection(t) || t.Kind() == reflect.Map:
		if v.Kind != yaml.MappingNode {
			ld.atNode(v, path+": expected a mapping, got "+describeNode(v, !isSection(t)))
			return
		}
		if isSection(t) {
			ld.walkMapping(v, t, path, depth)
		} else {
			ld.caseClashes(v, path)
		}
	case t.Kind() == reflect.Slice:
		if v.Kind != yaml.SequenceNode {
			ld.atNode(v, path+": expected a list, got "+describeNode(v, true))
			return
		}
		if isSection(t.Elem()) {
			for i, item := range v.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				ld.valPos[p] = yamlPos{item.Line, item.Column}
				ld.walkValue(item, t.Elem(), p, depth)
			}
		}
	}
}

// caseClashes records where the entries of a map value are and reports the
// keys that differ only in case: viper lower-cases map keys, so one would
// silently replace the other.
func (ld *loader) caseClashes(n *yaml.Node, path string) {
	seen := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			continue
		}
		lower := strings.ToLower(k.Value)
		// mapstructure names an entry path[key], after viper lower-cased
		// the key.
		if v := n.Content[i+1]; ld.valPos[path+"["+lower+"]"] == (yamlPos{}) {
			ld.valPos[path+"["+lower+"]"] = yamlPos{v.Line, v.Column}
		}
		if first, ok := seen[lower]; ok {
			if first != k.Value {
				ld.atNode(n.Content[i], prefixKey(path, caseClash(first, k.Value)))
			}
			continue
		}
		seen[lower] = k.Value
	}
}

func caseClash(a, b string) string {
	return fmt.Sprintf("keys %s and %s differ only in case (map keys are read in lower case)", quote(a), quote(b))
}

// lowerMapKeys lower-cases the keys of every map in the decoded config.
// viper has lower-cased the file's already; this makes the environment's
// JSON agree, so that a key means the same wherever it was written.
func (ld *loader) lowerMapKeys(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range fields(v.Type()) {
			ld.lowerMapKeys(v.FieldByName(f.goName), joinKey(path, f.name))
		}
	case reflect.Slice:
		for i := range v.Len() {
			ld.lowerMapKeys(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Len() == 0 {
			return
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		lowered := reflect.MakeMapWithSize(v.Type(), v.Len())
		from := map[string]string{}
		for _, k := range keys {
			lower := strings.ToLower(k)
			if first, ok := from[lower]; ok {
				ld.atValue(path, caseClash(first, k))
				continue
			}
			from[lower] = k
			lowered.SetMapIndex(reflect.ValueOf(lower).Convert(v.Type().Key()), v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())))
		}
		v.Set(lowered)
	}
}

// unknownHint explains the two near misses worth explaining: a key in the
// wrong case (viper would otherwise accept it silently) and a dotted path
// written as one key.
func unknownHint(t reflect.Type, name string) string {
	if f, ok := fieldByName(t, strings.ToLower(name)); ok {
		return fmt.Sprintf(" (keys are lower case: %q)", f.name)
	}
	if strings.Contains(name, ".") && validPath(t, name) {
		first, rest, _ := strings.Cut(name, ".")
		return fmt.Sprintf(" (nest it: %q under %q)", rest, first+":")
	}
	return ""
}

func validPath(t reflect.Type, path string) bool {
	for part := range strings.SplitSeq(path, ".") {
		if !isSection(t) {
			return false
		}
		f, ok := fieldByName(t, part)
		if !ok {
			return false
		}
		t = f.typ
	}
	return true
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// describeNode names a node for a message; redact hides a scalar's value
// (a list or map key given a string may have been given a credential).
func describeNode(n *yaml.Node, redact bool) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if !redact {
			if n.Tag == "!!str" {
				return quote(n.Value)
			}
			return n.Value
		}
		switch n.Tag {
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		}
		return "a single value"
	}
	return "something else"
}

// --- the environment ---

// parseEnv returns the value of each key set by a RIPOSTE_* variable and
// reports the variables that set no key.
func (ld *loader) parseEnv(environ []string) map[string]string {
	vals := map[string]string{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || name == EnvConfigFile || name == EnvClientToken || name == EnvClientServer {
			continue
		}
		key, ok := envKeys()[name]
		if !ok {
			ld.atEnv(name, "unknown environment variable")
			continue
		}
		vals[key] = val // the last one wins, as with os/exec
		ld.envByKey[key] = name
	}
	return vals
}

// envFor returns the variable that set the value at path, if one did.
func (ld *loader) envFor(path string) (string, bool) {
	key, ok := leafKey(path)
	if !ok {
		return "", false
	}
	name, ok := ld.envByKey[key]
	return name, ok
}

// --- decoding ---

func (ld *loader) unmarshal(v *viper.Viper, cfg *Config) {
	defer func() {
		if r := recover(); r != nil {
			ld.add(problem{rank: rankOther, text: fmt.Sprintf("internal error decoding the configuration: %v", r)})
		}
	}()
	err := v.Unmarshal(cfg, func(dc *mapstructure.DecoderConfig) {
		dc.DecodeHook = decodeHook
		dc.WeaklyTypedInput = false // our hook converts, with clear messages
		dc.ErrorUnused = true
		dc.ZeroFields = true // a list in the file replaces the default, not merges
		dc.MatchName = func(mapKey, fieldName string) bool { return mapKey == fieldName }
	})
	for _, e := range flatten(err) {
		ld.decodeError(e)
	}
}

func (ld *loader) decodeError(e error) {
	var de *mapstructure.DecodeError
	if !errors.As(e, &de) {
		ld.add(problem{rank: rankOther, text: e.Error()})
		return
	}
	path := de.Name()
	inner := de.Unwrap()
	var ve *valueError
	switch {
	case errors.As(inner, &ve):
		// The walk of the file reports the file's shape errors; only the
		// environment's JSON is left.
		if _, env := ld.envFor(path); ve.shape && !env && ld.fileRead {
			return
		}
		ld.atValue(path, ve.msg)
	case strings.HasPrefix(inner.Error(), "has invalid keys: "):
		for k := range strings.SplitSeq(strings.TrimPrefix(inner.Error(), "has invalid keys: "), ", ") {
			full := joinKey(path, k)
			// The walk of the file found the file's unknown keys exactly
			// (viper lower-cases and splits on dots before we get here).
			if _, env := ld.envFor(full); !env && ld.unknown > 0 {
				continue
			}
			ld.atKey(full, "unknown key")
		}
	default:
		ld.atValue(path, inner.Error())
	}
}

// atValue reports a problem with the value at path, prefixed with where the
// value came from.
func (ld *loader) atValue(path, msg string) { ld.at(path, msg, ld.valPos) }

func (ld *loader) atKey(path, msg string) { ld.at(path, msg, ld.keyPos) }

func (ld *loader) at(path, msg string, pos map[string]yamlPos) {
	text := prefixKey(path, msg)
	if name, ok := ld.envFor(path); ok {
		ld.atEnv(name, text)
		return
	}
	for p := path; p != ""; p = parentPath(p) {
		if at, ok := pos[p]; ok {
			ld.atPos(at, text)
			return
		}
		if at, ok := ld.valPos[p]; ok {
			ld.atPos(at, text)
			return
		}
	}
	if ld.fileRead {
		// From the file, under a key the walk rejected (such as "HTTP",
		// which viper lower-cases): no position, but the file is known.
		ld.add(problem{rank: rankFile, text: ld.file + ": " + text})
		return
	}
	ld.add(problem{rank: rankOther, text: text})
}

// parentPath drops the last segment: "auth.tokens[0].role" →
// "auth.tokens[0]" → "auth.tokens" → "auth" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func prefixKey(path, msg string) string {
	if path == "" {
		return msg
	}
	return path + ": " + msg
}

// flatten lists the individual errors in mapstructure's joined tree.
func flatten(err error) []error {
	switch x := err.(type) {
	case nil:
		return nil
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range x.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	case *mapstructure.DecodeError:
		switch x.Unwrap().(type) {
		case interface{ Unwrap() []error }, *mapstructure.DecodeError:
			return flatten(x.Unwrap())
		}
		return []error{x}
	}
	// Decode wraps a joined error in "decoding failed due to ..."; unwrap
	// that, and only that.
	if u := errors.Unwrap(err); u != nil {
		if _, ok := u.(interface{ Unwrap() []error }); ok {
			return flatten(u)
		}
	}
	return []error{err}
}
