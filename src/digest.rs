//! The one content digest herald uses: stable 128-bit XXH3, for ETags,
//! body checks, event versions and message ids. A leaf: it depends on
//! nothing in the crate, so the snapshot and push layers need not import
//! the article model to hash bytes.

/// A stable 128-bit digest (XXH3) of `bytes`, the same on every run and
/// machine.
pub fn digest(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}
