package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestScratchCorpus(t *testing.T) {
	dir := os.Getenv("CORPUS")
	ents, _ := os.ReadDir(dir)
	type r struct{ d time.Duration; name string; n int }
	var worst r
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		lines := strings.SplitN(string(b), "\n", 2)
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[1]), "string("), ")"))
		if err != nil { t.Log(err); continue }
		p := writeConfig(t, s)
		st := time.Now()
		Load(LoadOptions{File: p})
		d := time.Since(st)
		if d > worst.d { worst = r{d, e.Name(), len(s)} }
	}
	fmt.Println(worst)
}
