/* common: the one header through which rxlog uses C11 atomics.
 * Any thread; these are inline wrappers with the ordering in the name.
 *
 * Rule (STYLE.md): every call site names its ordering and its partner in a
 * comment, e.g. "R1: release; publishes end. Pairs with A1 in ...". There is
 * no implicit seq_cst anywhere: rxl_fence_sc() is the only full barrier and
 * each use says which Dekker pair it orders.
 */
#ifndef RXL_ATOMIC_H
#define RXL_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#define RXL_CACHE_LINE 64
#define RXL_ALIGN_CL _Alignas(RXL_CACHE_LINE)

#define rxl_load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define rxl_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define rxl_store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define rxl_store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define rxl_add_release(p, v) atomic_fetch_add_explicit((p), (v), memory_order_release)
#define rxl_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define rxl_sub_relaxed(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)
#define rxl_fence_acquire() atomic_thread_fence(memory_order_acquire)
#define rxl_fence_release() atomic_thread_fence(memory_order_release)
#define rxl_fence_sc() atomic_thread_fence(memory_order_seq_cst)

#endif
