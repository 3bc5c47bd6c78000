#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "verbs.h"

int send_end(struct control_client *client) {
	struct control_builder b;
	control_builder_init(&b, "end");
	return control_client_send(client, &b);
}

int send_error(struct control_client *client, const char *message) {
	struct control_builder b;
	control_builder_init(&b, "error");
	control_builder_add(&b, "message", message);
	return control_client_send(client, &b);
}

int send_done(struct control_client *client, const char *message) {
	struct control_builder b;
	control_builder_init(&b, "done");
	control_builder_add(&b, "message", message);
	if (control_client_send(client, &b) == -1) {
		return -1;
	}
	return send_end(client);
}

int save_state(struct control_verbs *verbs, char *message, size_t size) {
	if (state_save(verbs->state) == -1) {
		snprintf(message, size, "cannot save %s: %s; nothing changed", verbs->state->path,
			strerror(errno));
		log_errorf("%s", message);
		return -1;
	}
	return 0;
}

int control_verbs_handle(void *data, struct control_client *client,
	const struct control_record *request) {
	struct control_verbs *verbs = data;
	const char *verb = request->type;
	/* Anyone may connect, to see the sessions and wait for their own: nothing else. */
	if (!client->privileged && strcmp(verb, "sessions") != 0 &&
		strcmp(verb, "wait-session") != 0) {
		if (log_ratelimit_allow(&client->server->refusal_log)) {
			log_warnf("control request \"%.64s\" of uid %u refused: not root nor in the "
				  "control group", verb, (unsigned)client->uid);
		}
		send_error(client, "permission denied: only root and the control group may do "
				   "that; others may list the sessions and wait for their own");
		return -1;
	}
	if (strcmp(verb, "devices") == 0) {
		return verb_devices(verbs, client);
	}
	if (strcmp(verb, "status") == 0) {
		return verb_status(verbs, client);
	}
	if (strcmp(verb, "monitor") == 0) {
		client->monitor = true;
		return send_end(client);
	}
	if (strcmp(verb, "seats") == 0) {
		return verb_seats(verbs, client);
	}
	if (strcmp(verb, "assign") == 0) {
		return verb_assign(verbs, client, control_record_get(request, "device"),
			control_record_get(request, "seat"));
	}
	if (strcmp(verb, "unassign") == 0) {
		return verb_unassign(verbs, client, control_record_get(request, "device"));
	}
	if (strcmp(verb, "attach") == 0) {
		return verb_attach(verbs, client, control_record_get(request, "seat"),
			control_record_get(request, "container"));
	}
	if (strcmp(verb, "detach") == 0) {
		return verb_detach(verbs, client, control_record_get(request, "seat"),
			control_record_get(request, "container"));
	}
	if (strcmp(verb, "switch") == 0) {
		return verb_switch(verbs, client, control_record_get(request, "seat"),
			control_record_get(request, "container"));
	}
	if (strcmp(verb, "reload") == 0) {
		return verb_reload(verbs, client);
	}
	if (strcmp(verb, "register") == 0) {
		return verb_register(verbs, client, request);
	}
	if (strcmp(verb, "unregister") == 0) {
		return verb_unregister(verbs, client, control_record_get(request, "name"),
			control_record_get(request, "pid"));
	}
	if (strcmp(verb, "login") == 0) {
		return verb_login(verbs, client, request);
	}
	if (strcmp(verb, "login-leader") == 0) {
		return verb_login_leader(verbs, client, request);
	}
	if (strcmp(verb, "logout") == 0) {
		return verb_logout(verbs, client, control_record_get(request, "seat"));
	}
	if (strcmp(verb, "sessions") == 0) {
		return verb_sessions(verbs, client);
	}
	if (strcmp(verb, "wait-session") == 0) {
		return verb_wait_session(verbs, client, control_record_get(request, "seat"));
	}
	if (strcmp(verb, "move-session") == 0) {
		return verb_move_session(verbs, client, control_record_get(request, "from"),
			control_record_get(request, "seat"));
	}
	char message[128];
	snprintf(message, sizeof(message), "unknown request \"%.64s\"", verb);
	return send_error(client, message);
}

void control_verbs_client_gone(void *data, struct control_client *client) {
	struct control_verbs *verbs = data;
	desktops_forget_requester(verbs->desktops, client);
	verbs_forget_waiter(verbs, client);
}
