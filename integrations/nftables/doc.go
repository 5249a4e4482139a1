// Package nftables blocks IP addresses and prefixes with Linux nftables,
// talking netlink directly (github.com/google/nftables), optionally inside a
// named network namespace.
//
// New creates (idempotently) an inet table, default "riposte", holding:
//
//	set blocked4 { type ipv4_addr; flags interval,timeout; }
//	set blocked6 { type ipv6_addr; flags interval,timeout; }
//	chain input   { type filter hook input priority filter; policy accept;
//	                ip saddr @blocked4 counter drop; ip6 saddr @blocked6 counter drop; }
//	chain forward { type filter hook forward priority filter; policy accept; (same rules) }
//
// A block is one set element (a range for prefixes, as interval sets store
// them). A block with a TTL carries a kernel timeout, so it expires even while
// Riposte is down. The chains only drop; every other packet is left to the
// host's own rules.
package nftables
