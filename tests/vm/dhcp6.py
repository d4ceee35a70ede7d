#!/usr/bin/env python3
"""dhcp6.py: one stateful DHCPv6 exchange (Solicit -> Advertise), for the tests.

    dhcp6.py IFNAME [--timeout S] [--tries N]

Debian's busybox-static has no udhcpc6, so the tests ask OVN's DHCPv6
responder themselves.  Run it inside the pod netns (ip netns exec NS
dhcp6.py net1): it sends a Solicit (RFC 8415) with a DUID-LL client id made
from IFNAME's MAC and one IA_NA, from the interface's link-local address
(port 546) to ff02::1:2 port 547, and waits (bounded) for an Advertise.
It prints one parseable line and applies nothing:

    OSN-DHCP6: advertise addr=fd00:74::5 preferred=3600 valid=3600 server_duid=0003000102...

or "OSN-DHCP6: timeout" (exit status 1).
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

SOLICIT, ADVERTISE = 1, 2
OPT_CLIENTID, OPT_SERVERID, OPT_IA_NA, OPT_IAADDR = 1, 2, 3, 5
OPT_ORO, OPT_ELAPSED = 6, 8


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


def options(buf):
    """(code, data) pairs of a DHCPv6 option list."""
    i = 0
    while i + 4 <= len(buf):
        code, n = struct.unpack_from("!HH", buf, i)
        yield code, buf[i + 4:i + 4 + n]
        i += 4 + n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ifname")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--tries", type=int, default=3)
    a = ap.parse_args()
    with open("/sys/class/net/%s/address" % a.ifname) as f:
        mac = bytes(int(x, 16) for x in f.read().strip().split(":"))
    idx = socket.if_nametoindex(a.ifname)
    duid = struct.pack("!HH", 3, 1) + mac  # DUID-LL, hardware type Ethernet
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    # The link-local address may still be tentative (DAD) right after link up.
    deadline = time.time() + 3
    while True:
        try:
            s.bind(("::", 546, 0, idx))
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    for _ in range(a.tries):
        xid = os.urandom(3)
        msg = bytes([SOLICIT]) + xid
        msg += opt(OPT_CLIENTID, duid)
        msg += opt(OPT_IA_NA, struct.pack("!III", 1, 0, 0))
        msg += opt(OPT_ELAPSED, b"\0\0")
        msg += opt(OPT_ORO, struct.pack("!H", 23))
        s.sendto(msg, ("ff02::1:2", 547, 0, idx))
        end = time.time() + a.timeout
        while time.time() < end:
            r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
            if not r:
                break
            data, _ = s.recvfrom(2048)
            if len(data) < 4 or data[0] != ADVERTISE or data[1:4] != xid:
                continue
            addr, pref, valid, server = None, 0, 0, b""
            for code, val in options(data[4:]):
                if code == OPT_SERVERID:
                    server = val
                elif code == OPT_IA_NA and len(val) >= 12:
                    for c2, v2 in options(val[12:]):
                        if c2 == OPT_IAADDR and len(v2) >= 24:
                            addr = socket.inet_ntop(socket.AF_INET6, v2[:16])
                            pref, valid = struct.unpack_from("!II", v2, 16)
            print("OSN-DHCP6: advertise addr=%s preferred=%d valid=%d server_duid=%s"
                  % (addr or "none", pref, valid, server.hex()), flush=True)
            return 0
    print("OSN-DHCP6: timeout", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
