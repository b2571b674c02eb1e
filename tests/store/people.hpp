#pragma once
// Agents for the store tests.

#include <string>

#include <catch2/catch.hpp>

#include "store/ledger.hpp"

namespace cobrador::testing {

// A new agent of `role`, added at `now`; the token hash is the name's first letter, 64 times.
inline store::Agent NewAgent(store::Ledger& ledger,
                             const std::string& name,
                             dialogs::Role role,
                             const std::string& now) {
    const auto id = ledger.AddAgent(name,
                                    role == dialogs::Role::kSupervisor ? "supervisor" : "collector",
                                    std::string(64, name.front()),
                                    now);
    REQUIRE(id);
    return {*id, name, role, now, false, std::nullopt, std::nullopt};
}

}  // namespace cobrador::testing
