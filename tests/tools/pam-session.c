/*
 * pam-session: a small PAM application, as a display manager's session worker uses PAM once
 * the user is authenticated: opens a session, waits, closes it.
 *
 *   pam-session CONFDIR SERVICE USER
 *
 * Reads the service's file from CONFDIR (pam_start_confdir, not /etc/pam.d). Prints
 * "open ok" or "open failed: ERROR", each message the modules give ("error: ...",
 * "info: ..."), the PAM environment ("env NAME=VALUE") once the session is open; then waits
 * until stdin ends (or gives a line) and prints "close ok" or "close failed: ERROR". Exits 0,
 * 1 if the session did not open, 2 if it did not close.
 */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int converse(int n, const struct pam_message **msg, struct pam_response **resp,
	void *data) {
	struct pam_response *replies = calloc((size_t)n, sizeof(*replies));
	if (replies == NULL) {
		return PAM_BUF_ERR;
	}
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_ERROR_MSG:
			printf("error: %s\n", msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			printf("info: %s\n", msg[i]->msg);
			break;
		default:
			/* No one answers questions: the user is authenticated already. */
			free(replies);
			return PAM_CONV_ERR;
		}
	}
	*resp = replies;
	return PAM_SUCCESS;
}

int main(int argc, char *argv[]) {
	if (argc != 4) {
		fprintf(stderr, "usage: pam-session CONFDIR SERVICE USER\n");
		return 64;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct pam_conv conv = {.conv = converse};
	pam_handle_t *pamh = NULL;
	int r = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
	if (r != PAM_SUCCESS) {
		printf("open failed: pam_start: %s\n", pam_strerror(pamh, r));
		return 1;
	}
	r = pam_open_session(pamh, 0);
	if (r != PAM_SUCCESS) {
		printf("open failed: %s\n", pam_strerror(pamh, r));
		pam_end(pamh, r);
		return 1;
	}
	printf("open ok\n");
	char **env = pam_getenvlist(pamh);
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		printf("env %s\n", env[i]);
		free(env[i]);
	}
	free(env);

	char line[64];
	(void)!fgets(line, sizeof(line), stdin);

	r = pam_close_session(pamh, 0);
	if (r != PAM_SUCCESS) {
		printf("close failed: %s\n", pam_strerror(pamh, r));
		pam_end(pamh, r);
		return 2;
	}
	printf("close ok\n");
	pam_end(pamh, PAM_SUCCESS);
	return 0;
}
