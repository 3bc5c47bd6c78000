#ifndef _SEATD_NS_LOGIND_STATE_FILES_H
#define _SEATD_NS_LOGIND_STATE_FILES_H

struct logind;

/*
 * sd-login's view of the service (sd_session_is_active, sd_session_get_seat,
 * sd_seat_get_active, sd_uid_get_display ... read these; "logind runs" means seats/ exists):
 * STATE_DIR/sessions/ID, seats/SEAT and users/UID, in logind's key=value format, each
 * replaced whole by a rename. STATE_DIR is /run/systemd for sd-login. 0 or -errno.
 */
int state_files_write(const struct logind *ld);
void state_files_remove(const struct logind *ld);

#endif
