#include "support/temp_dir.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <libpq-fe.h>
#include <unistd.h>

namespace cobrador::testing {

TempDir::TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "cobrador-test-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = buffer.data();
}

namespace {

// The test cluster's connection string without a database name.
std::string ClusterConninfo() {
    // COBRADOR_TEST_PG names another cluster; by default, the one CTest's pg.cluster fixture
    // starts for this build folder.
    const char* pg = std::getenv("COBRADOR_TEST_PG");
    return pg != nullptr && *pg != '\0' ? pg : COBRADOR_TEST_PG_DEFAULT;
}

// Runs one statement on the cluster's maintenance database.
void Admin(const std::string& sql) {
    PGconn* conn = PQconnectdb((ClusterConninfo() + " dbname=postgres").c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        const std::string message = PQerrorMessage(conn);
        PQfinish(conn);
        throw std::runtime_error("cannot reach the test cluster: " + message);
    }
    PGresult* result = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    const std::string message = PQresultErrorMessage(result);
    PQclear(result);
    PQfinish(conn);
    if (!ok) {
        throw std::runtime_error(sql + ": " + message);
    }
}

}  // namespace

bool OnPostgres() {
    const char* backend = std::getenv("COBRADOR_TEST_BACKEND");
    return backend != nullptr && std::string(backend) == "postgres";
}

const char* BackendName() {
    return OnPostgres() ? "postgres" : "sqlite";
}

std::string TempDir::Ledger(const std::string& name) {
    if (!OnPostgres()) {
        return File(name);
    }
    static std::atomic<int> counter{0};
    const std::string database = "t_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    Admin("CREATE DATABASE " + database);
    databases_.push_back(database);
    return ClusterConninfo() + " dbname=" + database;
}

TempDir::~TempDir() {
    for (const std::string& database : databases_) {
        try {
            Admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        } catch (...) {  // NOLINT(bugprone-empty-catch): the cluster goes at the end anyway
        }
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
    const std::string file = File(name);
    std::ofstream(file, std::ios::binary) << content;
    return file;
}

}  // namespace cobrador::testing
