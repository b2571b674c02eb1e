#include "bot/demo.hpp"

#include <array>

#include "dialogs/calendar.hpp"
#include "dialogs/phone.hpp"

namespace cobrador::bot {

namespace {

struct DemoAccount {
    const char* account_id;
    const char* debtor_name;
    const char* phone;
    const char* birth_date;
    const char* balance;
    int days_past_due;  // the due date is today minus this
    const char* locale;
    const char* timezone;
    const char* segment;
    const char* product;
};

// Made-up people with phone numbers in Mexico's and the USA's ranges set aside for examples
// (+52 55 5000 xxxx is not assigned to mobiles; +1 555 01xx is reserved for fiction).
constexpr std::array<DemoAccount, 8> kAccounts = {{
    {"DEMO-1001",
     "María Fernanda López",
     "+5215550001001",
     "1985-03-15",
     "12345.67",
     12,
     "es-MX",
     "America/Mexico_City",
     "consumo",
     "tarjeta"},
    {"DEMO-1002",
     "María Fernanda López",
     "+5215550001001",
     "1985-03-15",
     "2500.00",
     -5,
     "es-MX",
     "America/Mexico_City",
     "consumo",
     "préstamo personal"},
    {"DEMO-1003",
     "José Ángel Hernández",
     "+5215550001002",
     "1979-11-02",
     "8420.50",
     45,
     "es-MX",
     "America/Monterrey",
     "consumo",
     "tarjeta"},
    {"DEMO-1004",
     "Guadalupe Ramírez",
     "+5216640001003",
     "1992-07-28",
     "3150.00",
     75,
     "es-MX",
     "America/Tijuana",
     "telefonía",
     "plan pospago"},
    {"DEMO-1005",
     "Juan Carlos Pérez",
     "+5219980001004",
     "1968-01-09",
     "21999.99",
     130,
     "es-MX",
     "America/Cancun",
     "consumo",
     "crédito automotriz"},
    {"DEMO-1006",
     "Sofía Martínez",
     "+5213330001005",
     "2000-05-30",
     "899.00",
     0,
     "es-MX",
     "America/Mexico_City",
     "tienda",
     "crédito de tienda"},
    {"DEMO-1007",
     "Emily Johnson",
     "+12125550101",
     "1990-12-24",
     "1200.00",
     20,
     "en-US",
     "America/New_York",
     "consumer",
     "credit card"},
    {"DEMO-1008",
     "Ricardo Ortiz",
     "+5218110001007",
     "1983-09-14",
     "5600.00",
     35,
     "es-MX",
     "America/Monterrey",
     "telefonía",
     "equipo"},
}};

}  // namespace

std::string DemoPortfolioCsv(const std::string& today) {
    const auto day = dialogs::ParseIsoDate(today);
    std::string csv =
        "account_id,debtor_name,phone,birth_date,balance,currency,due_date,locale,timezone,"
        "segment,product\n";
    for (const DemoAccount& a : kAccounts) {
        const std::string due =
            day ? dialogs::FormatIsoDate(dialogs::AddDays(*day, -a.days_past_due)) : today;
        csv += std::string(a.account_id) + ",\"" + a.debtor_name + "\"," + a.phone + "," +
               a.birth_date + "," + a.balance + ",MXN," + due + "," + a.locale + "," + a.timezone +
               "," + a.segment + ",\"" + a.product + "\"\n";
    }
    return csv;
}

namespace {

// "+5215550001001" as people write it: "+52 1 555 000 1001"; "+12125550101": "+1 212 555 0101".
std::string Spaced(const std::string& e164) {
    if (e164.starts_with("+521") && e164.size() == 14) {
        return "+52 1 " + e164.substr(4, 3) + " " + e164.substr(7, 3) + " " + e164.substr(10);
    }
    if (e164.starts_with("+1") && e164.size() == 12) {
        return "+1 " + e164.substr(2, 3) + " " + e164.substr(5, 3) + " " + e164.substr(8);
    }
    return e164;
}

std::string Situation(const DemoAccount& a) {
    const bool english = std::string_view(a.locale) == "en-US";
    const std::string amount = std::string("$") + a.balance;
    if (a.days_past_due > 0) {
        return std::to_string(a.days_past_due) +
               (english ? " days past due, " : " días de atraso, ") + amount;
    }
    if (a.days_past_due == 0) {
        return (english ? "due today, " : "vence hoy, ") + amount;
    }
    return (english ? "due in " : "vence en ") + std::to_string(-a.days_past_due) +
           (english ? " days, " : " días, ") + amount;
}

}  // namespace

std::vector<DemoDebtor> DemoDebtors() {
    std::vector<DemoDebtor> out;
    for (const DemoAccount& a : kAccounts) {
        if (!out.empty() && out.back().phone == dialogs::NormalizePhone(a.phone)) {
            out.back().situation += "; " + Situation(a);
            continue;
        }
        const std::string birth(a.birth_date);  // YYYY-MM-DD
        out.push_back({a.debtor_name,
                       dialogs::NormalizePhone(a.phone).value_or(a.phone),
                       Spaced(a.phone),
                       birth.substr(8, 2) + "/" + birth.substr(5, 2) + "/" + birth.substr(0, 4),
                       Situation(a)});
    }
    return out;
}

}  // namespace cobrador::bot
