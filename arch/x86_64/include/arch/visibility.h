/*
 * Forced into every image compilation unit (-include): all symbols are
 * hidden, so -fpie code reaches them RIP-relative with no GOT. The image
 * runs at 0xFFFF82D080200000, outside both the small and the kernel code
 * model; position-independent code with direct references is the cheapest
 * way to address it (Xen builds its x86-64 image the same way).
 */
#pragma GCC visibility push(hidden)
