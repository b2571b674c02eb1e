#pragma once
// The ledger's error codes. SQLite's exceptions never leave the store; callers see these.

#include <type_traits>

#include <boost/system/error_code.hpp>

namespace cobrador::store {

enum class Errc {
    /// The database file could not be opened or created (path, permissions).
    kCannotOpen = 1,
    /// The file was written by a newer cobrador; this binary will not touch it.
    kSchemaTooNew,
    /// The schema is older than this binary; run `cobrador migrate`.
    kNotMigrated,
    /// Another writer held the database past the busy timeout; try again later.
    kBusy,
    /// The disk is full or an I/O error happened; nothing was committed.
    kIo,
    /// The file is not a database or is damaged.
    kCorrupt,
    /// A write broke a rule of the schema (unique key, foreign key, check).
    kConstraint,
    /// Any other database failure.
    kInternal,
    /// The operation exists only for SQLite ledgers (backup).
    kUnsupported,
    /// Another sender took this outbox row over when its lease ran out; nothing was recorded.
    kLeaseLost,
    /// The SQLite file does not exist (and was not to be created); `cobrador migrate` creates it.
    kMissing,
};

const boost::system::error_category& LedgerCategory();

inline boost::system::error_code make_error_code(Errc e) {
    return {static_cast<int>(e), LedgerCategory()};
}

}  // namespace cobrador::store

template <>
struct boost::system::is_error_code_enum<cobrador::store::Errc> : std::true_type {};
