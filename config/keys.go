package config

import (
	"reflect"
	"slices"
	"strings"
	"sync"
)

// EnvVar returns the environment variable that sets key, e.g. "http.listen"
// → "RIPOSTE_HTTP_LISTEN".
func EnvVar(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// KeyPaths returns every leaf key path of Config, sorted, e.g.
// "temporal.tls.cert_file". Lists and maps (such as "auth.tokens") are
// leaves: the environment sets them whole, as JSON.
func KeyPaths() []string { return slices.Clone(keyPaths()) }

var keyPaths = sync.OnceValue(func() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for _, f := range fields(t) {
			path := joinKey(prefix, f.name)
			if isSection(f.typ) {
				walk(f.typ, path)
				continue
			}
			keys = append(keys, path)
		}
	}
	walk(reflect.TypeFor[Config](), "")
	slices.Sort(keys)
	return keys
})

// envKeys maps each environment variable to its key path.
var envKeys = sync.OnceValue(func() map[string]string {
	m := make(map[string]string)
	for _, k := range keyPaths() {
		m[EnvVar(k)] = k
	}
	return m
})

// field is one mapstructure-tagged struct field.
type field struct {
	name   string
	goName string
	typ    reflect.Type
}

// fields lists t's config fields in declaration order, named as
// mapstructure names them.
func fields(t reflect.Type) []field {
	var out []field
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name: name, goName: f.Name, typ: f.Type})
	}
	return out
}

// fieldByName finds a config field of struct type t by its exact key.
func fieldByName(t reflect.Type, name string) (field, bool) {
	for _, f := range fields(t) {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// isSection reports whether values of t are a nested group of keys rather
// than one value.
func isSection(t reflect.Type) bool { return t.Kind() == reflect.Struct }

// leafKey returns the key of KeyPaths that path (a key, or a place inside a
// list or map value such as "auth.tokens[0].role") belongs to.
func leafKey(path string) (string, bool) {
	for _, k := range keyPaths() {
		if path == k || strings.HasPrefix(path, k+"[") || strings.HasPrefix(path, k+".") {
			return k, true
		}
	}
	return "", false
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
