//! Parallel work on every core, the one way herald does it: a list of jobs
//! shared by one thread per core (this thread among them), each taking the
//! next job when done with one, so large and small jobs even out. Results
//! come back in the order of the jobs, and a job that panics makes the
//! caller panic with the same payload once every thread is joined, never
//! silently dropping that job's share of the work.
//!
//! Also [`lock`], for the mutexes such work shares, and
//! [`release_free_memory`], for the memory such work leaves behind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many threads parallel work uses: the cores available to herald.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `work` applied to every job, on up to [`threads`] threads; the results
/// in the order of `jobs`. With one job or one core, runs on this thread.
pub fn map<J: Sync, R: Send>(jobs: &[J], work: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let threads = threads().min(jobs.len());
    if threads <= 1 {
        return jobs.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(at) else { break };
            done.push((at, work(job)));
        }
        done
    };
    let mut numbered: Vec<(usize, R)> = on_threads(threads, worker).into_iter().flatten().collect();
    numbered.sort_unstable_by_key(|(at, _)| *at);
    numbered.into_iter().map(|(_, result)| result).collect()
}

/// Runs `work` on every job, on up to [`threads`] threads, until one fails:
/// then no thread starts another job, and the first error is returned.
pub fn try_for_each<J: Sync, E: Send>(jobs: &[J], work: impl Fn(&J) -> Result<(), E> + Sync) -> Result<(), E> {
    let threads = threads().min(jobs.len());
    if threads <= 1 {
        return jobs.iter().try_for_each(work);
    }
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<E>> = Mutex::new(None);
    let worker = || {
        while lock(&failed).is_none() {
            let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
            if let Err(e) = work(job) {
                lock(&failed).get_or_insert(e);
            }
        }
    };
    on_threads(threads, worker);
    match failed.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Locks `mutex`, also after a thread panicked holding it: the data is
/// still used (a panic in parallel work reaches the caller anyway, when the
/// threads are joined).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `worker` on `threads` threads, this one among them, and joins them
/// all: each one's result, this thread's first. If a worker panics, the
/// caller panics with its payload.
fn on_threads<R: Send>(threads: usize, worker: impl Fn() -> R + Sync) -> Vec<R> {
    let worker = &worker;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|_| scope.spawn(worker)).collect();
        let mut results = Vec::with_capacity(threads);
        results.push(worker());
        for handle in handles {
            results.push(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        results
    })
}

/// Gives the heap's free pages back to the operating system (glibc's
/// `malloc_trim`), in every thread's arena. The allocator keeps what a
/// burst of work freed (rendering a large site's archives on every core,
/// compressing its files) resident otherwise, for good: call it once such
/// a burst is over, never per request or per edit (it walks the whole
/// heap). Does nothing with another C library.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only takes the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_the_order_of_the_jobs() {
        let jobs: Vec<u64> = (0..1000).collect();
        // Uneven work, so the threads finish out of order.
        let squares = map(&jobs, |n| {
            if n % 7 == 0 {
                std::thread::yield_now();
            }
            n * n
        });
        assert_eq!(squares, jobs.iter().map(|n| n * n).collect::<Vec<_>>());
        assert!(map(&[] as &[u8], |n| *n).is_empty());
        assert_eq!(map(&[(); 3], |()| 1), vec![1, 1, 1], "zero-sized jobs");
    }

    #[test]
    fn try_for_each_runs_every_job_or_returns_the_error() {
        let jobs: Vec<usize> = (0..500).collect();
        let seen = Mutex::new(Vec::new());
        let ok: Result<(), String> = try_for_each(&jobs, |n| {
            lock(&seen).push(*n);
            Ok(())
        });
        assert!(ok.is_ok());
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, jobs);

        let failed = try_for_each(&jobs, |n| if *n == 250 { Err(format!("job {n}")) } else { Ok(()) });
        assert_eq!(failed, Err("job 250".to_string()));
    }

    #[test]
    fn a_panicking_job_reaches_the_caller_with_its_message() {
        let jobs: Vec<usize> = (0..64).collect();
        for panicking in [0, 63] {
            let outcome = std::panic::catch_unwind(|| {
                map(&jobs, |n| {
                    assert!(*n != panicking, "job {n} broke");
                    *n
                })
            });
            let payload = outcome.expect_err("the panic reaches the caller");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            assert_eq!(message, format!("job {panicking} broke"));
        }
    }

    #[test]
    fn lock_recovers_a_poisoned_mutex() {
        let mutex = Mutex::new(1);
        let _ = std::panic::catch_unwind(|| {
            let _guard = mutex.lock().unwrap();
            panic!("poison");
        });
        assert!(mutex.is_poisoned());
        *lock(&mutex) += 1;
        assert_eq!(*lock(&mutex), 2);
    }

    /// Memory a finished burst of work on another thread freed is given
    /// back: the resident size drops.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_is_given_back() {
        fn resident() -> u64 {
            let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
            statm.split(' ').nth(1).unwrap().parse::<u64>().unwrap() * 4096
        }
        const TOTAL: usize = 512 << 20;
        // Small blocks in a thread's own arena, all freed but the last
        // (which keeps the arena from shrinking by itself).
        let kept = std::thread::spawn(|| {
            let mut blocks: Vec<Vec<u8>> = (0..TOTAL / 4096).map(|i| vec![i as u8; 4000]).collect();
            let last = blocks.pop();
            drop(blocks);
            last
        })
        .join()
        .unwrap();
        let before = resident();
        release_free_memory();
        let after = resident();
        assert!(before > after + (TOTAL as u64) / 2, "resident {before} bytes, then {after}");
        drop(kept);
    }
}
