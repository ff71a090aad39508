//! Parallel helpers on bevy's compute pool. Each splits work into one contiguous part per
//! thread and keeps results in index order, so no result depends on the thread count.

/// Create the compute task pool that `par_iter` runs on, with `threads` threads (default:
/// all cores). The first call wins; later calls keep the existing pool.
pub fn init_task_pool(threads: Option<usize>) -> usize {
    let pool = bevy_tasks::ComputeTaskPool::get_or_init(|| {
        let n =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        bevy_tasks::TaskPoolBuilder::new().num_threads(n).build()
    });
    pool.thread_num()
}

/// Run `f` on one contiguous part of `items` per compute thread, passing the index of the
/// part's first item. Every item is in exactly one part, so work keyed by index (a household
/// id, a dwelling id) splits across threads without changing any result.
pub fn par_parts_mut<T: Send>(mut items: &mut [T], f: impl Fn(usize, &mut [T]) + Send + Sync) {
    use bevy_tasks::ParallelSliceMut;
    let (pool, size) = parts_of(items.len());
    items.par_chunk_map_mut(pool, size, |k, part| f(k * size, part));
}

/// A vector of `f(0)`, …, `f(n - 1)`, made split across the compute threads: each thread
/// writes, and so first touches, its own part of the new memory (first touches of fresh
/// pages are a large part of building a big vector).
pub fn par_collect<T: Send>(n: usize, f: impl Fn(usize) -> T + Send + Sync) -> Vec<T> {
    let mut items = Vec::with_capacity(n);
    par_parts_mut(&mut items.spare_capacity_mut()[..n], |first, part| {
        for (j, slot) in part.iter_mut().enumerate() {
            slot.write(f(first + j));
        }
    });
    // SAFETY: `par_parts_mut` hands every index below `n` to exactly one part, and each part
    // wrote every slot it was given. (If `f` panics, the panic leaves here before this line,
    // and the vector drops with no items.)
    unsafe { items.set_len(n) };
    items
}

/// Run `a` and `b` at once (`b` on a thread of its own) when the compute pool has more than
/// one thread, else one after the other. For steps that do not depend on each other: each
/// must draw from streams of its own, so the results do not depend on which way they ran.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if bevy_tasks::ComputeTaskPool::get().thread_num() > 1 {
        std::thread::scope(|s| {
            let b = s.spawn(b);
            let a = a();
            (a, b.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        })
    } else {
        (a(), b())
    }
}

/// Sort `items`: one part per compute thread sorted at once, then the sorted parts merged.
/// With no two items equal (the callers sort by a unique key) the result is the one order,
/// whatever the thread count.
pub fn par_sort<T: Ord + Copy + Send>(items: &mut Vec<T>) {
    let (_, size) = parts_of(items.len());
    par_parts_mut(items, |_, part| part.sort_unstable());
    let mut merged = Vec::with_capacity(items.len());
    let mut run = size;
    while run < items.len() {
        merged.clear();
        for pair in items.chunks(2 * run) {
            let (mut a, mut b) = pair.split_at(run.min(pair.len()));
            while let (Some(x), Some(y)) = (a.first(), b.first()) {
                if y < x {
                    merged.push(*y);
                    b = &b[1..];
                } else {
                    merged.push(*x);
                    a = &a[1..];
                }
            }
            merged.extend_from_slice(a);
            merged.extend_from_slice(b);
        }
        std::mem::swap(items, &mut merged);
        run *= 2;
    }
}

/// `par_parts_mut` for reading only; each part's result, in the parts' order (so results
/// concatenated from them are in index order whatever the thread count).
pub fn par_parts<T: Sync, R: Send + 'static>(
    items: &[T],
    f: impl Fn(usize, &[T]) -> R + Send + Sync,
) -> Vec<R> {
    use bevy_tasks::ParallelSlice;
    let (pool, size) = parts_of(items.len());
    items.par_chunk_map(pool, size, |k, part| f(k * size, part))
}

/// The compute pool and the length of one part of `n` items per thread.
fn parts_of(n: usize) -> (&'static bevy_tasks::ComputeTaskPool, usize) {
    let pool = bevy_tasks::ComputeTaskPool::get();
    (pool, n.div_ceil(pool.thread_num().max(1)).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng;

    /// Every index is made once and lands at its place, whatever the split (the parts
    /// here do not divide the length evenly), and a part's results come back in order.
    #[test]
    fn par_collect_and_par_parts_keep_index_order() {
        init_task_pool(None);
        let made = par_collect(10_007, |i| (i as u64) * 3);
        assert_eq!(made, (0..10_007u64).map(|i| i * 3).collect::<Vec<_>>());
        let firsts: Vec<usize> = par_parts(&made, |first, part| {
            assert_eq!(part[0], first as u64 * 3);
            first
        });
        assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
        if bevy_tasks::ComputeTaskPool::get().thread_num() > 1 {
            assert!(firsts.len() > 1, "split into parts: {firsts:?}");
        }
        assert!(par_collect(0, |i| i).is_empty());
    }

    /// The parallel sort gives the sorted order, for lengths that split unevenly or not at
    /// all.
    #[test]
    fn par_sort_sorts() {
        init_task_pool(None);
        for n in [0usize, 1, 2, 3, 1000, 10_007] {
            let mut items: Vec<u64> = (0..n as u64).map(|i| rng::mix(i) % 1_000_000_007).collect();
            let mut expected = items.clone();
            expected.sort_unstable();
            par_sort(&mut items);
            assert_eq!(items, expected, "{n} items");
        }
    }
}
