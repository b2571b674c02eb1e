#include "store/portfolio.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

#include "dialogs/calendar.hpp"
#include "dialogs/locale.hpp"
#include "dialogs/money.hpp"
#include "dialogs/phone.hpp"
#include "store/csv.hpp"
#include "store/import_format.hpp"

namespace cobrador::store {

namespace {

enum Column : std::size_t {
    kAccountId,
    kDebtorName,
    kPhone,
    kBirthDate,
    kBalance,
    kCurrency,
    kDueDate,
    kDebtorId,
    kLocale,
    kTimezone,
    kSegment,
    kProduct,
    kMinPayment,
    kEmail,
    kColumnCount,
};

constexpr std::array<std::string_view, kColumnCount> kColumnNames = {"account_id",
                                                                     "debtor_name",
                                                                     "phone",
                                                                     "birth_date",
                                                                     "balance",
                                                                     "currency",
                                                                     "due_date",
                                                                     "debtor_id",
                                                                     "locale",
                                                                     "timezone",
                                                                     "segment",
                                                                     "product",
                                                                     "min_payment",
                                                                     "email"};
constexpr std::size_t kRequiredColumns = kDebtorId;  // the first seven are required
constexpr std::size_t kMaxFieldBytes = 512;

struct DebtorSeen {
    std::size_t line;
    std::string name, phone, birth_date, locale, timezone, email;
};

// Validates one record against the header map; appends errors, returns the row if all good.
std::optional<PortfolioRow> ValidateRecord(const CsvRecord& record,
                                           const CsvTable& table,
                                           const CsvFormat& format,
                                           std::vector<RowError>& errors) {
    const std::size_t errors_before = errors.size();
    const auto field = [&](Column column) -> std::string {
        return table.Field(record, column);
    };
    const auto fail = [&](Column column, const std::string& why) {
        errors.push_back({record.line, std::string(kColumnNames[column]) + ": " + why});
    };
    PortfolioRow row;
    row.line = record.line;
    for (std::size_t i = 0; i < kColumnCount; ++i) {
        if (table.FieldBytes(record, i) > kMaxFieldBytes) {
            fail(static_cast<Column>(i), "longer than 512 bytes");
            return std::nullopt;
        }
    }
    for (std::size_t i = 0; i < kRequiredColumns; ++i) {
        if (field(static_cast<Column>(i)).empty()) {
            fail(static_cast<Column>(i), "is empty; the column is required");
        }
    }
    if (errors.size() != errors_before) {
        return std::nullopt;
    }

    row.account_id = field(kAccountId);
    if (HasControlCharacters(row.account_id)) {
        fail(kAccountId, "contains control characters");
    }
    row.debtor_name = field(kDebtorName);
    if (HasControlCharacters(row.debtor_name)) {
        fail(kDebtorName, "contains control characters");
    }
    const std::string phone = field(kPhone);
    if (auto normalized = ReadPhone(phone, format.default_country)) {
        row.phone = *normalized;
    } else {
        fail(kPhone,
             Shown(phone) + " is not an E.164 phone number (like +525512345678)" +
                 PhoneHint(phone, format));
    }
    const auto date = [&](Column column, std::string& into) {
        const std::string text = field(column);
        if (auto iso = ReadDate(text, format.dates)) {
            into = *iso;
        } else {
            into = text;
            fail(column,
                 Shown(text) + " is not a real date written " +
                     (format.dates == DateOrder::kIso        ? "YYYY-MM-DD"
                      : format.dates == DateOrder::kDayFirst ? "dd/mm/yyyy or YYYY-MM-DD"
                                                             : "mm/dd/yyyy or YYYY-MM-DD") +
                     DateHint(text, format));
        }
    };
    date(kBirthDate, row.birth_date);
    const std::string balance = field(kBalance);
    if (auto cents = ReadAmount(balance)) {
        row.balance_cents = *cents;
        if (*cents < 0) {
            fail(kBalance, Shown(balance) + " is negative");
        }
    } else {
        fail(kBalance,
             Shown(balance) + " is not an amount with at most two decimals (like 12345.67)");
    }
    row.currency = field(kCurrency);
    if (!dialogs::IsKnownCurrency(row.currency)) {
        fail(kCurrency, Shown(row.currency) + " is not a known ISO 4217 currency code");
    }
    date(kDueDate, row.due_date);
    row.debtor_id = field(kDebtorId);
    if (row.debtor_id.empty()) {
        row.debtor_id = row.phone;
    } else if (HasControlCharacters(row.debtor_id)) {
        fail(kDebtorId, "contains control characters");
    }
    if (const auto locale = field(kLocale); !locale.empty()) {
        row.locale = locale;
        if (!dialogs::IsSupportedLocale(locale)) {
            fail(kLocale, Shown(locale) + " is not supported (es-MX or en-US)");
        }
    }
    if (const auto zone = field(kTimezone); !zone.empty()) {
        row.timezone = zone;
        if (!dialogs::IsKnownTimeZone(zone)) {
            fail(kTimezone, Shown(zone) + " is not an IANA time zone (like America/Mexico_City)");
        }
    }
    row.segment = field(kSegment);
    row.product = field(kProduct);
    if (const auto min_payment = field(kMinPayment); !min_payment.empty()) {
        const auto cents = ReadAmount(min_payment);
        if (!cents || *cents < 0) {
            fail(kMinPayment, Shown(min_payment) + " is not a non-negative amount");
        } else {
            row.min_payment_cents = cents;
        }
    }
    row.email = field(kEmail);
    if (!row.email.empty() &&
        (row.email.find('@') == std::string::npos || HasControlCharacters(row.email))) {
        fail(kEmail, Shown(row.email) + " is not an e-mail address");
    }
    if (errors.size() != errors_before) {
        return std::nullopt;
    }
    return row;
}

}  // namespace

FormatChoice ChoosePortfolioFormat(std::string_view sample, const FormatRequest& asked) {
    return ChooseCsvFormat(sample,
                           asked,
                           {kColumnNames.begin(), kColumnNames.end()},
                           kRequiredColumns,
                           {kColumnNames[kBirthDate], kColumnNames[kDueDate]});
}

ParsedPortfolio ParsePortfolioCsv(std::istream& raw,
                                  const CsvFormat& format,
                                  const ProgressFn& progress) {
    ParsedPortfolio out;
    DecodedInput decoded(raw, format.encoding);
    std::istream& in = decoded.Stream();
    const auto bytes_read = [&](const CsvTable& table) {
        return format.encoding == TextEncoding::kUtf8 ? table.BytesRead() : decoded.RawBytesRead();
    };
    CsvTable table(
        in, {kColumnNames.begin(), kColumnNames.end()}, kRequiredColumns, format.delimiter);
    out.errors = table.HeaderErrors();
    if (!out.errors.empty()) {
        return out;
    }
    CsvRecord record;
    std::unordered_map<std::string, std::size_t> account_index;  // account_id -> rows index
    std::unordered_map<std::string, DebtorSeen> debtors;
    std::size_t reported = 0;
    while (table.Next(record, out.errors)) {
        out.records = table.Records();
        if (progress && out.records / kProgressEvery > reported) {
            reported = out.records / kProgressEvery;
            progress(out.records, bytes_read(table));
        }
        auto row = ValidateRecord(record, table, format, out.errors);
        if (!row) {
            continue;
        }
        if (auto seen = account_index.find(row->account_id); seen != account_index.end()) {
            PortfolioRow earlier = out.rows[seen->second];
            earlier.line = row->line;
            if (earlier == *row) {
                ++out.duplicate_rows;
            } else {
                out.errors.push_back(
                    {row->line,
                     "account_id: " + Shown(row->account_id) + " already appears on line " +
                         std::to_string(out.rows[seen->second].line) + " with different data"});
            }
            continue;
        }
        DebtorSeen debtor{row->line,
                          row->debtor_name,
                          row->phone,
                          row->birth_date,
                          row->locale,
                          row->timezone,
                          row->email};
        if (auto [it, inserted] = debtors.try_emplace(row->debtor_id, debtor); !inserted) {
            const DebtorSeen& first = it->second;
            std::string differs;
            if (first.name != debtor.name) {
                differs = "debtor_name";
            } else if (first.phone != debtor.phone) {
                differs = "phone";
            } else if (first.birth_date != debtor.birth_date) {
                differs = "birth_date";
            } else if (first.locale != debtor.locale) {
                differs = "locale";
            } else if (first.timezone != debtor.timezone) {
                differs = "timezone";
            } else if (first.email != debtor.email) {
                differs = "email";
            }
            if (!differs.empty()) {
                out.errors.push_back({row->line,
                                      differs + ": debtor " + Shown(row->debtor_id) +
                                          " has a different " + differs + " on line " +
                                          std::to_string(first.line)});
                continue;
            }
        }
        account_index.emplace(row->account_id, out.rows.size());
        out.rows.push_back(std::move(*row));
    }
    out.records = table.Records();
    if (progress && out.records >= kProgressEvery) {
        progress(out.records, bytes_read(table));
    }
    return out;
}

}  // namespace cobrador::store
