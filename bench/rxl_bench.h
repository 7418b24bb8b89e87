/* bench: a C face for Google Benchmark, so benchmarks are written in C.
 * Main thread: registration and rxl_bench_main(), which runs the bodies on the same thread (A1).
 *
 * A benchmark is a C function that loops while rxl_bench_keep_running()
 * says so and reports what it processed after the loop:
 *
 *	static void bm_copy(struct rxl_bench_state *s)
 *	{
 *		int64_t n = 0;
 *
 *		while (rxl_bench_keep_running(s)) {
 *			memcpy(dst, src, len);
 *			rxl_bench_do_not_optimize(dst);
 *			n++;
 *		}
 *		rxl_bench_set_bytes(s, n * len);
 *	}
 *
 * and main() registers the cases, then hands over:
 *
 *	int main(int argc, char **argv)
 *	{
 *		if (rxl_bench_register("copy", bm_copy, NULL, 0, NULL) < 0)
 *			return 1;
 *		return rxl_bench_main(argc, argv) < 0;
 *	}
 *
 * Registration may also run from __attribute__((constructor)) functions: the
 * library's registry is built on first use, so start-up order does not matter.
 *
 * Assumptions:
 *   A1 Google Benchmark runs every case on the thread that called
 *      rxl_bench_main(), one at a time (->Threads() is not offered): nothing
 *      here is made safe for concurrent bodies.
 *   A2 Rates (bytes, items, rxl_bench_rate()) are divided by the time the
 *      case is measured in: wall time with real_time set, else CPU time of
 *      the benchmark thread. I/O-bound cases must set real_time.
 */
#ifndef RXL_BENCH_H
#define RXL_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One running case (wraps benchmark::State). Owned by the body it is passed to. */
struct rxl_bench_state;

/** Time unit of the report ("Time" and "CPU" columns, "time_unit" in JSON). */
enum rxl_bench_unit {
	RXL_BENCH_UNIT_DEFAULT = 0, /* the library's (ns) */
	RXL_BENCH_NS,
	RXL_BENCH_US,
	RXL_BENCH_MS,
	RXL_BENCH_S,
};

/** How one case is run; all-zero is the library's defaults. */
struct rxl_bench_opts {
	const char *const *arg_names; /* nargs names: case "name/n0:a0/..." (NULL: "name/a0/...") */
	int64_t iterations;	      /* run exactly this many iterations (0: until min time) */
	double min_time_s;	      /* run at least this long (0: --benchmark_min_time) */
	bool real_time;		      /* measure wall time, not CPU time (A2) */
	enum rxl_bench_unit unit;
};

/**
 * Register a case: @fn run with the arguments @args[0..nargs), which it
 * reads with rxl_bench_range(). The case is named "<name>/<arg0>/<arg1>..."
 * (with opts->arg_names, "<name>/<name0>:<arg0>/..."), plus the library's
 * suffixes ("/iterations:N", "/real_time"); --benchmark_filter matches it.
 * Register the same @name again with other @args for more cases of one family.
 * @opts may be NULL (defaults). @name, @args and the names are copied.
 * Concurrency: before rxl_bench_main(), on one thread (or from constructors).
 * Returns: 0, -EINVAL (no name or function, nargs < 0, args NULL with
 * nargs > 0, negative iterations or min time), or -ENOMEM.
 */
int rxl_bench_register(const char *name, void (*fn)(struct rxl_bench_state *s), const int64_t *args,
		       int nargs, const struct rxl_bench_opts *opts);

/**
 * Parse the --benchmark_* options (the library's --help lists them), run
 * the registered cases that the filter selects and print the reports.
 * Concurrency: once, on the main thread, after registration.
 * Returns: 0; -EINVAL for an unrecognised argument (the library printed it);
 * -EIO when a case ran but reported an error (rxl_bench_skip_with_error());
 * the reports are written either way.
 */
int rxl_bench_main(int argc, char **argv);

/**
 * Start or continue the timed loop: true while the case should run one
 * more iteration. The timer runs from the first call until the call that
 * returns false. The body must not return while this says true, unless it
 * reported an error first.
 * Concurrency: the body's thread.
 * Returns: true to run one more iteration.
 */
bool rxl_bench_keep_running(struct rxl_bench_state *s);

/**
 * Like rxl_bench_keep_running(), but the body does @n (> 0) iterations'
 * worth of work per call; saves a call per iteration in nanosecond-scale
 * loops. The last batch may overshoot the library's target by up to n.
 * Concurrency: the body's thread.
 * Returns: true to run @n more iterations.
 */
bool rxl_bench_keep_running_batch(struct rxl_bench_state *s, int64_t n);

/**
 * Argument @i of this case, as registered. An index outside [0, nargs) is
 * a programming error: the process aborts with a message.
 * Concurrency: the body's thread.
 * Returns: the argument.
 */
int64_t rxl_bench_range(const struct rxl_bench_state *s, int i);

/**
 * Report that the case processed @items items in total over all iterations
 * ("items_per_second", a rate: A2).
 * Concurrency: the body's thread, after the loop.
 */
void rxl_bench_set_items(struct rxl_bench_state *s, int64_t items);

/**
 * Report that the case processed @bytes bytes in total over all iterations
 * ("bytes_per_second", a rate: A2).
 * Concurrency: the body's thread, after the loop.
 */
void rxl_bench_set_bytes(struct rxl_bench_state *s, int64_t bytes);

/**
 * Report a plain counter @name = @v (shown as is; the last value set wins).
 * Concurrency: the body's thread.
 */
void rxl_bench_counter(struct rxl_bench_state *s, const char *name, double v);

/**
 * Report a rate counter: @total over all iterations, divided by the
 * measured time (A2). Name it "<what>_per_second".
 * Concurrency: the body's thread.
 */
void rxl_bench_rate(struct rxl_bench_state *s, const char *name, double total);

/**
 * Stop the timer for untimed work inside an iteration (set-up, clean-up).
 * Costs a few clock reads: use it around work of milliseconds, not per record.
 * The timer must be running. A no-op once an error was reported.
 * Concurrency: the body's thread.
 */
void rxl_bench_pause(struct rxl_bench_state *s);

/**
 * Restart the timer stopped by rxl_bench_pause(). The timer must be
 * stopped. A no-op once an error was reported.
 * Concurrency: the body's thread.
 */
void rxl_bench_resume(struct rxl_bench_state *s);

/**
 * Mark the case failed with @msg (copied) and stop its timer. The report
 * shows the message instead of numbers. Afterwards the body may return at
 * once; a later rxl_bench_keep_running() returns false. Only the first
 * message of a case is kept; later calls are ignored.
 * Concurrency: the body's thread.
 */
void rxl_bench_skip_with_error(struct rxl_bench_state *s, const char *msg);

/**
 * Make the compiler assume the memory at @p is read here, so work that
 * produced it is not optimised away (benchmark::DoNotOptimize()).
 * Concurrency: any thread.
 */
void rxl_bench_do_not_optimize(const void *p);

#ifdef __cplusplus
}
#endif

#endif
