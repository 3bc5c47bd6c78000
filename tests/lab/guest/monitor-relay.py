#!/usr/bin/python3
"""In the lab guest: copies `seat-assign --json monitor` (stdin) line by line to the virtio port
lab.events (argv[1]) and to monitor.jsonl (argv[2]), and writes each line with the
CLOCK_MONOTONIC time it arrived to monitor.timed (argv[3]), the clock `udevadm monitor` stamps
its events with. The files are written first: the port blocks while the host is not
connected."""
import sys
import time

port = open(sys.argv[1], "wb", buffering=0)
jsonl = open(sys.argv[2], "ab", buffering=0)
timed = open(sys.argv[3], "ab", buffering=0)
stdin = sys.stdin.buffer
while True:
    line = stdin.readline()
    if not line:
        break
    t = time.monotonic()
    timed.write(b"%.6f " % t + line)
    jsonl.write(line)
    port.write(line)
