// Package freeport picks TCP ports to bind later. It picks below Linux's
// ephemeral range (32768–60999 by default): a port handed out by ":0" comes
// from that range, and until it is bound again any outgoing connection can
// take it as its source port. Under load (tests, an alert storm) that race
// is real; below the range it is not.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

const (
	low  = 20000
	high = 32000
)

// Pick returns a port on host that could be bound just now.
func Pick(host string) (int, error) {
	var lastErr error
	for range 200 {
		p := low + rand.IntN(high-low)
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			lastErr = err
			continue
		}
		_ = l.Close()
		return p, nil
	}
	return 0, fmt.Errorf("no free port on %s: %w", host, lastErr)
}

// Addr returns host:port with a free port.
func Addr(host string) (string, error) {
	p, err := Pick(host)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}
