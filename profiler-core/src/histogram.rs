//! Log-linear latency histograms with bounded memory and ≤ 1/128 relative error per value.
//!
//! Values below 128 get a bucket each. Above that, every power of two `[2^e, 2^(e+1))` is cut
//! into 64 equal buckets, so a bucket is at most 1/64 of its lower bound wide and its midpoint
//! lies within 1/128 of every value in it. The whole `u64` range needs 3,776 buckets; the
//! recording side ([`AtomicHistogram`]) allocates them 64 at a time, only for the powers of two
//! a stage actually hits, and the reporting side ([`Histogram`]) keeps only non-zero buckets.

#![allow(unsafe_code)] // Block pointers: see the safety argument on `AtomicHistogram`.

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

/// Buckets per power of two, as a power of two.
const SUB_BITS: u32 = 6;
const SUB: usize = 1 << SUB_BITS;
/// Number of 64-bucket groups needed to cover `u64`.
const GROUPS: usize = 64 - SUB_BITS as usize + 1;
/// Number of buckets covering `u64`.
pub const BUCKETS: usize = GROUPS * SUB;

/// The bucket a value falls into.
#[inline]
#[must_use]
pub fn bucket_of(value: u64) -> usize {
    if value < (2 * SUB) as u64 {
        return value as usize;
    }
    let exponent = value.ilog2();
    let group = (exponent - SUB_BITS + 1) as usize;
    let sub = (value >> (exponent - SUB_BITS)) as usize & (SUB - 1);
    group * SUB + sub
}

/// The smallest value of a bucket.
#[must_use]
pub fn bucket_lower(bucket: usize) -> u64 {
    let (group, sub) = (bucket / SUB, (bucket % SUB) as u64);
    if group == 0 { sub } else { (SUB as u64 + sub) << (group - 1) }
}

/// How many values a bucket spans.
#[must_use]
pub fn bucket_width(bucket: usize) -> u64 {
    let group = bucket / SUB;
    if group == 0 { 1 } else { 1 << (group - 1) }
}

/// The value reported for a bucket: its midpoint, within 1/128 of every value in it.
#[must_use]
pub fn bucket_value(bucket: usize) -> u64 {
    bucket_lower(bucket) + bucket_width(bucket) / 2
}

/// One group of 64 adjacent buckets.
type Block = [AtomicU64; SUB];

/// The block one writer last recorded into (see [`BlockCache::try_record`]).
/// Owner-only data in atomics because it lives in shared nodes; no other thread reads it.
pub(crate) struct BlockCache {
    /// The cached block's group, or `usize::MAX` (no group) while `block` is unset.
    group: AtomicUsize,
    block: AtomicPtr<Block>,
}

impl Default for BlockCache {
    fn default() -> Self {
        Self { group: AtomicUsize::new(usize::MAX), block: AtomicPtr::new(ptr::null_mut()) }
    }
}

impl BlockCache {
    /// Records one value in the histogram `histogram` returns, if its block exists; `false`
    /// when the block must be allocated first (see [`AtomicHistogram::record_allocating`], which
    /// the caller guards) or there is no histogram (nothing is recorded). Owner only.
    ///
    /// A value in the same power of two as the cached block's needs neither the histogram nor
    /// the load of its block pointer: that load would sit on the chain of dependent loads that
    /// follows every end stamp, which the next call's fenced end stamp waits for.
    ///
    /// # Safety
    /// `histogram` returns the same histogram (or `None`) every time this cache is used, and
    /// that histogram outlives the cache: the cache keeps a pointer to one of its blocks.
    #[inline(always)]
    pub(crate) unsafe fn try_record<'a>(
        &self,
        value: u64,
        histogram: impl FnOnce() -> Option<&'a AtomicHistogram>,
    ) -> bool {
        let bucket = bucket_of(value);
        let block = if self.group.load(Relaxed) == bucket / SUB {
            // SAFETY: `block` was stored below for this group, from the one histogram this
            // cache serves (the caller's promise), whose blocks live as long as it does.
            unsafe { &*self.block.load(Relaxed) }
        } else {
            let Some(block) = histogram().and_then(|histogram| histogram.block(bucket / SUB)) else { return false };
            self.block.store(ptr::from_ref(block).cast_mut(), Relaxed);
            self.group.store(bucket / SUB, Relaxed);
            block
        };
        let cell = &block[bucket % SUB];
        cell.store(cell.load(Relaxed) + 1, Relaxed);
        true
    }
}

