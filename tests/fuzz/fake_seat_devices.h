#ifndef _SEATD_NS_FAKE_SEAT_DEVICES_H
#define _SEATD_NS_FAKE_SEAT_DEVICES_H

#include <stdbool.h>

/* The fuzz target's hold on the stand-in libseat side (fake_seat_devices.c). */
extern bool fake_seat_devices_fail_opens;
extern unsigned fake_seat_devices_acks; /* disables acknowledged to the "endpoint" */

#endif
