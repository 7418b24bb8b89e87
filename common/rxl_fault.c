/* common: numbered fault-injection sites.
 * Any thread. Only compiled in with -Dfault_injection=true.
 */
#include "rxl_fault.h"

#ifdef RXL_FAULT_INJECTION

#include "rxl_atomic.h"

static _Atomic uint32_t plan_kinds;
static _Atomic uint64_t plan_nth;
static _Atomic int plan_persistent;
static _Atomic int plan_err;
static _Atomic uint64_t hits;
static _Atomic uint64_t injected;
static _Atomic int suspended;

void rxl_fault_suspend(bool on)
{
	/* Relaxed: same contract as rxl_fault_arm(). */
	rxl_store_relaxed(&suspended, on ? 1 : 0);
}

void rxl_fault_arm(const struct rxl_fault_plan *plan)
{
	/* Relaxed throughout: arming happens while no I/O runs (documented
	 * contract), and thread creation/joins order it for tests. */
	rxl_store_relaxed(&plan_kinds, plan->kinds);
	rxl_store_relaxed(&plan_persistent, plan->persistent ? 1 : 0);
	rxl_store_relaxed(&plan_err, plan->err);
	rxl_store_relaxed(&hits, 0);
	rxl_store_relaxed(&injected, 0);
	rxl_store_relaxed(&plan_nth, plan->nth);
}

void rxl_fault_disarm(void)
{
	rxl_store_relaxed(&plan_nth, 0);
}

uint64_t rxl_fault_hits(void)
{
	return rxl_load_relaxed(&hits);
}

uint64_t rxl_fault_injected(void)
{
	return rxl_load_relaxed(&injected);
}

int rxl_fault_site(uint32_t kind)
{
	/* Relaxed: a counter; the hit number only has to be unique. */
	if (!(rxl_load_relaxed(&plan_kinds) & kind) || rxl_load_relaxed(&suspended))
		return 0;
	uint64_t n = rxl_add_relaxed(&hits, 1) + 1;
	uint64_t nth = rxl_load_relaxed(&plan_nth);

	if (nth == 0)
		return 0;
	if (n == nth || (n > nth && rxl_load_relaxed(&plan_persistent))) {
		rxl_add_relaxed(&injected, 1);
		return rxl_load_relaxed(&plan_err);
	}
	return 0;
}

#endif
