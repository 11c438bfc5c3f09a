//! [`StackStr`]: the small fixed-capacity string that screens build their
//! composed text in (dates, counts, a name with its honorific), no heap.

use core::fmt::Write;

/// A small string on the stack (dates, counts) for `core::fmt::Write`.
pub struct StackStr<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for StackStr<N> {
    fn default() -> Self {
        StackStr {
            bytes: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> StackStr<N> {
    /// The text so far.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    /// Appends, or fails when full (never a partial character).
    pub fn push(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        if end > N {
            return Err(core::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<const N: usize> Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push(s)
    }
}
