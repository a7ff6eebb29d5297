//! tatum-kms command line. Being written.
