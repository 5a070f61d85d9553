/*
 * The 16550 UART console (COM1 at I/O port 0x3F8 unless the command line says
 * com1=...). Polled output: usable from the first C instruction, and from
 * exception handlers and panics.
 */
#include <stdbool.h>

#include <arch/cpu.h>
#include <arch/serial.h>

#define UART_THR 0  /* transmit holding register */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0  /* with LCR.DLAB */
#define UART_DLM 1

#define LSR_THRE 0x20

static uint16_t uart_port = 0x3F8;
static bool uart_ready;

void serial_init(uint16_t port, uint32_t baud)
{
	uint16_t divisor = (uint16_t)(baud ? 115200 / baud : 1);
	if (!divisor)
		divisor = 1;
	uart_port = port;
	outb(port + UART_IER, 0x00);          /* no interrupts: we poll */
	outb(port + UART_LCR, 0x80);          /* DLAB */
	outb(port + UART_DLL, divisor & 0xFF);
	outb(port + UART_DLM, divisor >> 8);
	outb(port + UART_LCR, 0x03);          /* 8n1 */
	outb(port + UART_FCR, 0xC7);          /* FIFO on, cleared, 14-byte threshold */
	outb(port + UART_MCR, 0x03);          /* DTR, RTS */
	uart_ready = true;
}

static void serial_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the machine. */
	for (int i = 0; i < 100000 && !(inb(uart_port + UART_LSR) & LSR_THRE); i++)
		__asm__ volatile("pause");
	outb(uart_port + UART_THR, (uint8_t)c);
}

void serial_write(const char *buf, size_t len)
{
	if (!uart_ready)
		serial_init(uart_port, 115200);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			serial_putc('\r');
		serial_putc(buf[i]);
	}
}

/* What the UART has received, without waiting: up to len bytes. */
size_t serial_read(char *buf, size_t len)
{
	size_t n = 0;
	if (!uart_ready)
		return 0;
	for (uint8_t lsr; n < len && (lsr = inb(uart_port + UART_LSR)) != 0xFF && (lsr & 0x01);)
		buf[n++] = (char)inb(uart_port + UART_THR);          /* RBR: the same port as THR */
	/* LSR.DR says a byte waits; an LSR of 0xFF is no UART at all (nothing decodes the port). */
	return n;
}
