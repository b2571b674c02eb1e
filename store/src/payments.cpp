// Parsing the processor's payments: the webhook's JSON and the statement CSV. Both end in the
// same checked PaymentRecord, so the ledger sees one shape whatever the source.

#include "store/payments.hpp"

#include <unordered_map>

#include <nlohmann/json.hpp>

#include "dialogs/calendar.hpp"
#include "dialogs/json_text.hpp"
#include "dialogs/money.hpp"
#include "dialogs/reference.hpp"
#include "store/import_format.hpp"

namespace cobrador::store {

namespace {

enum Column : std::size_t {
    kPaymentId,
    kReference,
    kAmount,
    kCurrency,
    kPaidAt,
    kMethod,
    kClave,
    kSendingBank,
    kOperationDate,
};

constexpr std::size_t kRequired = kMethod;  // all but method

constexpr std::size_t kMaxIdBytes = 200;
constexpr std::size_t kMaxReferenceBytes = 64;
constexpr std::size_t kMaxMethodBytes = 40;

// A SPEI transfer's optional identity: its clave de rastreo, the sending bank's SPEI code and
// the operation's date (by default the Mexico City date of paid_at).
struct SpeiFields {
    std::string clave;
    std::string sending_bank;
    std::string operation_date;
};

// A statement's paid_at: an ISO 8601 instant with its zone, or (as Mexican banks write it) a
// date in the file's format with an optional "HH:MM[:SS]" in Mexico City time (UTC-6 all year
// since 2022); a date alone is noon UTC.
std::optional<std::chrono::sys_seconds> ReadPaidAt(const std::string& text,
                                                   const CsvFormat* format) {
    if (auto at = dialogs::ParseIso8601(text)) {
        return at;
    }
    if (format == nullptr) {
        return std::nullopt;
    }
    const auto space = text.find(' ');
    const auto day = ReadDate(text.substr(0, space), format->dates);
    if (!day) {
        return std::nullopt;
    }
    // A date alone is noon UTC, as an ISO date alone is: the same civil day everywhere in
    // Mexico (UTC-5 to UTC-8).
    int hour = 6, minute = 0, second = 0;
    if (space != std::string::npos) {
        // "HH:MM" or "HH:MM:SS", every other character a digit.
        const std::string time = text.substr(space + 1);
        if (time.size() != 5 && time.size() != 8) {
            return std::nullopt;
        }
        int parts[3] = {0, 0, 0};
        for (std::size_t i = 0; i < time.size(); ++i) {
            const bool colon = i % 3 == 2;
            if (colon ? time[i] != ':' : (time[i] < '0' || time[i] > '9')) {
                return std::nullopt;
            }
            if (!colon) {
                parts[i / 3] = parts[i / 3] * 10 + (time[i] - '0');
            }
        }
        hour = parts[0];
        minute = parts[1];
        second = parts[2];
        if (hour > 23 || minute > 59 || second > 59) {
            return std::nullopt;
        }
    }
    const auto date = dialogs::ParseIsoDate(*day);
    return std::chrono::sys_days(*date) + std::chrono::hours(hour + 6) +
           std::chrono::minutes(minute) + std::chrono::seconds(second);
}

// Checks one payment's fields (already trimmed strings); `fail(column, why)` for each problem.
// `format`: a statement's, whose amounts, dates and instants may be written as Mexican files
// write them; null for the webhook's JSON, which is strict.
template <class Fail>
void Check(PaymentRecord& p,
           const std::string& amount,
           const std::string& paid_at,
           const SpeiFields& spei,
           const CsvFormat* format,
           const Fail& fail) {
    if (p.payment_id.empty() || p.payment_id.size() > kMaxIdBytes ||
        HasControlCharacters(p.payment_id)) {
        fail(kPaymentId, "is empty, longer than 200 bytes, or has control characters");
    }
    if (p.reference.empty() || p.reference.size() > kMaxReferenceBytes ||
        HasControlCharacters(p.reference)) {
        fail(kReference, "is empty, longer than 64 bytes, or has control characters");
    }
    const auto cents = format ? ReadAmount(amount) : dialogs::ParseDecimalCents(amount);
    if (!cents || *cents <= 0) {
        fail(kAmount, Shown(amount) + " is not a positive amount with at most two decimals");
    } else {
        p.amount_cents = *cents;
    }
    if (!dialogs::IsKnownCurrency(p.currency)) {
        fail(kCurrency, Shown(p.currency) + " is not a known ISO 4217 currency code");
    }
    if (const auto at = ReadPaidAt(paid_at, format)) {
        p.paid_at = dialogs::FormatIsoInstant(*at);
    } else {
        fail(kPaidAt,
             Shown(paid_at) +
                 " is not an ISO 8601 instant with a zone (2026-11-23T10:05:00-06:00)" +
                 (format && format->dates != DateOrder::kIso
                      ? " nor a date (and time) in Mexico City"
                      : (format ? DateHint(paid_at, *format) : std::string())));
    }
    if (p.method.size() > kMaxMethodBytes || HasControlCharacters(p.method)) {
        fail(kMethod, "is longer than 40 bytes or has control characters");
    }
    if (spei.clave.empty()) {
        if (!spei.sending_bank.empty() || !spei.operation_date.empty()) {
            fail(kClave, "is needed with sending_bank and operation_date");
        }
        return;
    }
    // SPEI runs on Mexico City's time, UTC-6 all year since 2022.
    std::string date = spei.operation_date;
    if (date.empty()) {
        if (const auto at = dialogs::ParseIsoInstant(p.paid_at)) {
            date = dialogs::FormatIsoDate(dialogs::UtcDate(
                std::chrono::system_clock::time_point(*at - std::chrono::hours(6))));
        }
    } else if (auto iso = ReadDate(date, format ? format->dates : DateOrder::kIso)) {
        date = *iso;
    } else {
        fail(kOperationDate,
             Shown(date) + " is not a date (YYYY-MM-DD" +
                 (format && format->dates == DateOrder::kDayFirst     ? " or dd/mm/yyyy"
                  : format && format->dates == DateOrder::kMonthFirst ? " or mm/dd/yyyy"
                                                                      : "") +
                 ")");
        return;
    }
    if (!dialogs::ParticipantOfBankCode(spei.sending_bank) &&
        !(spei.sending_bank.size() == 5 &&
          spei.sending_bank.find_first_not_of("0123456789") == std::string::npos)) {
        fail(kSendingBank,
             Shown(spei.sending_bank) +
                 " is not a sending bank's SPEI code (3 digits, 012, or 5 digits, 40012); it is "
                 "needed with clave_rastreo");
        return;
    }
    p.spei_key = dialogs::SpeiKey(spei.clave, date, spei.sending_bank);
    if (p.spei_key.empty()) {
        fail(kClave,
             Shown(spei.clave) + " is not a clave de rastreo (letters and digits, 1 to 30)");
    }
}

constexpr const char* kNames[] = {"payment_id",
                                  "reference",
                                  "amount",
                                  "currency",
                                  "paid_at",
                                  "method",
                                  "clave_rastreo",
                                  "sending_bank",
                                  "operation_date"};

}  // namespace

std::optional<PaymentRecord> ParsePaymentJson(std::string_view body, std::string& error) {
    const auto json = dialogs::ParseJsonText(body);
    if (json.is_discarded() || !json.is_object()) {
        error = "the body is not a JSON object";
        return std::nullopt;
    }
    const auto text = [&](const char* key, bool required) -> std::optional<std::string> {
        if (!json.contains(key) || json[key].is_null()) {
            if (required) {
                error = std::string("\"") + key + "\" is missing";
                return std::nullopt;
            }
            return std::string();
        }
        const auto& value = json[key];
        if (value.is_string()) {
            return value.get<std::string>();
        }
        if (value.is_number_integer() || value.is_number_unsigned() ||
            (value.is_number_float() && std::string_view(key) == "amount")) {
            return value.dump();  // 1500, or 1500.5: the shortest text that reads back the same
        }
        error = std::string("\"") + key + "\" must be a string";
        return std::nullopt;
    };
    PaymentRecord p;
    const auto id = text("payment_id", true);
    const auto reference = id ? text("reference", true) : std::nullopt;
    const auto amount = reference ? text("amount", true) : std::nullopt;
    const auto currency = amount ? text("currency", true) : std::nullopt;
    const auto paid_at = currency ? text("paid_at", true) : std::nullopt;
    const auto method = paid_at ? text("method", false) : std::nullopt;
    const auto clave = method ? text("clave_rastreo", false) : std::nullopt;
    const auto bank = clave ? text("sending_bank", false) : std::nullopt;
    const auto date = bank ? text("operation_date", false) : std::nullopt;
    if (!date) {
        return std::nullopt;
    }
    p.payment_id = *id;
    p.reference = *reference;
    p.currency = *currency;
    p.method = *method;
    Check(p,
          *amount,
          *paid_at,
          {*clave, *bank, *date},
          nullptr,
          [&](std::size_t column, const std::string& why) {
              if (error.empty()) {
                  error = std::string("\"") + kNames[column] + "\" " + why;
              }
          });
    if (!error.empty()) {
        return std::nullopt;
    }
    return p;
}

FormatChoice ChoosePaymentsFormat(std::string_view sample, const FormatRequest& asked) {
    return ChooseCsvFormat(sample,
                           asked,
                           {std::begin(kNames), std::end(kNames)},
                           kRequired,
                           {kNames[kPaidAt], kNames[kOperationDate]});
}

ParsedPayments ParsePaymentsCsv(std::istream& raw, const CsvFormat& format) {
    ParsedPayments out;
    DecodedInput decoded(raw, format.encoding);
    CsvTable table(
        decoded.Stream(), {std::begin(kNames), std::end(kNames)}, kRequired, format.delimiter);
    out.errors = table.HeaderErrors();
    CsvRecord record;
    std::unordered_map<std::string, std::size_t> seen;  // payment_id -> rows index
    while (table.Next(record, out.errors)) {
        PaymentRecord p;
        p.line = record.line;
        p.payment_id = table.Field(record, kPaymentId);
        p.reference = table.Field(record, kReference);
        p.currency = table.Field(record, kCurrency);
        p.method = table.Field(record, kMethod);
        const std::size_t before = out.errors.size();
        Check(p,
              table.Field(record, kAmount),
              table.Field(record, kPaidAt),
              {table.Field(record, kClave),
               table.Field(record, kSendingBank),
               table.Field(record, kOperationDate)},
              &format,
              [&](std::size_t column, const std::string& why) {
                  out.errors.push_back({record.line, std::string(table.Name(column)) + ": " + why});
              });
        if (out.errors.size() != before) {
            continue;
        }
        if (const auto it = seen.find(p.payment_id); it != seen.end()) {
            PaymentRecord earlier = out.rows[it->second];
            earlier.line = p.line;
            if (earlier.reference == p.reference && earlier.amount_cents == p.amount_cents &&
                earlier.currency == p.currency && earlier.paid_at == p.paid_at &&
                earlier.method == p.method && earlier.spei_key == p.spei_key) {
                ++out.duplicate_rows;
            } else {
                out.errors.push_back(
                    {p.line,
                     "payment_id: " + Shown(p.payment_id) + " already appears on line " +
                         std::to_string(out.rows[it->second].line) + " with different data"});
            }
            continue;
        }
        seen.emplace(p.payment_id, out.rows.size());
        out.rows.push_back(std::move(p));
    }
    out.records = table.Records();
    return out;
}

}  // namespace cobrador::store
