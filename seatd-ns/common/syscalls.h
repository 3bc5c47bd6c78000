#ifndef _SEATD_NS_SYSCALLS_H
#define _SEATD_NS_SYSCALLS_H

#include <sys/syscall.h>

/*
 * Numbers of the system calls that Debian 12's C library has no wrapper (or no number) for,
 * as the x86_64 and generic tables have them since Linux 5.2 to 5.6.
 */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#endif
