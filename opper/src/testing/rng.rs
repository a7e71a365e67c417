//! The crate's one small deterministic random number generator, for the testing server's
//! generated values and for chunking a value at random places (there and in unit tests).

/// SplitMix64: small, fast and the same on every platform, so a seed always gives the same
/// values.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64().checked_rem(n).unwrap_or(0)
        }
    }

    /// [`below`](Self::below) for an index or a length: a number in `0..n` (0 when `n` is 0).
    pub(crate) fn below_usize(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n).unwrap_or(u64::MAX);
        // Below `n`, so it fits a `usize`; the fallback is never taken.
        usize::try_from(self.below(n64)).unwrap_or(0)
    }

    /// One of `items`, evenly (`None` when there are none).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let index = self.below_usize(items.len());
        items.get(index)
    }

    /// `true` or `false`, evenly.
    pub(crate) fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// A number in `lo..=hi` (`lo` when `hi <= lo`).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let next = self.next_u64();
        // `hi - lo + 1` values; all 2^64 of them (and so `next` as it is) when that overflows.
        let pick = hi
            .abs_diff(lo)
            .checked_add(1)
            .and_then(|span| next.checked_rem(span))
            .unwrap_or(next);
        // `pick <= hi - lo`, so `lo + pick <= hi`: the fallback is never taken.
        lo.checked_add_unsigned(pick).unwrap_or(hi)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    /// The values the previous `i128` arithmetic gave, so that a seed keeps its output.
    fn range_as_before(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi as i128 - lo as i128 + 1) as u128;
        let pick = (rng.next_u64() as u128) % span;
        (lo as i128 + pick as i128) as i64
    }

    #[test]
    fn range_stays_in_bounds_and_keeps_its_values() {
        let bounds = [
            (1, 12),
            (0, 59),
            (5, 5),
            (7, 3),
            (-100, 100),
            (i64::MIN, i64::MAX),
            (i64::MIN, 0),
            (0, i64::MAX),
            (i64::MAX - 1, i64::MAX),
            (i64::MIN, i64::MIN + 1),
        ];
        for (lo, hi) in bounds {
            let (mut a, mut b) = (Rng::new(7), Rng::new(7));
            for _ in 0..200 {
                let value = a.range(lo, hi);
                assert_eq!(value, range_as_before(&mut b, lo, hi), "{lo}..={hi}");
                assert!(
                    hi <= lo || (lo..=hi).contains(&value),
                    "{value} in {lo}..={hi}"
                );
            }
        }
    }

    #[test]
    fn below_and_pick() {
        let mut rng = Rng::new(3);
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below_usize(0), 0);
        assert_eq!(rng.pick::<u8>(&[]), None);
        for _ in 0..100 {
            assert!(rng.below(7) < 7);
            assert!(rng.below_usize(3) < 3);
            assert!([1, 2, 3].contains(rng.pick(&[1, 2, 3]).unwrap_or(&0)));
        }
    }
}
