//! An append-only array that never moves its elements: fixed-size segments allocated on first
//! use, so a reader on another thread can hold `&T` while the owner keeps growing it.

use std::sync::OnceLock;

/// Elements per segment.
const SEGMENT: usize = 256;

pub(crate) struct Arena<T> {
    segments: Box<[OnceLock<Box<[T]>>]>,
}

impl<T: Default> Arena<T> {
    /// An arena for up to `capacity` elements (rounded up to whole segments).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { segments: (0..capacity.div_ceil(SEGMENT)).map(|_| OnceLock::new()).collect() }
    }

    /// The element at `index` if its segment has been allocated.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.segments.get(index / SEGMENT)?.get().map(|segment| &segment[index % SEGMENT])
    }

    /// The element at `index`, allocating its segment if needed; `None` past the capacity.
    #[cold]
    pub(crate) fn get_or_allocate(&self, index: usize) -> Option<&T> {
        let segment = self.segments.get(index / SEGMENT)?;
        Some(&segment.get_or_init(|| (0..SEGMENT).map(|_| T::default()).collect())[index % SEGMENT])
    }

    /// Every element of every allocated segment, in index order (with gaps skipped).
    pub(crate) fn allocated(&self) -> impl Iterator<Item = (usize, &T)> {
        self.segments
            .iter()
            .enumerate()
            .filter_map(|(s, segment)| segment.get().map(|items| (s, items)))
            .flat_map(|(s, items)| items.iter().enumerate().map(move |(i, item)| (s * SEGMENT + i, item)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_exist_only_once_their_segment_is_allocated() {
        let arena: Arena<u32> = Arena::with_capacity(1000);
        assert!(arena.get(300).is_none());
        assert_eq!(arena.get_or_allocate(300), Some(&0));
        assert!(arena.get(256).is_some() && arena.get(255).is_none());
        assert!(arena.get_or_allocate(1024).is_none(), "past capacity");
        assert_eq!(arena.allocated().count(), SEGMENT);
    }
}
