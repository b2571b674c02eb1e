#include "report_format.hpp"

#include <array>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"

namespace cobrador::bot {

namespace {

nlohmann::ordered_json KpisJson(const store::Kpis& k, bool money) {
    nlohmann::ordered_json j;
    if (money) {
        j["accounts"] = k.accounts;
        j["balance_outstanding"] = dialogs::FormatDecimalCents(k.balance_outstanding_cents);
        j["collected"] = dialogs::FormatDecimalCents(k.collected_cents);
        j["recovery_rate"] = std::round(k.RecoveryRate() * 10000) / 10000;
    }
    j["promises_made"] = k.promises_made;
    j["promises_kept"] = k.promises_kept;
    j["promises_broken"] = k.promises_broken;
    j["promise_kept_rate"] = std::round(k.PromiseKeptRate() * 10000) / 10000;
    j["promises_kept_late"] = k.promises_kept_late;
    j["plans_created"] = k.plans_created;
    j["plans_broken"] = k.plans_broken;
    j["references_issued"] = k.references_issued;
    j["escalations"] = k.escalations;
    j["escalated_conversations"] = k.escalated_conversations;
    j["opt_outs"] = k.opt_outs;
    j["conversations"] = k.conversations;
    j["verified_conversations"] = k.verified_conversations;
    return j;
}

std::string Rate(double rate) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(4) << rate;
    return text.str();
}

}  // namespace

// The columns, as programs read them and as a creditor's people read them.
constexpr std::array<std::pair<const char*, const char*>, 25> kColumns = {{
    {"scope", "ámbito"},
    {"key", "clave"},
    {"currency", "moneda"},
    {"accounts", "cuentas"},
    {"balance_outstanding", "saldo_pendiente"},
    {"collected", "cobrado"},
    {"recovery_rate", "tasa_de_recuperación"},
    {"promises_made", "promesas_hechas"},
    {"promises_kept", "promesas_cumplidas"},
    {"promises_broken", "promesas_incumplidas"},
    {"promise_kept_rate", "tasa_de_cumplimiento"},
    {"plans_created", "planes_creados"},
    {"references_issued", "referencias_entregadas"},
    {"escalations", "escalamientos"},
    {"opt_outs", "bajas"},
    {"conversations", "conversaciones"},
    {"verified_conversations", "conversaciones_verificadas"},
    {"promises_kept_late", "promesas_cumplidas_tarde"},
    {"plans_broken", "planes_incumplidos"},
    {"escalated_conversations", "conversaciones_escaladas"},
    // Each person's work (scope "agent", key their id; their kept promises' amount under
    // "collected").
    {"agent_name", "nombre"},
    {"claimed", "tomadas"},
    {"handed_out", "asignadas_por_turno"},
    {"closed", "cerradas"},
    {"messages_sent", "mensajes_enviados"},
}};

namespace {

// A text cell: quoted when it holds a comma, quote or line break, and never read as a formula by
// a spreadsheet (a leading =, +, -, @, tab or carriage return gets an apostrophe first).
std::string CsvText(std::string_view text) {
    std::string cell;
    if (!text.empty() &&
        std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) {
        cell = "'";
    }
    cell += text;
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
        return cell;
    }
    std::string quoted = "\"";
    for (const char c : cell) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

}  // namespace

bool IsReportLanguage(std::string_view lang) {
    return lang == "en-US" || lang == "es-MX";
}

