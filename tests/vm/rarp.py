#!/usr/bin/env python3
"""rarp.py: send the RARP frames QEMU sends when a migrated VM resumes.

    rarp.py IFNAME [MAC] [--rounds N] [--initial-ms MS] [--step-ms MS]

Run it inside the netns that holds IFNAME (ip netns exec NS rarp.py net1).
Each frame is what QEMU's self-announce builds (net/announce.c): broadcast
destination, source MAC = the VM's MAC, ethertype 0x8035 (RARP), an ARP
body for Ethernet/IPv4 with opcode 3 ("reverse request"), sender and target
hardware address = the VM's MAC, both protocol addresses 0.0.0.0, padded to
the 60-byte minimum frame.  MAC defaults to IFNAME's own address.

QEMU's schedule is 5 rounds, the first at once, then 50 ms, 150 ms, ...
apart (announce-initial 50, announce-step 100); --rounds 1 sends one frame.
On stdout: one line "rarp sent t=<CLOCK_REALTIME seconds, ns precision>"
per frame, so that a caller can measure from the first one.
"""

import argparse
import socket
import struct
import sys
import time

ETH_P_RARP = 0x8035
ARPOP_RREQUEST = 3


def parse_mac(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError("bad MAC " + text)
    return bytes(int(p, 16) for p in parts)


def rarp_frame(mac):
    eth = b"\xff" * 6 + mac + struct.pack("!H", ETH_P_RARP)
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, ARPOP_RREQUEST)
    body += mac + b"\0" * 4 + mac + b"\0" * 4
    frame = eth + body
    return frame + b"\0" * (60 - len(frame))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ifname")
    ap.add_argument("mac", nargs="?")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--initial-ms", type=float, default=50.0)
    ap.add_argument("--step-ms", type=float, default=100.0)
    a = ap.parse_args()

    try:
        if a.mac is None:
            with open("/sys/class/net/%s/address" % a.ifname) as f:
                a.mac = f.read().strip()
        mac = parse_mac(a.mac)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_RARP))
        s.bind((a.ifname, 0))
    except (OSError, ValueError) as e:
        print("rarp.py: %s: %s" % (a.ifname, e), file=sys.stderr)
        return 1
    frame = rarp_frame(mac)
    delay = a.initial_ms
    for i in range(a.rounds):
        if i > 0:
            time.sleep(delay / 1000.0)
            delay += a.step_ms
        s.send(frame)
        print("rarp sent t=%.6f" % time.time(), flush=True)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
