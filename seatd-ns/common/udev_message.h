#ifndef _SEATD_NS_UDEV_MESSAGE_H
#define _SEATD_NS_UDEV_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "uevent.h"

/*
 * The udev message codec: what systemd-udevd multicasts on NETLINK_KOBJECT_UEVENT group 2
 * ("udev") after processing an event, and what libudev monitors accept (systemd
 * src/libsystemd/sd-device/device-monitor.c). A 40-byte header, then NUL-separated
 * KEY=VALUE properties:
 *
 *   "libudev\0", magic htobe32(0xfeedcafe), header_size (40), properties_off (40) and
 *   properties_len in host order, then big-endian filter words: MurmurHash2 of SUBSYSTEM,
 *   of DEVTYPE (0 if none), and a 64-bit bloom of the device's tags (hi, lo).
 *
 * Receivers' socket filters compare the hashes and the bloom, so a message with wrong hashes
 * is silently dropped by libinput, PulseAudio and the others.
 */

#define UDEV_MESSAGE_HEADER_SIZE 40
#define UDEV_MESSAGE_MAGIC 0xfeedcafe
/* libudev before systemd 252 receives into 8192 bytes and drops longer messages. */
#define UDEV_MESSAGE_MAX_SIZE 8192

/* MurmurHash2, 32-bit, seed 0, as systemd's MurmurHash2.c (native-endian 4-byte reads). */
uint32_t udev_murmur_hash2(const void *key, size_t len, uint32_t seed);

/* The 64-bit tag bloom of one tag; OR them for a device's tags. */
uint64_t udev_tag_bloom(const char *tag);

/*
 * Parses a udev message in place (buf needs room for len + 1 bytes): checks the prefix,
 * magic, offsets and lengths against len (the properties must end the message: libudev reads
 * them up to its end), then parses the properties with uevent_parse_properties and wants a
 * nonzero SEQNUM, as libudev does. Returns 0, or -1 with errno EINVAL and a static reason in
 * *why.
 */
int udev_message_parse(struct uevent *ev, char *buf, size_t len, const char **why);

/*
 * Encodes ev as a udev message: header with hashes of ev->subsystem and ev->devtype and the
 * bloom of the tags in its TAGS and CURRENT_TAGS properties (":a:b:"; libudev takes both as
 * tags), then every property of ev. Returns the length, or -1 with errno ENOBUFS if size is
 * too small or the message would exceed UDEV_MESSAGE_MAX_SIZE.
 */
int udev_message_encode(const struct uevent *ev, char *buf, size_t size);

#endif
