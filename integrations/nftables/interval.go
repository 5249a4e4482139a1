package nftables

import (
	"bytes"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	nft "github.com/google/nftables"
)

// span is the half-open address range [start, end) that a block covers, as an
// interval set stores it: a start element and an end element holding the
// first address after the range. end is the zero Addr when the range runs to
// the last address of the family (the kernel then has no end element).
type span struct {
	start netip.Addr
	end   netip.Addr
}

// parseValue turns a canonical address or prefix into its span. A prefix
// with host bits set is refused rather than widened, so that a typo never
// blocks more than was asked for.
func parseValue(v string) (span, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return span{}, fmt.Errorf("invalid prefix %q", v)
		}
		if p.Addr().Is4In6() {
			return span{}, fmt.Errorf("invalid prefix %q: IPv4-mapped IPv6 prefix, give the IPv4 prefix", v)
		}
		if p.Masked() != p {
			return span{}, fmt.Errorf("invalid prefix %q: host bits set (did you mean %s?)", v, p.Masked())
		}
		return prefixSpan(p), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return span{}, fmt.Errorf("invalid IP address %q", v)
	}
	if a.Zone() != "" {
		return span{}, fmt.Errorf("invalid IP address %q: zones are not supported", v)
	}
	// Traffic from an IPv4 host reaches the inet table as ip, never as a
	// mapped ip6 address.
	a = a.Unmap()
	return prefixSpan(netip.PrefixFrom(a, a.BitLen())), nil
}

func prefixSpan(p netip.Prefix) span {
	return span{start: p.Addr(), end: lastAddr(p).Next()}
}

// lastAddr is the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// last is the highest address in s.
func (s span) last() netip.Addr {
	if !s.end.IsValid() {
		return lastAddr(netip.PrefixFrom(s.start, 0))
	}
	return s.end.Prev()
}

// String gives s back in the form a caller would have written it: an
// address, a prefix, or "first-last" for a range no prefix describes (which
// only elements added by hand can be).
func (s span) String() string {
	last := s.last()
	for bits := 0; bits <= s.start.BitLen(); bits++ {
		p := netip.PrefixFrom(s.start, bits)
		if p.Masked() == p && lastAddr(p) == last {
			if bits == s.start.BitLen() {
				return s.start.String()
			}
			return p.String()
		}
	}
	return s.start.String() + "-" + last.String()
}

func (s span) equal(o span) bool { return s.start == o.start && s.end == o.end }

// overlaps reports whether s and o share an address.
func (s span) overlaps(o span) bool {
	// s.start < o.end && o.start < s.end, with a zero end meaning +inf.
	before := func(a, end netip.Addr) bool { return !end.IsValid() || a.Less(end) }
	return before(s.start, o.end) && before(o.start, s.end)
}

// elements encodes s as interval set elements. Only the start element
// carries the timeout and the comment: the kernel refuses both on an
// interval end.
func (s span) elements(timeout time.Duration, comment string) []nft.SetElement {
	els := []nft.SetElement{{Key: s.start.AsSlice(), Timeout: timeout, Comment: comment}}
	if s.end.IsValid() {
		els = append(els, nft.SetElement{Key: s.end.AsSlice(), IntervalEnd: true})
	}
	return els
}

// entry is one block read back from the kernel.
type entry struct {
	span
	timeout time.Duration // 0 = no timeout
	expires time.Duration // time left when read
	comment string
}

// entries pairs the start and end elements of an interval set dump into
// spans, in address order. End elements without a start are skipped: nft
// adds one at the zero address, and the end element of an expired interval
// stays until the kernel's garbage collection removes it.
func entries(els []nft.SetElement) []entry {
	sorted := append([]nft.SetElement(nil), els...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if c := bytes.Compare(sorted[i].Key, sorted[j].Key); c != 0 {
			return c < 0
		}
		// An end and the next start may share a key (adjacent ranges);
		// the end closes the earlier range first.
		return sorted[i].IntervalEnd && !sorted[j].IntervalEnd
	})
	var out []entry
	var open *entry
	for _, el := range sorted {
		a, ok := netip.AddrFromSlice(el.Key)
		if !ok {
			continue
		}
		if el.IntervalEnd {
			if open != nil {
				open.end = a
				out = append(out, *open)
				open = nil
			}
			continue
		}
		if open != nil {
			// Two starts in a row: the first runs to the end of the space.
			out = append(out, *open)
		}
		open = &entry{span: span{start: a}, timeout: el.Timeout, expires: el.Expires, comment: el.Comment}
	}
	if open != nil {
		out = append(out, *open)
	}
	return out
}

// ttlTimeout converts a TTL to the kernel's millisecond timeout, rounding up
// so that a TTL below a millisecond never turns into "no timeout".
func ttlTimeout(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
}

// elementComment builds the element comment shown by `nft list`: the
// idempotency key and reason, cut to fit the kernel's 256-byte user data
// (with room for the type, length and NUL).
func elementComment(key, reason string) string {
	c := "riposte"
	if key != "" {
		c += " " + key
	}
	if reason != "" {
		c += ": " + reason
	}
	c = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, c)
	const maxLen = 200
	if len(c) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(c[cut]) {
			cut--
		}
		c = c[:cut]
	}
	return c
}
