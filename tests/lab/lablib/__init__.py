"""The seat lab's driver (tests/lab/README.md): the VM and its channels (vm, channels), the
lab's fixed hardware (topology), the checks the scenarios share (checks, libinput, desktops),
screenshots (images) and what a run prints (report). Standard library only."""
