#ifndef _SEATD_NS_SERVICE_H
#define _SEATD_NS_SERVICE_H

/*
 * What the service manager hears, when the daemon runs as systemd's Type=notify service
 * (sd_notify: NOTIFY_SOCKET is set). Elsewhere, or when built without libsystemd, nothing.
 */

/* Coldplug is done, the saved decisions apply and the sockets listen. */
void service_ready(void);

/* A reload of the configuration starts (service_ready ends it, whatever its outcome). */
void service_reloading(void);

/* A line for `systemctl status`; sent only when it changed since the last one. */
void service_status(const char *status);

#endif
