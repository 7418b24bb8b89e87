/* bench: the C++ side of rxl_bench.h, forwarding to Google Benchmark.
 * Main thread: registration, rxl_bench_main() and, inside it, the bodies and their state calls.
 *
 * Nothing here may let a C++ exception reach the C callers: registration
 * turns std::bad_alloc into -ENOMEM, and the calls made from a running
 * body (which have no error return) abort on it like an always-on assert.
 */
#include "rxl_bench.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

/* The C handle: the library's state plus what is needed to check calls. */
struct rxl_bench_state {
	benchmark::State *st;
	int nargs;
};

/* Cases that reported an error, for rxl_bench_main()'s result. Plain int:
 * every body runs on the thread of rxl_bench_main() (A1). */
static int cases_failed;

[[noreturn]] static void die(const char *what)
{
	std::fprintf(stderr, "rxl_bench: %s\n", what);
	std::abort();
}

static benchmark::TimeUnit to_unit(enum rxl_bench_unit u)
{
	switch (u) {
	case RXL_BENCH_NS:
		return benchmark::kNanosecond;
	case RXL_BENCH_US:
		return benchmark::kMicrosecond;
	case RXL_BENCH_MS:
		return benchmark::kMillisecond;
	case RXL_BENCH_S:
		return benchmark::kSecond;
	case RXL_BENCH_UNIT_DEFAULT:
		break;
	}
	return benchmark::GetDefaultTimeUnit();
}

extern "C" int rxl_bench_register(const char *name, void (*fn)(struct rxl_bench_state *s),
				  const int64_t *args, int nargs, const struct rxl_bench_opts *opts)
{
	static const struct rxl_bench_opts defaults = {};

	if (!opts)
		opts = &defaults;
	if (!name || !*name || !fn || nargs < 0 || (nargs > 0 && !args) || opts->iterations < 0 ||
	    opts->min_time_s < 0)
		return -EINVAL;
	try {
		auto body = [fn, nargs](benchmark::State &st) {
			struct rxl_bench_state s = {&st, nargs};

			fn(&s);
		};
		benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name, body);

		if (nargs > 0) {
			b->Args(std::vector<int64_t>(args, args + nargs));
			if (opts->arg_names)
				b->ArgNames(std::vector<std::string>(opts->arg_names,
								     opts->arg_names + nargs));
		}
		if (opts->iterations > 0)
			b->Iterations(opts->iterations);
		if (opts->min_time_s > 0)
			b->MinTime(opts->min_time_s);
		if (opts->real_time)
			b->UseRealTime();
		if (opts->unit != RXL_BENCH_UNIT_DEFAULT)
			b->Unit(to_unit(opts->unit));
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
	return 0;
}

extern "C" int rxl_bench_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return -EINVAL;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return cases_failed ? -EIO : 0;
}

extern "C" bool rxl_bench_keep_running(struct rxl_bench_state *s)
{
	return s->st->KeepRunning();
}

extern "C" bool rxl_bench_keep_running_batch(struct rxl_bench_state *s, int64_t n)
{
	if (n <= 0)
		die("rxl_bench_keep_running_batch: n must be > 0");
	return s->st->KeepRunningBatch(n);
}

extern "C" int64_t rxl_bench_range(const struct rxl_bench_state *s, int i)
{
	if (i < 0 || i >= s->nargs)
		die("rxl_bench_range: index outside the registered arguments");
	return s->st->range(static_cast<std::size_t>(i));
}

extern "C" void rxl_bench_set_items(struct rxl_bench_state *s, int64_t items)
{
	try {
		s->st->SetItemsProcessed(items);
	} catch (const std::bad_alloc &) {
		die("out of memory");
	}
}

extern "C" void rxl_bench_set_bytes(struct rxl_bench_state *s, int64_t bytes)
{
	try {
		s->st->SetBytesProcessed(bytes);
	} catch (const std::bad_alloc &) {
		die("out of memory");
	}
}

extern "C" void rxl_bench_counter(struct rxl_bench_state *s, const char *name, double v)
{
	try {
		s->st->counters[name] = benchmark::Counter(v);
	} catch (const std::bad_alloc &) {
		die("out of memory");
	}
}

extern "C" void rxl_bench_rate(struct rxl_bench_state *s, const char *name, double total)
{
	try {
		s->st->counters[name] = benchmark::Counter(total, benchmark::Counter::kIsRate);
	} catch (const std::bad_alloc &) {
		die("out of memory");
	}
}

/* The library CHECK-fails (aborts) on a pause or resume after an error;
 * the no-op lets C bodies take one clean-up path whatever happened. */
extern "C" void rxl_bench_pause(struct rxl_bench_state *s)
{
	if (!s->st->error_occurred())
		s->st->PauseTiming();
}

extern "C" void rxl_bench_resume(struct rxl_bench_state *s)
{
	if (!s->st->error_occurred())
		s->st->ResumeTiming();
}

extern "C" void rxl_bench_skip_with_error(struct rxl_bench_state *s, const char *msg)
{
	if (s->st->error_occurred())
		return;
	cases_failed++;
	try {
		s->st->SkipWithError(msg);
	} catch (const std::bad_alloc &) {
		die("out of memory");
	}
}

extern "C" void rxl_bench_do_not_optimize(const void *p)
{
	benchmark::DoNotOptimize(p);
	benchmark::ClobberMemory();
}
