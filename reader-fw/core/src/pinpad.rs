//! The PIN pad: where each digit sits (shuffled from the device RNG for
//! every entry, so a watcher learns nothing from finger positions), and the
//! digits entered, which stay on the device until the host asks for the
//! VERIFY and are wiped then, on 取消, on any other screen and on timeout.

use rand_core::RngCore;
use zeroize::Zeroize;

/// Digits in a PIN.
pub const PIN_LEN: usize = 4;

/// Which digit each of the ten digit keys shows, in key order (row-major,
/// the bottom row's middle key last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout(pub [u8; 10]);

impl Layout {
    /// 1 2 3 / 4 5 6 / 7 8 9 / 0, the layout of a phone pad.
    pub const ORDERED: Layout = Layout([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);

    /// A uniform random permutation (Fisher–Yates with rejection sampling,
    /// so no digit is favoured) different from `previous`.
    pub fn shuffled<R: RngCore>(rng: &mut R, previous: &Layout) -> Layout {
        for _ in 0..8 {
            let mut keys = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9];
            for i in (1..keys.len()).rev() {
                let j = uniform_below(rng, i as u32 + 1) as usize;
                keys.swap(i, j);
            }
            if keys != previous.0 {
                return Layout(keys);
            }
        }
        // Eight equal draws in a row means a broken RNG; still never repeat.
        let mut keys = previous.0;
        keys.rotate_left(1);
        Layout(keys)
    }

    /// Whether every digit appears exactly once.
    pub fn is_permutation(&self) -> bool {
        let mut seen = [false; 10];
        for d in self.0 {
            match seen.get_mut(usize::from(d)) {
                Some(s) if !*s => *s = true,
                _ => return false,
            }
        }
        true
    }
}

fn uniform_below<R: RngCore>(rng: &mut R, n: u32) -> u32 {
    // Reject the top of the range that would bias the modulo.
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let v = rng.next_u32();
        if v < zone {
            return v % n;
        }
    }
}

/// Digits entered so far; wiped on drop and whenever [`Entry::wipe`] runs.
pub struct Entry {
    digits: [u8; PIN_LEN],
    count: usize,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            digits: [0; PIN_LEN],
            count: 0,
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl Entry {
    /// Adds a digit; `false` when four are already there.
    pub fn push(&mut self, digit: u8) -> bool {
        if self.count == PIN_LEN || digit > 9 {
            return false;
        }
        self.digits[self.count] = b'0' + digit;
        self.count += 1;
        true
    }

    /// 訂正: removes the last digit; `false` when empty.
    pub fn pop(&mut self) -> bool {
        if self.count == 0 {
            return false;
        }
        self.count -= 1;
        self.digits[self.count].zeroize();
        true
    }

    /// How many digits are in.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The four ASCII digits, once complete.
    pub fn complete(&self) -> Option<&[u8; PIN_LEN]> {
        (self.count == PIN_LEN).then_some(&self.digits)
    }

    /// Forgets every digit (volatile writes, not optimised away).
    pub fn wipe(&mut self) {
        self.digits.zeroize();
        self.count = 0;
    }

    #[cfg(test)]
    pub(crate) fn raw(&self) -> [u8; PIN_LEN] {
        self.digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use myna_hal::sim::SeededRng;

    #[test]
    fn layouts_are_permutations_and_never_repeat_back_to_back() {
        let mut rng = SeededRng::new(7);
        let mut previous = Layout::ORDERED;
        let mut counts = [[0u32; 10]; 10];
        for _ in 0..20_000 {
            let next = Layout::shuffled(&mut rng, &previous);
            assert!(next.is_permutation(), "{next:?}");
            assert_ne!(next, previous);
            for (key, digit) in next.0.iter().enumerate() {
                counts[key][usize::from(*digit)] += 1;
            }
            previous = next;
        }
        // Every digit lands on every key about 2,000 times (uniform).
        for key in counts {
            for n in key {
                assert!((1_700..2_300).contains(&n), "{counts:?}");
            }
        }
    }

    #[test]
    fn a_stuck_rng_still_gives_a_new_permutation() {
        struct Stuck;
        impl RngCore for Stuck {
            fn next_u32(&mut self) -> u32 {
                0
            }
            fn next_u64(&mut self) -> u64 {
                0
            }
            fn fill_bytes(&mut self, d: &mut [u8]) {
                d.fill(0)
            }
            fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
                d.fill(0);
                Ok(())
            }
        }
        let first = Layout::shuffled(&mut Stuck, &Layout::ORDERED);
        let second = Layout::shuffled(&mut Stuck, &first);
        assert_ne!(first, second);
        assert!(second.is_permutation());
    }

    #[test]
    fn entry_takes_four_digits_corrects_and_wipes() {
        let mut e = Entry::default();
        for d in [1, 2, 3] {
            assert!(e.push(d));
        }
        assert!(e.complete().is_none());
        assert!(e.pop());
        assert_eq!(e.raw(), *b"12\0\0");
        for d in [9, 8] {
            assert!(e.push(d));
        }
        assert!(!e.push(7), "a fifth digit is refused");
        assert_eq!(e.complete(), Some(b"1298"));
        e.wipe();
        assert_eq!(e.raw(), [0; 4]);
        assert_eq!(e.count(), 0);
        assert!(!e.pop());
    }
}
