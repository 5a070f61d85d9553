/* The hosted microbenchmark program: every bench/bench_*.c registers itself. */
#include "shim.h"

int main(int argc, char **argv)
{
	return bench_main(argc, argv);
}
