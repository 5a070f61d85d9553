/*
 * ASSERT: checks of Vireo's own invariants, on in the hosted builds and in
 * debug images (VIREO_ASSERTS), compiled out otherwise. Never for guest data:
 * a guest's bad input is an error return, not an assertion.
 */
#ifndef VIREO_ASSERT_H
#define VIREO_ASSERT_H

#include <vireo/compiler.h>
#include <vireo/printk.h>

#if VIREO_ASSERTS
#define ASSERT(cond) \
	do { \
		if (unlikely(!(cond))) \
			panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)
#else
#define ASSERT(cond) do { (void)sizeof(cond); } while (0)
#endif

#endif