void WriteReportCsv(const store::Report& report, std::ostream& out, std::string_view lang) {
    if (lang == "es-MX") {
        out << "\xEF\xBB\xBF";  // so that Excel on Windows reads "ámbito" as UTF-8
    }
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
        out << (i == 0 ? "" : ",") << (lang == "es-MX" ? kColumns[i].second : kColumns[i].first);
    }
    out << "\n";
    const auto row =
        [&](const std::string& scope, const std::string& key, const store::Kpis& k, bool money) {
            out << scope << "," << key << "," << report.currency << ",";
            if (money) {
                out << k.accounts << "," << dialogs::FormatDecimalCents(k.balance_outstanding_cents)
                    << "," << dialogs::FormatDecimalCents(k.collected_cents) << ","
                    << Rate(k.RecoveryRate());
            } else {
                out << ",,,";
            }
            out << "," << k.promises_made << "," << k.promises_kept << "," << k.promises_broken
                << "," << Rate(k.PromiseKeptRate()) << "," << k.plans_created << ","
                << k.references_issued << "," << k.escalations << "," << k.opt_outs << ","
                << k.conversations << "," << k.verified_conversations << "," << k.promises_kept_late
                << "," << k.plans_broken << "," << k.escalated_conversations
                << std::string(kColumns.size() - 20, ',') << "\n";
        };
    row("total", "all", report.total, true);
    for (const auto& [name, k] : report.by_channel) {
        row("channel", name, k, false);
    }
    for (const auto& [name, k] : report.by_bucket) {
        row("bucket", name, k, true);
    }
    // These rows fill only some of the columns.
    const auto sparse = [&](const std::string& scope,
                            const std::string& key,
                            const std::map<std::size_t, std::string>& cells) {
        out << scope << "," << key << "," << report.currency;
        for (std::size_t column = 3; column < kColumns.size(); ++column) {
            const auto cell = cells.find(column);
            out << "," << (cell == cells.end() ? std::string() : cell->second);
        }
        out << "\n";
    };
    // Every currency of the portfolio (their own money in the currency column's stead).
    for (const store::CurrencyTotals& c : report.currencies) {
        store::Kpis k;
        k.collected_cents = c.collected_cents;
        k.balance_outstanding_cents = c.balance_outstanding_cents;
        out << "currency," << c.currency << "," << c.currency << "," << c.accounts << ","
            << dialogs::FormatDecimalCents(c.balance_outstanding_cents) << ","
            << dialogs::FormatDecimalCents(c.collected_cents) << "," << Rate(k.RecoveryRate())
            << std::string(kColumns.size() - 7, ',') << "\n";
    }
    for (const store::AgentFigures& a : report.by_agent) {
        sparse("agent",
               std::to_string(a.agent_id),
               {{5, dialogs::FormatDecimalCents(a.recovered_cents)},
                {7, std::to_string(a.promises_made)},
                {8, std::to_string(a.promises_kept)},
                {9, std::to_string(a.promises_broken)},
                {11, std::to_string(a.plans_created)},
                {20, CsvText(a.name)},
                {21, std::to_string(a.claimed)},
                {22, std::to_string(a.handed_out)},
                {23, std::to_string(a.closed)},
                {24, std::to_string(a.messages_sent)}});
    }
    // Payments matched to no account: their count under accounts, their sum under collected.
    sparse("suspense",
           "all",
           {{3, std::to_string(report.suspense_payments)},
            {5, dialogs::FormatDecimalCents(report.suspense_cents)}});
    for (const auto& d : report.daily) {
        sparse("day",
               d.date,
               {{5, dialogs::FormatDecimalCents(d.collected_cents)},
                {7, std::to_string(d.promises_made)},
                {8, std::to_string(d.promises_kept)},
                {9, std::to_string(d.promises_broken)}});
    }
}

std::optional<std::string> ReportQueryProblem(const store::ReportQuery& query) {
    for (const auto* date : {&query.from, &query.to}) {
        if (!date->empty() && !dialogs::ParseIsoDate(*date)) {
            return "'" + *date + "' is not a date written YYYY-MM-DD";
        }
    }
    if (!query.from.empty() && !query.to.empty() && query.from > query.to) {
        return std::string("from is after to");
    }
    if (!query.currency.empty() && !dialogs::IsKnownCurrency(query.currency)) {
        return "'" + query.currency + "' is not an ISO 4217 currency";
    }
    return std::nullopt;
}

nlohmann::ordered_json ReportJson(const store::Report& report) {
    nlohmann::ordered_json j = {
        {"from",
         report.query.from == "0000-01-01" ? nlohmann::ordered_json(nullptr)
                                           : nlohmann::ordered_json(report.query.from)},
        {"to", report.query.to},
        {"as_of", report.query.as_of},
        {"currency", report.currency}};
    j.update(KpisJson(report.total, true));
    for (const auto& [name, k] : report.by_channel) {
        j["channel"][name] = KpisJson(k, false);
    }
    for (const auto& [name, k] : report.by_bucket) {
        j["days_past_due"][name] = KpisJson(k, true);
    }
    // Every currency of the portfolio, so that an account in another one does not drop out.
    j["currencies"] = nlohmann::ordered_json::array();
    for (const store::CurrencyTotals& c : report.currencies) {
        store::Kpis k;
        k.collected_cents = c.collected_cents;
        k.balance_outstanding_cents = c.balance_outstanding_cents;
        j["currencies"].push_back(
            {{"currency", c.currency},
             {"accounts", c.accounts},
             {"balance_outstanding", dialogs::FormatDecimalCents(c.balance_outstanding_cents)},
             {"collected", dialogs::FormatDecimalCents(c.collected_cents)},
             {"recovery_rate", std::round(k.RecoveryRate() * 10000) / 10000}});
    }
    j["suspense"] = {{"payments", report.suspense_payments},
                     {"amount", dialogs::FormatDecimalCents(report.suspense_cents)}};
    j["daily"] = nlohmann::ordered_json::array();
    for (const auto& d : report.daily) {
        j["daily"].push_back({{"date", d.date},
                              {"collected", dialogs::FormatDecimalCents(d.collected_cents)},
                              {"promises_made", d.promises_made},
                              {"promises_kept", d.promises_kept},
                              {"promises_broken", d.promises_broken}});
    }
    // Each agent's work (the API shows it to supervisors only).
    j["agents"] = nlohmann::ordered_json::array();
    for (const store::AgentFigures& a : report.by_agent) {
        j["agents"].push_back({{"agent_id", a.agent_id},
                               {"name", a.name},
                               {"role", a.role},
                               {"active", !a.disabled},
                               {"claimed", a.claimed},
                               {"handed_out", a.handed_out},
                               {"closed", a.closed},
                               {"messages_sent", a.messages_sent},
                               {"promises_made", a.promises_made},
                               {"promises_kept", a.promises_kept},
                               {"promises_broken", a.promises_broken},
                               {"plans_created", a.plans_created},
                               {"recovered", dialogs::FormatDecimalCents(a.recovered_cents)}});
    }
    return j;
}