/// The recording side: written by one thread, read by any thread at any time.
///
/// The writer uses plain relaxed load-and-store (not read-modify-write, which would cost a
/// locked instruction): only the owning thread writes, so no increment is lost.
///
/// Blocks are published through `AtomicPtr`s rather than `OnceLock`s, which saves the hot path
/// one dependent load. Safety argument: a non-null pointer in `blocks` comes from
/// `Box::into_raw` in [`Self::record_allocating`], is stored once (with `Release`, loaded with
/// `Acquire` by readers on other threads) and is freed only in `Drop`, when no reference to
/// the histogram remains; so every dereference in [`Self::block`] sees a live block.
pub(crate) struct AtomicHistogram {
    blocks: [AtomicPtr<Block>; GROUPS],
    /// Bit `g` set once block `g` exists, so readers visit only the blocks there are (a
    /// snapshot of thousands of stages would otherwise touch every slot of every histogram).
    allocated: AtomicU64,
}

impl Drop for AtomicHistogram {
    fn drop(&mut self) {
        for block in &mut self.blocks {
            let block = *block.get_mut();
            if !block.is_null() {
                // SAFETY: from `Box::into_raw`, freed only here (type-level safety argument).
                drop(unsafe { Box::from_raw(block) });
            }
        }
    }
}

impl AtomicHistogram {
    pub(crate) fn new() -> Self {
        Self { blocks: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())), allocated: AtomicU64::new(0) }
    }

    /// The block of a group, if allocated.
    #[inline(always)]
    fn block(&self, group: usize) -> Option<&Block> {
        // SAFETY: see the type's safety argument.
        unsafe { self.blocks[group].load(Acquire).cast_const().as_ref() }
    }

    /// Records one value, allocating its block (64 counters) on first use. Owner only.
    #[cold]
    pub(crate) fn record_allocating(&self, value: u64) {
        let bucket = bucket_of(value);
        let group = bucket / SUB;
        if self.block(group).is_none() {
            let block: Box<Block> = Box::new(std::array::from_fn(|_| AtomicU64::new(0)));
            self.blocks[group].store(Box::into_raw(block), Release);
            self.allocated.fetch_or(1 << group, Release);
        }
        let block = self.block(group).expect("allocated above");
        let cell = &block[bucket % SUB];
        cell.store(cell.load(Relaxed) + 1, Relaxed);
    }

    /// The groups whose block exists, in increasing order.
    fn allocated_groups(&self) -> impl Iterator<Item = usize> {
        let mut bits = self.allocated.load(Acquire);
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let group = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                group
            })
        })
    }

    /// Zeroes every counter; called by the owning thread only.
    pub(crate) fn clear(&self) {
        for block in self.allocated_groups().filter_map(|group| self.block(group)) {
            for cell in block {
                cell.store(0, Relaxed);
            }
        }
    }

    /// Adds this histogram's counts to `into`, with every value multiplied by `scale`
    /// (ticks to nanoseconds). Each bucket moves whole, by its midpoint.
    pub(crate) fn add_scaled_to(&self, into: &mut Histogram, scale: f64) {
        for group in self.allocated_groups() {
            let Some(block) = self.block(group) else { continue };
            for (sub, cell) in block.iter().enumerate() {
                let count = cell.load(Relaxed);
                if count > 0 {
                    let value = bucket_value(group * SUB + sub) as f64 * scale;
                    into.record_n(value.round() as u64, count);
                }
            }
        }
    }
}

/// A mergeable latency histogram: the non-zero buckets, sorted by bucket index.
///
/// ```
/// use profiler_core::Histogram;
/// let mut h = Histogram::default();
/// for v in 1..=1000 { h.record(v * 1000); }
/// let p50 = h.quantile(0.5);
/// assert!((p50 as f64 - 500_000.0).abs() / 500_000.0 < 0.01);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    buckets: Vec<(u16, u64)>,
}

impl Histogram {
    /// Records one value.
    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Records `count` copies of a value.
    pub fn record_n(&mut self, value: u64, count: u64) {
        if count == 0 {
            return;
        }
        let bucket = bucket_of(value) as u16;
        match self.buckets.binary_search_by_key(&bucket, |&(b, _)| b) {
            Ok(i) => self.buckets[i].1 = self.buckets[i].1.saturating_add(count),
            Err(i) => self.buckets.insert(i, (bucket, count)),
        }
    }

