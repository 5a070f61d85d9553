#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

#include <stddef.h>
#include <stdint.h>

void serial_init(uint16_t port, uint32_t baud);
void serial_write(const char *buf, size_t len);
size_t serial_read(char *buf, size_t len);    /* what has arrived, no waiting */

#endif
