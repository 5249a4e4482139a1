package main

import (
	"strings"
	"testing"
	"time"
)

// TestCheckOpenList: the soak's list check catches every way a list can be
// wrong, so that a passing soak means a complete, sorted list.
func TestCheckOpenList(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	want := map[string]time.Time{"dl-a": t0, "dl-b": t0, "dl-c": t1}
	row := func(id string, due time.Time) soakObligation {
		return soakObligation{ID: id, Status: "open", DueAt: &due}
	}
	good := []soakObligation{row("dl-a", t0), row("dl-b", t0), row("dl-c", t1)}
	if n, err := checkOpenList(good, want); n != 0 || err != nil {
		t.Fatalf("a good list: %d unreadable, %v", n, err)
	}
	late := row("dl-c", t1)
	late.Status = "late"
	unreadable := row("dl-c", t1)
	unreadable.Unreadable = "query timed out"
	if n, err := checkOpenList([]soakObligation{good[0], good[1], unreadable}, want); n != 1 || err != nil {
		t.Fatalf("a list with an unreadable row: %d unreadable, %v; want 1 and no error", n, err)
	}
	wrongUnreadable := row("dl-c", t0)
	wrongUnreadable.Unreadable = "query timed out"
	for _, tc := range []struct {
		name string
		list []soakObligation
		want string
	}{
		{"missing", good[:2], "2 rows, want 3"},
		{"duplicate", []soakObligation{good[0], good[0], good[1], good[2]}, "dl-a listed twice"},
		{"extra", append([]soakObligation{row("dl-0", t0)}, good...), "unexpected obligation dl-0"},
		{"not open", []soakObligation{good[0], good[1], late}, `dl-c is "late", want open`},
		{"unreadable, wrong due", []soakObligation{good[0], good[1], wrongUnreadable}, "dl-c due"},
		{"wrong due", []soakObligation{good[0], good[1], row("dl-c", t0)}, "dl-c due"},
		{"due order", []soakObligation{good[2], good[0], good[1]}, "rows 0 and 1 out of order"},
		{"ID tie-break", []soakObligation{good[1], good[0], good[2]}, "rows 0 and 1 out of order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkOpenList(tc.list, want)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
