#pragma once

#include <span>

namespace cobrador::store {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

// Every migration, oldest first; versions are 1, 2, 3, ... with no gaps.
std::span<const Migration> Migrations();

}  // namespace cobrador::store
