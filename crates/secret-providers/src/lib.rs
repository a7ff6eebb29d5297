//! Password sources. Being written.
