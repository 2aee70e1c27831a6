package main

import "syscall"

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT, which the
// syscall package does not name.
const ipBindAddressNoPort = 24

// bindAddressNoPort is a net.Dialer's Control: the socket is bound to its
// local address without a port, which connect then picks per
// destination. Without it every bound socket takes a port of its own at
// bind time, and a few tens of thousands of tabs exhaust them.
func bindAddressNoPort(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
