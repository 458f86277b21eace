/* Clocks in milliseconds: one place for the conversions every module needs. */
#ifndef STEER_CORE_CLOCK_H
#define STEER_CORE_CLOCK_H

#include <stdint.h>

/** Wall clock: milliseconds since the Unix epoch (CLOCK_REALTIME). Context: any. */
int64_t steer_clock_wall_ms(void);

/** Monotonic clock in milliseconds (CLOCK_MONOTONIC): for intervals and deadlines. */
int64_t steer_clock_mono_ms(void);

#endif