bool ComplaintsMonthValid(std::string_view month) {
    return month.size() == 7 && dialogs::ParseIsoDate(std::string(month) + "-01").has_value();
}

nlohmann::ordered_json ComplaintsJson(const store::ComplaintsReport& report) {
    using json = nlohmann::ordered_json;
    json out;
    out["month"] = report.month;
    json totals = {{"opened", 0}, {"closed", 0}, {"open_at_month_end", 0}, {"answered_late", 0}};
    for (const char* kind : {"complaint", "privacy"}) {
        json by_category = json::object();
        for (const auto& [category, c] : report.counts.at(kind)) {
            json outcomes = json::object();
            for (const auto outcome : store::kCaseOutcomes) {
                const auto found = c.by_outcome.find(std::string(outcome));
                outcomes[std::string(outcome)] = found == c.by_outcome.end() ? 0 : found->second;
            }
            by_category[category] = {{"opened", c.opened},
                                     {"closed", c.closed},
                                     {"outcomes", outcomes},
                                     {"open_at_month_end", c.open_at_month_end},
                                     {"answered_late", c.answered_late}};
            totals["opened"] = totals["opened"].get<std::int64_t>() + c.opened;
            totals["closed"] = totals["closed"].get<std::int64_t>() + c.closed;
            totals["open_at_month_end"] =
                totals["open_at_month_end"].get<std::int64_t>() + c.open_at_month_end;
            totals["answered_late"] = totals["answered_late"].get<std::int64_t>() + c.answered_late;
        }
        out[std::string(kind) == "complaint" ? "complaints" : "privacy_requests"] = by_category;
    }
    out["totals"] = totals;
    json cases = json::array();
    for (const store::CaseRecord& c : report.cases) {
        cases.push_back({{"folio", c.folio},
                         {"kind", c.kind},
                         {"category", c.category},
                         {"account_id", c.account_id ? json(*c.account_id) : json(nullptr)},
                         {"opened_at", c.opened_at},
                         {"due_date", c.due_date},
                         {"status", c.status},
                         {"outcome", c.outcome ? json(*c.outcome) : json(nullptr)},
                         {"closed_at", c.closed_at ? json(*c.closed_at) : json(nullptr)}});
    }
    out["cases"] = cases;
    return out;
}

void WriteComplaintsCsv(const store::ComplaintsReport& report,
                        std::ostream& out,
                        std::string_view lang) {
    if (lang == "es-MX") {
        out << "\xEF\xBB\xBF"  // for spreadsheet programs, as the report's CSV
            << "mes,tipo,categoría,abiertos,cerrados,favorables,parciales,desfavorables,"
               "abiertos_al_cierre_del_mes,respondidos_tarde\n";
    } else {
        out << "month,kind,category,opened,closed,favorable,partial,unfavorable,"
               "open_at_month_end,answered_late\n";
    }
    for (const char* kind : {"complaint", "privacy"}) {
        for (const auto& [category, c] : report.counts.at(kind)) {
            out << report.month << ',' << kind << ',' << category << ',' << c.opened << ','
                << c.closed;
            for (const auto outcome : store::kCaseOutcomes) {
                const auto found = c.by_outcome.find(std::string(outcome));
                out << ',' << (found == c.by_outcome.end() ? 0 : found->second);
            }
            out << ',' << c.open_at_month_end << ',' << c.answered_late << "\n";
        }
    }
}

}  // namespace cobrador::bot