    /// Adds every count of `other` to this histogram. A bucket's count saturates at `u64::MAX`.
    pub fn merge(&mut self, other: &Histogram) {
        let mut merged = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (self.buckets.iter().peekable(), other.buckets.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(ka, ca)), Some(&&(kb, cb))) => match ka.cmp(&kb) {
                    std::cmp::Ordering::Less => {
                        a.next();
                        (ka, ca)
                    }
                    std::cmp::Ordering::Greater => {
                        b.next();
                        (kb, cb)
                    }
                    std::cmp::Ordering::Equal => {
                        a.next();
                        b.next();
                        (ka, ca.saturating_add(cb))
                    }
                },
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&x)) => {
                    b.next();
                    x
                }
                (None, None) => break,
            };
            merged.push(next);
        }
        self.buckets = merged;
    }

    /// Adds every count of `other` with its values multiplied by `scale`; each bucket moves
    /// whole, by its midpoint (used to turn clock ticks into nanoseconds).
    pub fn merge_scaled(&mut self, other: &Histogram, scale: f64) {
        for &(bucket, count) in &other.buckets {
            self.record_n((bucket_value(bucket as usize) as f64 * scale).round() as u64, count);
        }
    }

    /// Number of recorded values, at most `u64::MAX` (which only merged histograms of damaged
    /// profiles exceed).
    #[must_use]
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&(_, c)| c).fold(0, u64::saturating_add)
    }

    /// Whether nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The nearest-rank quantile `q` in `[0, 1]`: the value of rank `ceil(q·n)`, reported as its
    /// bucket's midpoint (within 1/128 of the exact order statistic). Zero when empty.
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0u64;
        for &(bucket, count) in &self.buckets {
            seen = seen.saturating_add(count);
            if seen >= rank {
                return bucket_value(bucket as usize);
            }
        }
        bucket_value(self.buckets.last().map_or(0, |&(b, _)| b as usize))
    }

    /// Mean of the bucket midpoints.
    #[must_use]
    pub fn mean(&self) -> f64 {
        let total = self.count();
        if total == 0 {
            return 0.0;
        }
        self.buckets.iter().map(|&(b, c)| bucket_value(b as usize) as f64 * c as f64).sum::<f64>() / total as f64
    }

    /// Population standard deviation of the bucket midpoints.
    #[must_use]
    pub fn stdev(&self) -> f64 {
        let total = self.count();
        if total < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let squares: f64 = self
            .buckets
            .iter()
            .map(|&(b, c)| {
                let d = bucket_value(b as usize) as f64 - mean;
                d * d * c as f64
            })
            .sum();
        (squares / total as f64).sqrt()
    }

    /// The non-zero buckets as `(bucket index, count)`, sorted by index: the compact form
    /// saved in JSON profiles. Bucket `i` spans [`bucket_lower`]`(i)` to `+`[`bucket_width`]`(i)`.
    #[must_use]
    pub fn buckets(&self) -> &[(u16, u64)] {
        &self.buckets
    }

    /// Rebuilds a histogram from its compact form.
    ///
    /// # Errors
    /// A bucket index out of range, a zero count, indices not strictly increasing, or counts
    /// that add up to more than `u64::MAX`.
    pub fn from_buckets(buckets: Vec<(u16, u64)>) -> Result<Self, String> {
        for pair in buckets.windows(2) {
            if pair[0].0 >= pair[1].0 {
                return Err(format!("histogram buckets not strictly increasing at index {}", pair[1].0));
            }
        }
        if let Some(&(bucket, _)) = buckets.iter().find(|&&(b, _)| b as usize >= BUCKETS) {
            return Err(format!("histogram bucket {bucket} out of range (at most {})", BUCKETS - 1));
        }
        if buckets.iter().any(|&(_, c)| c == 0) {
            return Err("histogram bucket with a zero count".to_owned());
        }
        // `count` and `quantile` add the counts up in a u64.
        if buckets.iter().try_fold(0u64, |total, &(_, c)| total.checked_add(c)).is_none() {
            return Err(format!("histogram counts add up to more than {}", u64::MAX));
        }
        Ok(Self { buckets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_u64_range_without_gaps() {
        assert_eq!(bucket_of(0), 0);
        for bucket in 0..BUCKETS - 1 {
            let next = bucket_lower(bucket) + bucket_width(bucket);
            assert_eq!(next, bucket_lower(bucket + 1), "gap after bucket {bucket}");
            assert_eq!(bucket_of(bucket_lower(bucket)), bucket);
            assert_eq!(bucket_of(next - 1), bucket);
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn every_value_is_within_one_128th_of_its_bucket_value() {
        let mut v = 1u64;
        while v < u64::MAX / 3 {
            for probe in [v, v + v / 3, v * 2 - 1] {
                let rep = bucket_value(bucket_of(probe)) as f64;
                let err = (rep - probe as f64).abs() / probe as f64;
                assert!(err <= 1.0 / 128.0 + 1e-12, "value {probe}: error {err}");
            }
            v = v * 2 + 1;
        }
    }

    #[test]
    fn quantiles_are_within_two_percent_of_exact_order_statistics() {
        // A skewed distribution: mostly fast, a long tail.
        let mut values: Vec<u64> =
            (0..20_000u64).map(|i| 200 + (i * i) % 7919 + if i % 97 == 0 { 1_000_000 } else { 0 }).collect();
        let mut h = Histogram::default();
        for &v in &values {
            h.record(v);
        }
        values.sort_unstable();
        for q in [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let exact = values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1] as f64;
            let got = h.quantile(q) as f64;
            assert!((got - exact).abs() / exact <= 0.02, "q={q}: got {got}, exact {exact}");
        }
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let (mut a, mut b, mut all) = (Histogram::default(), Histogram::default(), Histogram::default());
        for v in 0..5000u64 {
            let x = v * 37 % 100_003;
            if v % 3 == 0 {
                a.record(x);
            } else {
                b.record(x);
            }
            all.record(x);
        }
        a.merge(&b);
        assert_eq!(a, all);
        assert_eq!(a.count(), 5000);
        let mut huge = Histogram::from_buckets(vec![(5, u64::MAX - 1)]).unwrap();
        huge.merge(&Histogram::from_buckets(vec![(5, 2)]).unwrap());
        huge.merge(&Histogram::from_buckets(vec![(200, u64::MAX)]).unwrap());
        assert_eq!(huge.buckets(), [(5, u64::MAX), (200, u64::MAX)]);
        // More than a u64 counts in all: the count saturates, and so do the ranks of quantiles.
        assert_eq!(huge.count(), u64::MAX);
        assert_eq!((huge.quantile(0.5), huge.quantile(1.0)), (5, 5));
        assert!(huge.mean().is_finite() && huge.stdev().is_finite());
    }

    #[test]
    fn compact_form_round_trips_and_rejects_bad_input() {
        let mut h = Histogram::default();
        h.record_n(12_345, 3);
        h.record(7);
        let back = Histogram::from_buckets(h.buckets().to_vec()).unwrap();
        assert_eq!(back, h);
        assert!(Histogram::from_buckets(vec![(5, 1), (5, 1)]).is_err());
        assert!(Histogram::from_buckets(vec![(BUCKETS as u16, 1)]).is_err());
        assert!(Histogram::from_buckets(vec![(5, 0)]).is_err());
        assert_eq!(
            Histogram::from_buckets(vec![(5, u64::MAX), (6, 1)]),
            Err("histogram counts add up to more than 18446744073709551615".to_owned())
        );
        assert_eq!(Histogram::from_buckets(vec![(5, u64::MAX)]).map(|h| h.count()), Ok(u64::MAX));
    }

    #[test]
    fn atomic_histogram_scales_ticks_into_nanoseconds() {
        let (h, cache) = (AtomicHistogram::new(), BlockCache::default());
        for v in [1000u64, 1000, 2000, 4000] {
            // SAFETY: the cache serves `h` only, which outlives it.
            if !unsafe { cache.try_record(v, || Some(&h)) } {
                h.record_allocating(v);
            }
        }
        let mut out = Histogram::default();
        h.add_scaled_to(&mut out, 0.5);
        assert_eq!(out.count(), 4);
        let p50 = out.quantile(0.5) as f64;
        assert!((p50 - 500.0).abs() / 500.0 < 0.02, "{p50}");
        h.clear();
        let mut empty = Histogram::default();
        h.add_scaled_to(&mut empty, 1.0);
        assert!(empty.is_empty());
    }

    #[test]
    fn the_block_cache_follows_the_values_and_loses_no_count() {
        let (h, cache) = (AtomicHistogram::new(), BlockCache::default());
        // Hits, misses to allocated and to missing blocks, small and large values.
        let values = [1000u64, 1000, 2000, 1001, 4000, 5, 1000, 70_000, 2000, 5, 1 << 40];
        let mut allocated = 0;
        for v in values {
            // SAFETY: as above.
            if !unsafe { cache.try_record(v, || Some(&h)) } {
                h.record_allocating(v);
                allocated += 1;
            }
        }
        assert_eq!(allocated, 6, "one allocation per power-of-two group first seen");
        let mut recorded = Histogram::default();
        h.add_scaled_to(&mut recorded, 1.0);
        let mut expected = Histogram::default();
        for v in values {
            expected.record(bucket_value(bucket_of(v)));
        }
        assert_eq!(recorded, expected);
        // Without a histogram (the root node) nothing is recorded.
        // SAFETY: a cache that never sees a histogram holds no block.
        assert!(!unsafe { BlockCache::default().try_record(10, || None) });
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let h = Histogram::default();
        assert_eq!((h.quantile(0.5), h.count()), (0, 0));
        assert!(h.mean() == 0.0 && h.stdev() == 0.0);
    }
}
