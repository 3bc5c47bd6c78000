/* libFuzzer target: the libseat endpoint's seatd request decoder, fed as a client stream. */
#include <stdint.h>
#include <string.h>

#include "libseat_endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct seatd_request req;
	size_t off = 0;
	while (off < size) {
		int r = libseat_endpoint_parse(data + off, size - off, &req);
		if (r != 1) {
			break;
		}
		/* What was accepted is whole, inside the input, and its path a C string. */
		if (req.size < sizeof(struct seatd_proto_header) || req.size > size - off ||
			memchr(req.path, '\0', sizeof(req.path)) == NULL) {
			__builtin_trap();
		}
		if (req.opcode == SEATD_CLIENT_OPEN_DEVICE) {
			(void)libseat_endpoint_classify(req.path);
		}
		off += req.size;
	}
	return 0;
}
