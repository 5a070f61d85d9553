#ifndef ARCH_X86_64_IMAGE_BENCH_H
#define ARCH_X86_64_IMAGE_BENCH_H

void image_bench_init(void);   /* register the interrupt handlers the benchmarks use */
void image_bench_run(void);    /* run them all, JSON lines on the console */

#endif
