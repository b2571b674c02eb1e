// The collection dialog, driven turn by turn with a fixed clock, its replies rendered through
// the real catalog as the debtor would read them.

#include "dialogs/dialog.hpp"

#include <random>

#include <catch2/catch.hpp>

#include "dialogs/contact.hpp"
#include "dialogs/reference.hpp"
#include "templates/catalog.hpp"

namespace cobrador::dialogs {
namespace {

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

const Date kToday = *ParseIsoDate("2026-11-23");  // a Monday
const Instant kNoon = std::chrono::sys_days(kToday) + 18h;

AccountView Account(std::int64_t id, std::string key, std::int64_t cents, int days_late) {
    AccountView a;
    a.id = id;
    a.key = std::move(key);
    a.balance = {cents, "MXN"};
    a.due_date = AddDays(kToday, -days_late);
    return a;
}

DebtorView Maria(std::vector<AccountView> accounts) {
    DebtorView d;
    d.id = 7;
    d.name = "María Fernanda López";
    d.birth_date = *ParseIsoDate("1985-03-15");
    d.accounts = std::move(accounts);
    return d;
}

// One conversation: keeps the state between turns, like the ledger does.
struct Chat {
    ConversationView view;
    Settings settings;
    Instant now = kNoon;
    std::vector<Command> commands;   // of the last turn
    std::vector<std::string> texts;  // of the last turn, rendered

    explicit Chat(std::optional<DebtorView> debtor, std::string channel = "whatsapp") {
        view.channel = std::move(channel);
        view.debtor = std::move(debtor);
        settings.company = "Financiera Prueba";
        settings.clabe = "646180110400000007";
    }

    std::string Say(const std::string& text, const std::string& reply_id = "") {
        return Send("text", text, reply_id);
    }

    // A message of `kind` (image, audio, sticker, ...) with an optional caption.
    std::string Send(const std::string& kind,
                     const std::string& text = "",
                     const std::string& reply_id = "") {
        const Date today = UtcDate(now);
        auto result = Step(view, {text, reply_id, kind}, {now, today}, settings);
        view.state = result.state;
        commands = result.commands;
        texts.clear();
        std::string all;
        const std::string locale = view.debtor ? view.debtor->locale : "es-MX";
        for (const Reply& reply : result.replies) {
            const auto rendered = templates::RenderReply(reply, locale);
            std::string shown = rendered.text;
            for (const auto& option : rendered.options) {
                shown += "\n[" + option.title + "]";
            }
            texts.push_back(shown);
            all += (all.empty() ? "" : "\n---\n") + shown;
        }
        now += 1min;
        return all;
    }

    template <class T>
    const T* Find() const {
        for (const Command& c : commands) {
            if (const auto* found = std::get_if<T>(&c)) {
                return found;
            }
        }
        return nullptr;
    }

    void Verify() {
        Say("hola");
        Say("15/03/1985");
        REQUIRE(Find<Verified>() != nullptr);
    }
};

bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST_CASE("Dialog: first contact names the creditor and asks for the date of birth",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    const std::string reply = chat.Say("cuanto debo?");
    CHECK(Contains(reply, "Financiera Prueba"));
    CHECK(Contains(reply, "fecha de nacimiento"));
    CHECK_FALSE(Contains(reply, "$"));
    CHECK(chat.view.state.stage == Stage::kVerifying);
    // Asking again before the check passes still says nothing of a debt.
    const std::string again = chat.Say("mi saldo porfa");
    CHECK_FALSE(Contains(again, "$"));
    CHECK(Contains(again, "fecha de nacimiento"));
    CHECK(chat.commands.empty());
}

TEST_CASE("Dialog: the right date of birth in any common form verifies", "[dialogs][dialog]") {
    for (const char* form : {"15/03/1985", "15-03-85", "15 de marzo de 1985", "1985-03-15"}) {
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
        chat.Say("hola");
        const std::string reply = chat.Say(form);
        INFO(form);
        REQUIRE(chat.Find<Verified>() != nullptr);
        CHECK(chat.Find<Verified>()->until == kNoon + 1min + 24h);
        CHECK(Contains(reply, "Gracias, María"));
        CHECK(Contains(reply, "[Ver saldo]"));
        CHECK(chat.view.state.stage == Stage::kReady);
    }
}

TEST_CASE("Dialog: three wrong dates lock for 24 hours and escalate", "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Say("hola");
    // Dates that are no date of birth are not attempts.
    CHECK(Contains(chat.Say("te pago el viernes"), "fecha de nacimiento"));
    CHECK(chat.commands.empty());
    CHECK(Contains(chat.Say("01/01/1990"), "Te quedan 2 intentos"));
    CHECK(chat.Find<VerificationFailed>()->failures == 1);
    CHECK(Contains(chat.Say("02/01/1990"), "Te queda 1 intento"));
    const std::string locked = chat.Say("03/01/1990");
    CHECK(Contains(locked, "24 horas"));
    REQUIRE(chat.Find<Locked>() != nullptr);
    REQUIRE(chat.Find<Escalated>() != nullptr);
    CHECK(chat.Find<Escalated>()->reason == "verification_failed");
    // Even the right date does nothing while locked.
    CHECK(Contains(chat.Say("15/03/1985"), "24 horas"));
    CHECK(chat.Find<Verified>() == nullptr);
    // After the lock, the check starts over.
    chat.now += 25h;
    CHECK(Contains(chat.Say("hola"), "fecha de nacimiento"));
    chat.Say("15/03/1985");
    CHECK(chat.Find<Verified>() != nullptr);
}

TEST_CASE("Dialog: an unknown phone gets a neutral answer", "[dialogs][dialog]") {
    Chat chat(std::nullopt);
    // Told once in full; after that a short line, not the same paragraph to every message.
    CHECK(Contains(chat.Say("hola"), "No encontramos información"));
    for (const char* text : {"cuanto debo", "15/03/1985", "quiero pagar"}) {
        const std::string reply = chat.Say(text);
        CHECK(Contains(reply, "Este número no está en los registros de Financiera Prueba."));
        CHECK_FALSE(Contains(reply, "No encontramos información"));
        CHECK_FALSE(Contains(reply, "$"));
    }
    chat.Say("BAJA");
    CHECK(chat.Find<OptedOut>() != nullptr);  // leaving works for anyone
}

TEST_CASE("Dialog: balance of every account, with due date and days past due",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12), Account(26, "A-1002", 250000, -5)}));
    chat.Verify();
    const std::string reply = chat.Say("cuanto debo?");
    CHECK(Contains(reply,
                   "Cuenta A-1001: $12,345.67, vencía el miércoles, 11 de noviembre de 2026, "
                   "12 días de atraso."));
    CHECK(Contains(reply, "Cuenta A-1002: $2,500.00, vence el sábado, 28 de noviembre de 2026."));
    CHECK(reply.substr(0, reply.find('\n')).find('$') == std::string::npos);
    // The menu's first option ("1") and the WhatsApp button id do the same.
    chat.Say("ayuda");
    CHECK(Contains(chat.Say("1"), "$12,345.67"));
    CHECK(Contains(chat.Say("", "balance"), "$12,345.67"));
}

TEST_CASE("Dialog: payment reference, the same every time, with SPEI, OXXO and link",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    const std::string first = chat.Say("me pasas la referencia");
    const std::string reference = *PaymentReference(18);
    CHECK(Contains(first, "CLABE 646180110400000007"));
    CHECK(Contains(first, "referencia " + reference));
    CHECK(Contains(first, "https://pagos.example.com/r/" + reference + "?monto=12345.67"));
    REQUIRE(chat.Find<ReferenceIssued>() != nullptr);
    CHECK(chat.Find<ReferenceIssued>()->reference == reference);
    CHECK(chat.Say("como le pago?") == first);
}

TEST_CASE("Dialog: with a payments provider, its page is asked for, then handed while it lasts",
          "[dialogs][dialog][instruments]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.settings.payments_provider = "stripe";
    chat.Verify();
    const std::string reference = *PaymentReference(18);

    // Nothing created yet: the CLABE and reference at once, the page asked for.
    const std::string first = chat.Say("como pago");
    CHECK(Contains(first, "CLABE 646180110400000007"));
    CHECK(Contains(first, "referencia " + reference));
    CHECK(Contains(first, "en un momento te envío tu enlace de pago"));
    CHECK_FALSE(Contains(first, "pagos.example.com"));
    REQUIRE(chat.Find<InstrumentRequested>() != nullptr);
    CHECK(chat.Find<InstrumentRequested>()->account_id == 18);
    CHECK(chat.Find<InstrumentRequested>()->provider == "stripe");
    CHECK(chat.Find<InstrumentRequested>()->amount == Money{1234567, "MXN"});

    // Created for this balance and good for hours: handed over, nothing asked for.
    InstrumentView page{"stripe",
                        "page",
                        "https://checkout.stripe.com/c/pay/cs_test_1",
                        "",
                        {1234567, "MXN"},
                        chat.now + 20h};
    chat.view.debtor->accounts[0].instrument = page;
    const std::string handed = chat.Say("como pago");
    CHECK(Contains(handed, "https://checkout.stripe.com/c/pay/cs_test_1"));
    CHECK(chat.Find<InstrumentRequested>() == nullptr);

    // Expiring within the hour, for another amount, or from another provider: a new one.
    for (const auto& stale :
         {InstrumentView{page.provider, page.kind, page.url, "", page.amount, chat.now + 30min},
          InstrumentView{
              page.provider, page.kind, page.url, "", Money{100000, "MXN"}, chat.now + 20h},
          InstrumentView{"conekta", page.kind, page.url, "", page.amount, chat.now + 20h}}) {
        chat.view.debtor->accounts[0].instrument = stale;
        CHECK_FALSE(Contains(chat.Say("como pago"), page.url));
        CHECK(chat.Find<InstrumentRequested>() != nullptr);
    }

    // A store reference is said as such.
    chat.view.debtor->accounts[0].instrument =
        InstrumentView{"stripe",
                       "cash",
                       "https://api.openpay.mx/barcode/000020TRNIRKIYOBO5QFEX55EF0100009",
                       "000020TRNIRKIYOBO5QFEX55EF0100009",
                       {1234567, "MXN"},
                       chat.now + 48h};
    const std::string cash = chat.Say("como pago");
    CHECK(Contains(cash, "con la referencia 000020TRNIRKIYOBO5QFEX55EF0100009"));
    CHECK(chat.Find<InstrumentRequested>() == nullptr);
}

TEST_CASE("Dialog: with a payments provider, a promise's or a plan's page is for what is due",
          "[dialogs][dialog][instruments]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.settings.payments_provider = "mercadopago";
    chat.Verify();
    chat.Say("te pago mil quinientos el viernes");
    const std::string recorded = chat.Say("si");
    REQUIRE(chat.Find<PromiseMade>() != nullptr);
    CHECK(Contains(recorded, "En un momento te envío tu enlace para pagar $1,500.00."));
    REQUIRE(chat.Find<InstrumentRequested>() != nullptr);
    CHECK(chat.Find<InstrumentRequested>()->amount == Money{150000, "MXN"});

    // With the promise open, "how do I pay" is about the promised amount.
    chat.view.debtor->accounts[0].open_promise = PromiseView{{150000, "MXN"}, kToday};
    chat.Say("como pago");
    REQUIRE(chat.Find<InstrumentRequested>() != nullptr);
    CHECK(chat.Find<InstrumentRequested>()->amount == Money{150000, "MXN"});

    // A plan's next instalment, when no promise is open.
    chat.view.debtor->accounts[0].open_promise.reset();
    chat.view.debtor->accounts[0].next_installment = Money{250000, "MXN"};
    chat.Say("como pago");
    REQUIRE(chat.Find<InstrumentRequested>() != nullptr);
    CHECK(chat.Find<InstrumentRequested>()->amount == Money{250000, "MXN"});

    // Without a provider nothing is asked for and nothing promised.
    Chat plain(Maria({Account(18, "A-1001", 1234567, 12)}));
    plain.Verify();
    plain.Say("te pago mil quinientos el viernes");
    CHECK_FALSE(Contains(plain.Say("si"), "enlace"));
    CHECK(plain.Find<InstrumentRequested>() == nullptr);
}

TEST_CASE("Dialog: an amount read only in part is asked back, never recorded as a guess",
          "[dialogs][dialog][amounts]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    // "2 mil y pico": the date is taken, the amount asked for.
    const std::string asked = chat.Say("te pago 2 mil y pico el viernes");
    CHECK(Contains(asked, "¿Qué cantidad puedes pagar?"));
    CHECK_FALSE(Contains(asked, "$2,000.00"));
    CHECK(chat.Find<PromiseMade>() == nullptr);
    // "2 mil 500" is $2,500.00, and that is what "sí" records.
    CHECK(
        Contains(chat.Say("2 mil 500"), "Pagarías $2,500.00 el viernes, 27 de noviembre de 2026"));
    chat.Say("sí");
    REQUIRE(chat.Find<PromiseMade>() != nullptr);
    CHECK(chat.Find<PromiseMade>()->amount == Money{250000, "MXN"});
}

TEST_CASE("Dialog: a weekday that disagrees with its date is asked back",
          "[dialogs][dialog][dates]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    // 28 November 2026 is a Saturday: neither day is assumed.
    const std::string asked = chat.Say("te pago 1500 el viernes 28 de noviembre");
    CHECK(Contains(asked, "¿Qué día puedes pagar?"));
    CHECK(chat.Find<PromiseMade>() == nullptr);
    CHECK(Contains(chat.Say("el viernes 27 de noviembre"),
                   "Pagarías $1,500.00 el viernes, 27 de noviembre de 2026"));
}

TEST_CASE("Dialog: a question asked before the identity check is answered once it passes",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    const std::string first = chat.Say("cuánto debo?");
    CHECK(Contains(first, "confirma tu fecha de nacimiento"));
    CHECK_FALSE(Contains(first, "$12,345.67"));
    const std::string answer = chat.Say("15/03/1985");
    CHECK(Contains(answer, "Gracias, María."));
    CHECK(Contains(answer, "$12,345.67"));
    CHECK_FALSE(Contains(answer, "¿Qué quieres hacer?"));

    Chat pay(Maria({Account(18, "A-1001", 1234567, 12)}));
    pay.Say("como pago");
    CHECK(Contains(pay.Say("15/03/1985"), "referencia " + *PaymentReference(18)));
}

TEST_CASE("Dialog: the date of birth typed again after the check is not a payment date",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    chat.Say("te pago 1500");
    const std::string again = chat.Say("15/03/1985");
    CHECK(Contains(again, "Ya confirmamos tu identidad, María."));
    CHECK_FALSE(Contains(again, "fecha ya pasó"));
    CHECK(chat.view.state.stage == Stage::kReady);
    CHECK(chat.Find<PromiseMade>() == nullptr);
}

TEST_CASE("Dialog: escalations and unknown phones say how and when to reach a person",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.settings.contact_phone = "55 1234 0000";
    chat.settings.contact_hours = "lunes a viernes de 9 a 18 h";
    chat.Verify();
    const std::string handed = chat.Say("quiero hablar con una persona");
    CHECK(Contains(handed, "Nuestro horario: lunes a viernes de 9 a 18 h."));
    CHECK(Contains(handed, "También puedes llamarnos al 55 1234 0000."));

    Chat stranger(std::nullopt);
    stranger.settings.contact_phone = "55 1234 0000";
    stranger.settings.contact_hours = "lunes a viernes de 9 a 18 h";
    CHECK(Contains(stranger.Say("hola"),
                   "comunícate con nosotros al 55 1234 0000 (lunes a viernes de 9 a 18 h)."));
    // Without them, nothing is made up.
    Chat plain(std::nullopt);
    CHECK(Contains(plain.Say("hola"), "comunícate con nosotros."));
}

TEST_CASE("Dialog: a promise to pay is confirmed back and recorded", "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    const std::string confirm = chat.Say("te pago mil quinientos el viernes");
    CHECK(Contains(confirm, "Pagarías $1,500.00 el viernes, 27 de noviembre de 2026"));
    CHECK(chat.view.state.stage == Stage::kConfirmPromise);
    CHECK(chat.Find<PromiseMade>() == nullptr);
    const std::string done = chat.Say("si");
    REQUIRE(chat.Find<PromiseMade>() != nullptr);
    CHECK(chat.Find<PromiseMade>()->amount == Money{150000, "MXN"});
    CHECK(chat.Find<PromiseMade>()->date == *ParseIsoDate("2026-11-27"));
    CHECK(chat.Find<PromiseMade>()->account_id == 18);
    CHECK(Contains(done, "quedó registrado"));
    // And how to pay it, in the same answer.
    const std::string reference = *PaymentReference(18);
    CHECK(Contains(done,
                   "Para pagarlo: SPEI a la CLABE 646180110400000007, referencia " + reference));
    CHECK(Contains(done, "https://pagos.example.com/r/" + reference + "?monto=1500.00"));
    CHECK(chat.Find<ReferenceIssued>() != nullptr);
}

TEST_CASE("Dialog: a promise gathers what is missing over several messages", "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    CHECK(Contains(chat.Say("", "promise"), "¿Cuánto y cuándo"));
    CHECK(Contains(chat.Say("2000"), "¿Qué día puedes pagar?"));
    CHECK(
        Contains(chat.Say("la próxima quincena"), "Pagarías $2,000.00 el lunes, 30 de noviembre"));
    chat.Say("no");
    CHECK(chat.view.state.stage == Stage::kPromise);
    CHECK(Contains(chat.Say("todo el 25"), "Pagarías $12,345.67 el miércoles, 25 de noviembre"));
    chat.Say("2");  // "No", as an SMS reply
    CHECK(chat.Find<PromiseMade>() == nullptr);
}

TEST_CASE("Dialog: promises in the past, past the horizon or below the minimum are refused",
          "[dialogs][dialog]") {
    auto account = Account(18, "A-1001", 1234567, 12);
    account.min_payment_cents = 50000;
    Chat chat(Maria({account}));
    chat.Verify();
    CHECK(Contains(chat.Say("te pago 2000 el 20/11"), "ya pasó") == false);  // 20/11 is next year
    chat.Say("no");
    CHECK(Contains(chat.Say("te pago 2000 hoy"), "Pagarías"));  // today is fine
    chat.Say("no");
    const std::string far = chat.Say("te pago 2000 el 15/01");
    CHECK(Contains(far, "hasta el martes, 8 de diciembre de 2026"));  // today + 15 days
    const std::string small = chat.Say("te pago 100 el viernes");
    CHECK(Contains(small, "El pago mínimo es de $500.00"));
    CHECK(chat.Find<PromiseMade>() == nullptr);
    // "ayer" is no date we read, so a past date is written in full here.
    Chat past(Maria({Account(18, "A-1001", 1234567, 12)}));
    past.Verify();
    CHECK(Contains(past.Say("te pago 2000 el 20/11/2026"), "Esa fecha ya pasó"));
}

TEST_CASE("Dialog: one open promise per account", "[dialogs][dialog]") {
    auto account = Account(18, "A-1001", 1234567, 12);
    account.open_promise = PromiseView{{200000, "MXN"}, *ParseIsoDate("2026-11-27")};
    Chat chat(Maria({account}));
    chat.Verify();
    const std::string reply = chat.Say("te pago 500 mañana");
    CHECK(Contains(reply, "Ya tienes un compromiso registrado"));
    CHECK(Contains(reply, "$2,000.00"));
    CHECK(chat.view.state.stage == Stage::kReady);
}

TEST_CASE("Dialog: a promise or plan a person recorded meanwhile is not recorded twice",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    chat.Say("te pago mil quinientos el viernes");
    REQUIRE(chat.view.state.stage == Stage::kConfirmPromise);
    // A collector records a promise from the console before the debtor answers "sí".
    chat.view.debtor->accounts[0].open_promise =
        PromiseView{{200000, "MXN"}, *ParseIsoDate("2026-11-30")};
    const std::string reply = chat.Say("si");
    CHECK(chat.Find<PromiseMade>() == nullptr);
    CHECK(Contains(reply, "Ya tienes un compromiso registrado"));
    CHECK(Contains(reply, "$2,000.00"));
    CHECK(chat.view.state.stage == Stage::kReady);

    Chat plan(Maria({Account(18, "A-1001", 1000000, 75)}));
    plan.Verify();
    plan.Say("puedo en 6 pagos?");
    REQUIRE(plan.view.state.stage == Stage::kConfirmPlan);
    plan.view.debtor->accounts[0].active_plan = true;
    CHECK(Contains(plan.Say("si"), "Ya tienes un plan de pagos activo"));
    CHECK(plan.Find<PlanAgreed>() == nullptr);
}

TEST_CASE("Dialog: negotiation offers what the policy allows and records the plan",
          "[dialogs][dialog]") {
    // 75 days late: 61-90 bucket, up to 15% discount, 12 instalments, 15% down.
    Chat chat(Maria({Account(18, "A-1001", 1000000, 75)}));
    chat.Verify();
    const std::string offers = chat.Say("quiero un convenio");
    CHECK(Contains(offers, "pagarías $8,500.00 en lugar de $10,000.00"));
    // $8,500.00 in 12 does not split evenly: the offer says both amounts and how many of each.
    CHECK(Contains(offers,
                   "12 pagos (4 de $708.34 y 8 de $708.33), después de un primer pago de "
                   "$1,500.00"));
    CHECK(chat.view.state.stage == Stage::kNegotiating);
    const std::string confirm = chat.Say("1");  // pay with discount
    CHECK(Contains(confirm, "un pago de $8,500.00 a más tardar el lunes, 30 de noviembre"));
    chat.Say("si");
    const auto* plan = chat.Find<PlanAgreed>();
    REQUIRE(plan != nullptr);
    CHECK(plan->kind == "settlement");
    CHECK(plan->total == Money{850000, "MXN"});
    CHECK(plan->discount_cents == 150000);
    REQUIRE(plan->schedule.size() == 1);
}

TEST_CASE("Dialog: counter-offers inside the limits are accepted, outside escalate",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1000000, 75)}));
    chat.Verify();
    const std::string six = chat.Say("puedo en 6 pagos?");
    // Said exactly as it will be recorded: the count after the down payment, each amount to
    // the cent, how often, the first and the last date.
    CHECK(Contains(six,
                   "6 pagos (4 de $1,416.67 y 2 de $1,416.66), después de un primer pago de "
                   "$1,500.00, cada quincena. El primer pago vence el lunes, 30 de noviembre de "
                   "2026 y el último el domingo, 28 de febrero de 2027."));
    const std::string recorded = chat.Say("si");
    CHECK(Contains(recorded, "6 pagos (4 de $1,416.67 y 2 de $1,416.66)"));
    CHECK(Contains(recorded, "el último el domingo, 28 de febrero de 2027"));
    const auto* plan = chat.Find<PlanAgreed>();
    REQUIRE(plan != nullptr);
    CHECK(plan->kind == "installments");
    REQUIRE(plan->schedule.size() == 7);
    CHECK(plan->schedule[0].cents == 150000);
    for (std::size_t i = 1; i <= 4; ++i) {
        CHECK(plan->schedule[i].cents == 141667);
    }
    CHECK(plan->schedule[5].cents == 141666);
    CHECK(plan->schedule[6].cents == 141666);
    CHECK(plan->schedule[6].due == *ParseIsoDate("2027-02-28"));
    std::int64_t sum = 0;
    for (const auto& i : plan->schedule) {
        sum += i.cents;
    }
    CHECK(sum == 1000000);
    CHECK(plan->schedule[0].due == *ParseIsoDate("2026-11-30"));
    CHECK(plan->schedule[1].due == *ParseIsoDate("2026-12-15"));

    Chat greedy(Maria({Account(18, "A-1001", 1000000, 75)}));
    greedy.Verify();
    greedy.Say("quiero un descuento");
    greedy.Say("les ofrezco 5 mil y quedamos a mano");  // 50% off: beyond 15%
    REQUIRE(greedy.Find<Escalated>() != nullptr);
    CHECK(greedy.Find<Escalated>()->reason == "negotiation_outside_policy");
    CHECK(greedy.Find<PlanAgreed>() == nullptr);

    Chat slow(Maria({Account(18, "A-1001", 1000000, 75)}));
    slow.Verify();
    slow.Say("puedo pagar 300 cada quincena?");  // 29 instalments: beyond 12
    CHECK(slow.Find<Escalated>()->reason == "negotiation_outside_policy");

    Chat fair(Maria({Account(18, "A-1001", 1000000, 75)}));
    fair.Verify();
    CHECK(Contains(fair.Say("te ofrezco 9 mil y quedamos a mano"), "$9,000.00"));
    fair.Say("va");
    CHECK(fair.Find<PlanAgreed>()->discount_cents == 100000);
}

TEST_CASE("Dialog: one active plan per account", "[dialogs][dialog]") {
    auto account = Account(18, "A-1001", 1000000, 75);
    account.active_plan = true;
    Chat chat(Maria({account}));
    chat.Verify();
    CHECK(Contains(chat.Say("quiero un convenio"), "Ya tienes un plan de pagos activo"));
    CHECK(Contains(chat.Say("puedo en 6 pagos?"), "Ya tienes un plan de pagos activo"));
    CHECK(chat.Find<PlanAgreed>() == nullptr);
}

TEST_CASE("Dialog: buckets the bot may not decide go to a collector", "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1000000, 200)}));
    chat.Verify();
    chat.Say("quiero negociar");
    REQUIRE(chat.Find<Escalated>() != nullptr);
    CHECK(chat.Find<Escalated>()->reason == "negotiation_approval");
}

TEST_CASE("Dialog: already paid, dispute, hardship and a person escalate with the reason",
          "[dialogs][dialog]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"ya pagué ayer en oxxo", "already_paid"},
        {"yo no reconozco esa deuda", "dispute"},
        {"me quedé sin chamba, no puedo pagar", "cannot_pay"},
        {"quiero hablar con un asesor", "human"},
    };
    for (const auto& [text, reason] : cases) {
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
        chat.Verify();
        const std::string reply = chat.Say(text);
        INFO(text);
        REQUIRE(chat.Find<Escalated>() != nullptr);
        CHECK(chat.Find<Escalated>()->reason == reason);
        CHECK(Contains(reply, "Una persona de Financiera Prueba"));
    }
}

TEST_CASE("Dialog: opt-out, opt-in and wrong number from any point", "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Say("hola");
    CHECK(Contains(chat.Say("ya no me escriban"), "no te enviaremos más mensajes"));
    CHECK(chat.Find<OptedOut>() != nullptr);
    for (const char* text : {"BAJA", "ALTO", "STOP"}) {
        chat.Say(text);
        CHECK(chat.Find<OptedOut>() != nullptr);
    }
    chat.Say("ALTA");
    CHECK(chat.Find<OptedIn>() != nullptr);

    Chat wrong(Maria({Account(18, "A-1001", 1234567, 12)}));
    wrong.Say("hola");
    CHECK(Contains(wrong.Say("no soy, número equivocado"), "no te volveremos a escribir"));
    CHECK(wrong.Find<WrongNumber>() != nullptr);
    CHECK(wrong.view.state.stage == Stage::kEnded);
    const std::string after = wrong.Say("15/03/1985");
    CHECK(wrong.Find<Verified>() == nullptr);
    CHECK_FALSE(Contains(after, "$"));

    // A new conversation from a number already marked wrong starts ended.
    Chat again(Maria({Account(18, "A-1001", 1234567, 12)}));
    again.view.wrong_number = true;
    CHECK(Contains(again.Say("hola"), "No encontramos información"));
}

TEST_CASE("Dialog: with the CEP on, a receipt is checked by the bank first, not a person",
          "[dialogs][dialog][media]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.settings.confirm_receipts = true;
    chat.Verify();
    const std::string reply = chat.Send("image", "ya pagué");
    // Nothing for a person yet: the media worker confirms it or hands it over.
    CHECK(chat.Find<Escalated>() == nullptr);
    CHECK(Contains(reply, "recibimos tu comprobante"));
    CHECK(Contains(reply, "confirmando con el banco"));
    CHECK(chat.view.state.stage == Stage::kReady);
    // Before the check it still waits for the date of birth, then says the same.
    Chat early(Maria({Account(18, "A-1001", 1234567, 12)}));
    early.settings.confirm_receipts = true;
    CHECK(Contains(early.Send("image"), "fecha de nacimiento"));
    const std::string verified = early.Say("15/03/1985");
    REQUIRE(early.Find<Verified>() != nullptr);
    CHECK(early.Find<Escalated>() == nullptr);
    CHECK(Contains(verified, "confirmando con el banco"));
}

TEST_CASE("Dialog: a receipt goes to a person who checks it, and before the check it waits",
          "[dialogs][dialog][media]") {
    {
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
        chat.Verify();
        const std::string reply = chat.Send("image", "ya pagué, aquí está");
        REQUIRE(chat.Find<Escalated>() != nullptr);
        CHECK(chat.Find<Escalated>()->reason == "receipt_review");
        CHECK(Contains(reply, "recibimos tu comprobante"));
        CHECK(Contains(reply, "lo revisará"));
        CHECK(chat.view.state.stage == Stage::kReady);
        // A PDF too, with no caption at all.
        chat.Send("document");
        REQUIRE(chat.Find<Escalated>() != nullptr);
        CHECK(chat.Find<Escalated>()->reason == "receipt_review");
    }
    {
        // Sent before the identity check: kept, nothing said about a debt, and sent to a person
        // as soon as the check passes.
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
        const std::string first = chat.Send("image");
        CHECK(Contains(first, "fecha de nacimiento"));
        CHECK_FALSE(Contains(first, "$"));
        CHECK(chat.Find<Escalated>() == nullptr);
        const std::string again = chat.Send("document");
        CHECK(Contains(again, "guardamos tu comprobante"));
        CHECK(chat.Find<Escalated>() == nullptr);
        const std::string verified = chat.Say("15/03/1985");
        REQUIRE(chat.Find<Verified>() != nullptr);
        REQUIRE(chat.Find<Escalated>() != nullptr);
        CHECK(chat.Find<Escalated>()->reason == "receipt_review");
        CHECK(Contains(verified, "recibimos tu comprobante"));
    }
    {
        // "BAJA" as a caption still opts out.
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
        chat.Verify();
        chat.Send("image", "BAJA");
        CHECK(chat.Find<OptedOut>() != nullptr);
        CHECK(chat.Find<Escalated>() == nullptr);
    }
}

TEST_CASE("Dialog: voice notes are answered once, kept, and the third goes to a person",
          "[dialogs][dialog][media]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    const std::string first = chat.Send("audio");
    CHECK(Contains(first, "no puedo escuchar audios"));
    CHECK(Contains(first, "[Ver saldo]"));
    CHECK(chat.Find<Escalated>() == nullptr);
    CHECK(chat.Send("audio").empty());  // said once
    const std::string third = chat.Send("video");
    REQUIRE(chat.Find<Escalated>() != nullptr);
    CHECK(chat.Find<Escalated>()->reason == "voice_notes");
    CHECK(Contains(third, "escuchará tus audios"));
    CHECK(chat.Send("audio").empty());
    // Not misunderstood: two words the bot does not get, then the third escalates as usual.
    CHECK(chat.view.state.misunderstood == 0);

    // A first message that is a voice note: greeted, told, and asked for the date of birth.
    Chat fresh(Maria({Account(18, "A-1001", 1234567, 12)}));
    const std::string hello = fresh.Send("audio");
    CHECK(Contains(hello, "no puedo escuchar audios"));
    CHECK(Contains(hello, "Financiera Prueba"));
    CHECK(Contains(hello, "fecha de nacimiento"));
    CHECK_FALSE(Contains(hello, "$"));
    CHECK(fresh.view.state.stage == Stage::kVerifying);
}

TEST_CASE("Dialog: stickers, reactions, locations and contacts are never misunderstood",
          "[dialogs][dialog][media]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    chat.Say("xyzzy qwerty");
    chat.Say("blorp zzz");
    CHECK(chat.view.state.misunderstood == 2);
    for (const char* kind : {"sticker", "reaction", "location", "contacts", "unsupported"}) {
        INFO(kind);
        CHECK(chat.Send(kind).empty());
        CHECK(chat.Find<Escalated>() == nullptr);
        CHECK(chat.view.state.misunderstood == 2);
    }
    chat.Say("flurb");
    REQUIRE(chat.Find<Escalated>() != nullptr);
    CHECK(chat.Find<Escalated>()->reason == "not_understood");

    // A sticker as the very first message is greeted like a "hola".
    Chat fresh(Maria({Account(18, "A-1001", 1234567, 12)}));
    CHECK(Contains(fresh.Send("sticker"), "fecha de nacimiento"));
}

TEST_CASE("Dialog: three misunderstood messages in a row escalate", "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    CHECK(Contains(chat.Say("jajaja"), "no entendí"));
    CHECK(Contains(chat.Say("asdfgh"), "no entendí"));
    chat.Say("cuanto debo");  // understood: the count starts over
    chat.Say("jajaja");
    chat.Say("qwerty");
    CHECK(chat.Find<Escalated>() == nullptr);
    chat.Say("zzzz");
    REQUIRE(chat.Find<Escalated>() != nullptr);
    CHECK(chat.Find<Escalated>()->reason == "not_understood");
}

TEST_CASE("Dialog: idle conversations start over, verification lasts 24 hours",
          "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    chat.Say("te pago 2000");
    CHECK(chat.view.state.stage == Stage::kPromise);
    chat.now += 31min;
    chat.Say("hola");
    CHECK(chat.view.state.stage == Stage::kReady);  // still verified, the half promise is gone
    CHECK_FALSE(chat.view.state.amount_cents.has_value());
    chat.now += 24h;
    CHECK(Contains(chat.Say("cuanto debo"), "fecha de nacimiento"));
}

TEST_CASE("Dialog: English for en-US debtors", "[dialogs][dialog]") {
    auto usd = Account(18, "A-2001", 50000, 3);
    usd.balance.currency = "USD";
    DebtorView john = Maria({usd});
    john.name = "John Smith";
    john.locale = "en-US";
    Chat chat(john);
    CHECK(Contains(chat.Say("hi"), "date of birth"));
    CHECK(Contains(chat.Say("March 15 1985"), "Thank you, John"));
    CHECK(Contains(chat.Say("how much do I owe?"), "Account A-2001: $500.00, was due"));
    CHECK(Contains(chat.Say("I'll pay 200 on friday"), "You would pay $200.00 on Friday"));
}

TEST_CASE("Dialog: the state survives its JSON, and bad JSON starts over", "[dialogs][dialog]") {
    Chat chat(Maria({Account(18, "A-1001", 1000000, 75)}));
    chat.Verify();
    chat.Say("quiero un convenio");
    const DialogState& state = chat.view.state;
    CHECK(DialogStateFromJson(ToJson(state)) == state);
    CHECK(DialogStateFromJson("not json").stage == Stage::kNew);
    CHECK(DialogStateFromJson(R"({"stage": 7, "options": "x"})").stage == Stage::kNew);
}

// Property: before the identity check passes, whatever the debtor writes, no reply holds an
// amount, a reference, a CLABE or a word for debt.
TEST_CASE("Dialog: nothing about a debt before verification (random conversations)",
          "[dialogs][dialog]") {
    const std::vector<std::string> messages = {"hola",
                                               "cuanto debo",
                                               "mi saldo",
                                               "referencia",
                                               "como pago",
                                               "te pago 2000 el viernes",
                                               "quiero un descuento",
                                               "2",
                                               "1",
                                               "5",
                                               "si",
                                               "no",
                                               "01/01/1990",
                                               "15/03/1986",
                                               "ya pague",
                                               "no reconozco la deuda",
                                               "asesor",
                                               "jajaja",
                                               "ayuda",
                                               "",
                                               "todo",
                                               "How much do I owe?",
                                               "balance",
                                               "STOP",
                                               "ALTA",
                                               "menu",
                                               "3",
                                               "4",
                                               "gracias"};
    const std::vector<std::string> forbidden = {"$",
                                                "deuda",
                                                "saldo",
                                                "adeudo",
                                                "atraso",
                                                "debt",
                                                "balance",
                                                "past due",
                                                "CLABE",
                                                "646180110400000007",
                                                *PaymentReference(18),
                                                "12,345",
                                                "A-1001"};
    std::mt19937 random(20261123);
    for (int run = 0; run < 300; ++run) {
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}), run % 2 == 0 ? "whatsapp" : "sms");
        if (run % 3 == 0) {
            chat.view.debtor->locale = "en-US";
        }
        for (int turn = 0; turn < 12; ++turn) {
            const std::string& text = messages[random() % messages.size()];
            const std::string reply = chat.Say(text);
            if (chat.Find<Verified>() != nullptr) {
                break;  // cannot happen with these messages; checked below
            }
            for (const std::string& word : forbidden) {
                INFO("run " << run << " turn " << turn << " said '" << text << "' -> " << reply);
                CHECK_FALSE(Contains(reply, word));
            }
        }
        CHECK(chat.Find<Verified>() == nullptr);
    }
}

// Property: after verification, the first line of every reply is neutral (lock screens).
TEST_CASE("Dialog: no reply's first line shows money (random verified conversations)",
          "[dialogs][dialog]") {
    const std::vector<std::string> messages = {"cuanto debo",
                                               "referencia",
                                               "te pago 2000 el viernes",
                                               "si",
                                               "no",
                                               "quiero un convenio",
                                               "1",
                                               "2",
                                               "3",
                                               "en 6 pagos",
                                               "te ofrezco 9 mil",
                                               "todo el 25",
                                               "ya pague",
                                               "ayuda",
                                               "gracias",
                                               "jajaja",
                                               "te pago 100 mañana",
                                               "te pago 2000 el 15/01"};
    std::mt19937 random(7);
    for (int run = 0; run < 200; ++run) {
        Chat chat(Maria({Account(18, "A-1001", 1000000, 75), Account(26, "A-1002", 50000, 3)}));
        chat.Verify();
        for (int turn = 0; turn < 10; ++turn) {
            chat.Say(messages[random() % messages.size()]);
            for (const std::string& text : chat.texts) {
                const std::string first = text.substr(0, text.find('\n'));
                INFO(first);
                CHECK(first.find('$') == std::string::npos);
            }
        }
    }
}

}  // namespace
}  // namespace cobrador::dialogs

namespace cobrador::dialogs {
namespace {

TEST_CASE("Policy: the default parses, bad files are refused with the reason",
          "[dialogs][policy]") {
    const Policy& policy = DefaultPolicy();
    REQUIRE(policy.buckets.size() == 6);
    CHECK(BucketFor(policy, 0).name == "current");
    CHECK(BucketFor(policy, 75).max_discount_bp == 1500);
    CHECK(BucketFor(policy, 75).min_installment_cents == 20000);
    CHECK_FALSE(BucketFor(policy, 400).bot_approves);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"[]", "not a JSON object"},
        {"{}", "buckets"},
        {R"({"buckets":[{"min_days_past_due":5}]})", "start at min_days_past_due 0"},
        {R"({"buckets":[{"min_days_past_due":0,"max_discount_pct":150}]})", "percentages"},
        {R"({"buckets":[{"min_days_past_due":0,"min_installment":200}]})", "decimal string"},
        {R"({"buckets":[{"min_days_past_due":0},{"min_days_past_due":0}]})", "same"},
        {R"({"promise_horizon_days":0,"buckets":[{"min_days_past_due":0}]})", "horizon"},
    };
    for (const auto& [json, reason] : bad) {
        std::string error;
        INFO(json);
        CHECK_FALSE(ParsePolicy(json, error).has_value());
        CHECK(error.find(reason) != std::string::npos);
    }
}

}  // namespace
}  // namespace cobrador::dialogs

namespace cobrador::dialogs {
namespace {

TEST_CASE("HandBack: verification and a lock stand, a half-made promise or offer does not",
          "[dialogs][dialog]") {
    DialogState state;
    state.stage = Stage::kConfirmPromise;
    state.verified_until = Instant{std::chrono::hours(1000)};
    state.misunderstood = 2;
    state.amount_cents = 200000;
    state.options = {"yes", "no"};
    const DialogState back = HandBack(state);
    CHECK(back.stage == Stage::kReady);
    CHECK(back.verified_until == state.verified_until);
    CHECK(back.misunderstood == 0);
    CHECK_FALSE(back.amount_cents);
    CHECK(back.options.empty());

    DialogState locked;
    locked.stage = Stage::kLocked;
    CHECK(HandBack(locked).stage == Stage::kLocked);
    DialogState fresh;
    CHECK(HandBack(fresh).stage == Stage::kNew);
}

}  // namespace
}  // namespace cobrador::dialogs

// --- where rows go: jump to a stage, send one message, check the stage the row leaves ---

namespace cobrador::dialogs {
namespace {

// A verified conversation put straight into `stage`, its last message a minute ago.
Chat At(Stage stage, std::vector<AccountView> accounts = {Account(18, "A-1001", 1000000, 75)}) {
    Chat chat(Maria(std::move(accounts)));
    chat.view.state.stage = stage;
    chat.view.state.verified_until = kNoon + 23h;
    chat.view.state.last_activity = kNoon - 1min;
    return chat;
}

// ... asked "¿es correcto?" about 1,500 on Friday for account 18.
Chat ConfirmingPromise() {
    Chat chat = At(Stage::kConfirmPromise);
    chat.view.state.account_id = 18;
    chat.view.state.amount_cents = 150000;
    chat.view.state.date = *ParseIsoDate("2026-11-27");
    chat.view.state.options = {"yes", "no"};
    return chat;
}

// ... asked to confirm the 61-90 bucket's settlement for account 18.
Chat ConfirmingSettlement() {
    Chat chat = At(Stage::kConfirmPlan);
    chat.view.state.account_id = 18;
    chat.view.state.plan = PendingPlan{"settlement", 850000, 150000, 0, 0, 0};
    chat.view.state.options = {"yes", "no"};
    return chat;
}

TEST_CASE("Dialog rows: answers to a confirmation go where the table says", "[dialogs][dialog]") {
    Chat yes = ConfirmingPromise();
    yes.Say("si");
    CHECK(yes.Find<PromiseMade>() != nullptr);
    CHECK(yes.view.state.stage == Stage::kReady);  // PromiseComplete -> RecordPromise -> ready

    Chat gone = ConfirmingPromise();
    gone.view.state.account_id = 99;  // the account is no longer in the view
    CHECK(Contains(gone.Say("si"), "¿Qué quieres hacer?"));
    CHECK(gone.Find<PromiseMade>() == nullptr);
    CHECK(gone.view.state.stage == Stage::kConfirmPromise);  // ForgetAndShowMenu -> (same)
    CHECK_FALSE(gone.view.state.amount_cents.has_value());

    Chat no = ConfirmingPromise();
    no.Say("no");
    CHECK(no.view.state.stage == Stage::kPromise);  // AskPromiseAgain -> promise
    CHECK_FALSE(no.view.state.amount_cents.has_value());

    Chat help = ConfirmingPromise();
    help.Say("ayuda");
    CHECK(help.view.state.stage == Stage::kConfirmPromise);  // ShowMenu -> (same)

    Chat plan = ConfirmingSettlement();
    plan.Say("si");
    CHECK(plan.Find<PlanAgreed>() != nullptr);
    CHECK(plan.view.state.stage == Stage::kReady);  // PlanComplete -> RecordPlan -> ready

    Chat offers = ConfirmingSettlement();
    CHECK(Contains(offers.Say("no"), "Estas son las opciones"));
    CHECK(offers.view.state.stage == Stage::kNegotiating);  // ShowOffers picks negotiating
}

TEST_CASE("Dialog rows: actions that pick their stage pick one the table lists",
          "[dialogs][dialog]") {
    // TakePromise: ready, promise or confirm_promise.
    Chat promise = At(Stage::kReady);
    promise.Say("te pago 2000");
    CHECK(promise.view.state.stage == Stage::kPromise);  // the date is missing
    promise.Say("el viernes");
    CHECK(promise.view.state.stage == Stage::kConfirmPromise);
    auto promised = Account(18, "A-1001", 1000000, 75);
    promised.open_promise = PromiseView{{200000, "MXN"}, *ParseIsoDate("2026-11-27")};
    Chat open = At(Stage::kReady, {promised});
    open.Say("te pago 500 mañana");
    CHECK(open.view.state.stage == Stage::kReady);  // one open promise per account

    // ShowOffers: ready or negotiating.
    Chat offers = At(Stage::kReady);
    offers.Say("quiero un convenio");
    CHECK(offers.view.state.stage == Stage::kNegotiating);
    auto planned = Account(18, "A-1001", 1000000, 75);
    planned.active_plan = true;
    Chat active = At(Stage::kReady, {planned});
    active.Say("quiero un convenio");
    CHECK(active.view.state.stage == Stage::kReady);

    // AcceptSettlement: confirm_plan when the offer is there, the offers again when it is not.
    Chat accept = At(Stage::kNegotiating);
    accept.view.state.account_id = 18;
    accept.view.state.settlement = PendingPlan{"settlement", 850000, 150000, 0, 0, 0};
    accept.Say("", "accept_settlement");
    CHECK(accept.view.state.stage == Stage::kConfirmPlan);
    Chat stale = At(Stage::kNegotiating);
    stale.Say("", "accept_settlement");
    CHECK(stale.view.state.stage == Stage::kNegotiating);

    // CounterOffer: confirm_plan inside the policy, ready (escalated) outside it, and the whole
    // balance is a promise.
    Chat counter = At(Stage::kNegotiating);
    counter.Say("puedo en 6 pagos?");
    CHECK(counter.view.state.stage == Stage::kConfirmPlan);
    Chat outside = At(Stage::kNegotiating);
    outside.Say("les ofrezco 5 mil y quedamos a mano");
    CHECK(outside.Find<Escalated>() != nullptr);
    CHECK(outside.view.state.stage == Stage::kReady);
    Chat whole = At(Stage::kNegotiating);
    whole.Say("te ofrezco 10 mil");
    CHECK(whole.view.state.stage == Stage::kPromise);
}

TEST_CASE("Dialog rows: the identity check", "[dialogs][dialog]") {
    Chat fail = At(Stage::kVerifying);
    fail.view.state.verified_until.reset();
    fail.Say("01/01/1990");
    CHECK(fail.view.state.stage == Stage::kVerifying);  // WroteADate -> FailVerification
    CHECK(fail.Find<Locked>() == nullptr);

    Chat last = At(Stage::kVerifying);
    last.view.state.verified_until.reset();
    last.view.state.failed_verifications = 2;
    last.Say("01/01/1990");
    CHECK(last.view.state.stage == Stage::kLocked);  // LastWrongDate -> LockOut -> locked
    REQUIRE(last.Find<Locked>() != nullptr);
    CHECK(last.Find<VerificationFailed>()->failures == 3);

    Chat human = At(Stage::kVerifying);
    human.view.state.verified_until.reset();
    human.Say("quiero hablar con un asesor");
    CHECK(human.Find<Escalated>() != nullptr);
    CHECK(human.view.state.stage == Stage::kVerifying);  // NotVerified -> EscalateHuman

    Chat odd = At(Stage::kVerifying);  // verified while verifying: only a stored state says so
    odd.Say("quiero hablar con un asesor");
    CHECK(odd.view.state.stage == Stage::kReady);  // IsVerified -> EscalateHuman -> ready
}

TEST_CASE("Dialog rows: misunderstood messages count in a row, the last escalates",
          "[dialogs][dialog]") {
    Chat once = At(Stage::kReady);
    once.view.state.misunderstood = 1;
    once.Say("jajaja");
    CHECK(once.view.state.misunderstood == 2);  // NotUnderstood keeps the count
    CHECK(once.view.state.stage == Stage::kReady);

    Chat last = At(Stage::kPromise);
    last.view.state.misunderstood = 2;
    last.Say("jajaja");
    REQUIRE(last.Find<Escalated>() != nullptr);
    CHECK(last.Find<Escalated>()->reason == "not_understood");
    CHECK(last.view.state.misunderstood == 0);
    CHECK(last.view.state.stage == Stage::kReady);  // MisunderstoodTooOften -> ready

    Chat other = At(Stage::kReady);
    other.view.state.misunderstood = 2;
    other.Say("cuanto debo");
    CHECK(other.view.state.misunderstood == 0);  // every other row resets it
}

// Before every message. "BAJA" runs OptOut, which stays where it is, so the stage seen after it
// is the one the rules before the message left.
TEST_CASE("Dialog rows: before every message, time passing moves the stage", "[dialogs][dialog]") {
    Chat lapsed = ConfirmingPromise();
    lapsed.view.state.verified_until = kNoon - 1min;
    lapsed.Say("BAJA");
    CHECK(lapsed.view.state.stage == Stage::kNew);  // VerificationRanOut -> new
    CHECK_FALSE(lapsed.view.state.verified_until.has_value());
    CHECK_FALSE(lapsed.view.state.amount_cents.has_value());
    Chat asked = ConfirmingPromise();
    asked.view.state.verified_until = kNoon - 1min;
    CHECK(Contains(asked.Say("si"), "fecha de nacimiento"));  // then new -> AskBirthDate
    CHECK(asked.view.state.stage == Stage::kVerifying);
    CHECK(asked.Find<PromiseMade>() == nullptr);

    Chat locked = At(Stage::kLocked);
    locked.view.state.verified_until = kNoon - 1min;
    locked.view.state.locked_until = kNoon + 1h;
    locked.Say("BAJA");
    CHECK(locked.view.state.stage == Stage::kLocked);  // the verification goes, the lock stays
    CHECK_FALSE(locked.view.state.verified_until.has_value());

    Chat unlocked = At(Stage::kLocked);
    unlocked.view.state.verified_until.reset();
    unlocked.view.state.locked_until = kNoon - 1min;
    unlocked.view.state.failed_verifications = 3;
    unlocked.Say("BAJA");
    CHECK(unlocked.view.state.stage == Stage::kNew);  // LockRanOut -> Unlock -> new
    CHECK(unlocked.view.state.failed_verifications == 0);
    CHECK_FALSE(unlocked.view.state.locked_until.has_value());

    Chat idle = ConfirmingPromise();
    idle.view.state.last_activity = kNoon - 31min;
    idle.view.state.misunderstood = 2;
    idle.Say("BAJA");
    CHECK(idle.view.state.stage == Stage::kReady);  // IdleAndVerified -> StartOver -> ready
    CHECK_FALSE(idle.view.state.amount_cents.has_value());
    CHECK(idle.view.state.last_activity == kNoon);  // NoteActivity

    Chat idle_new = At(Stage::kVerifying);
    idle_new.view.state.verified_until.reset();
    idle_new.view.state.last_activity = kNoon - 2h;
    idle_new.Say("BAJA");
    CHECK(idle_new.view.state.stage == Stage::kNew);  // IdleNotVerified -> StartOver -> new

    Chat wrong = At(Stage::kNew);
    wrong.view.state.verified_until.reset();
    wrong.view.wrong_number = true;
    wrong.Say("BAJA");
    CHECK(wrong.view.state.stage == Stage::kEnded);  // MarkedWrongNumber -> ended
}

// --- Disputes, complaints and privacy requests (docs/cases.md) ---

TEST_CASE("Dialog: a dispute opens a complaint case with its category, folio and due date",
          "[dialogs][dialog][cases]") {
    const std::vector<std::pair<std::string, std::string>> said = {
        {"yo no reconozco esa deuda", "not_mine"},
        {"ya pagué y me siguen cobrando", "already_paid"},
        {"me están acosando, llaman a mi trabajo", "treatment"},
        {"me robaron la identidad, nunca saqué ese crédito", "identity_theft"},
        {"el monto está mal, yo debía menos", "wrong_amount"},
        {"no estoy de acuerdo, voy a poner una queja en condusef", "other"},
    };
    for (const auto& [text, category] : said) {
        INFO(text);
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
        chat.Verify();
        const std::string reply = chat.Say(text);
        const auto* opened = chat.Find<CaseOpened>();
        REQUIRE(opened != nullptr);
        CHECK(opened->kind == "complaint");
        CHECK(opened->category == category);
        CHECK(opened->account_id == 18);  // the only account
        CHECK(opened->description == text);
        // 30 business days from Monday 2026-11-23: 25 December and 1 January are not counted.
        CHECK(FormatIsoDate(opened->due) == "2027-01-06");
        REQUIRE(chat.Find<Escalated>() != nullptr);
        CHECK(chat.Find<Escalated>()->reason == "dispute");
        // The store puts the folio where the placeholder is.
        CHECK(Contains(reply, std::string(kFolioArg)));
        CHECK(Contains(reply, "enero de 2027"));
        CHECK(Contains(reply, "no te enviaremos recordatorios de pago de la cuenta A-1001"));
        CHECK(Contains(reply, category == "treatment" ? "tu queja" : "tu aclaración"));
    }
}

TEST_CASE("Dialog: a dispute by a debtor with several accounts covers all of them",
          "[dialogs][dialog][cases]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12), Account(19, "A-1002", 50000, 3)}));
    chat.Verify();
    const std::string reply = chat.Say("ese cobro es indebido, no me corresponde");
    REQUIRE(chat.Find<CaseOpened>() != nullptr);
    CHECK(chat.Find<CaseOpened>()->account_id == 0);
    CHECK(Contains(reply, "de tus cuentas"));
}

TEST_CASE("Dialog: a dispute before the identity check is opened once the check passes",
          "[dialogs][dialog][cases]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    const std::string first = chat.Say("no reconozco esa deuda");
    CHECK(chat.Find<CaseOpened>() == nullptr);
    CHECK(Contains(first, "fecha de nacimiento"));
    CHECK_FALSE(Contains(first, "A-1001"));
    const std::string after = chat.Say("15/03/1985");
    REQUIRE(chat.Find<Verified>() != nullptr);
    REQUIRE(chat.Find<CaseOpened>() != nullptr);
    CHECK(chat.Find<CaseOpened>()->category == "not_mine");
    CHECK(Contains(after, std::string(kFolioArg)));
}

TEST_CASE("Dialog: privacy requests get a folio, 20 business days, and stop messages when asked",
          "[dialogs][dialog][cases]") {
    struct Expect {
        std::string text;
        std::string right;
        bool opts_out;
    };

    for (const Expect& e : std::vector<Expect>{
             {"quiero saber qué datos míos tienen", "access", false},
             {"corrijan mis datos, mi nombre está mal escrito", "rectification", false},
             {"borren mis datos", "cancellation", true},
             {"no usen mis datos personales", "opposition", true}}) {
        INFO(e.text);
        Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
        chat.settings.privacy_url = "https://financiera.example/privacidad";
        chat.Verify();
        const std::string reply = chat.Say(e.text);
        const auto* opened = chat.Find<CaseOpened>();
        REQUIRE(opened != nullptr);
        CHECK(opened->kind == "privacy");
        CHECK(opened->category == e.right);
        CHECK(opened->account_id == 0);
        CHECK(FormatIsoDate(opened->due) == FormatIsoDate(AddBusinessDays(kToday, 20)));
        CHECK((chat.Find<OptedOut>() != nullptr) == e.opts_out);
        CHECK(chat.Find<Escalated>()->reason == "privacy");
        CHECK(Contains(reply, std::string(kFolioArg)));
        CHECK(Contains(reply, "https://financiera.example/privacidad"));
        CHECK(Contains(reply, "no te enviaremos mensajes por este medio") == e.opts_out);
    }
}

TEST_CASE("Dialog: before the check, an opposition opts out and the notice is linked, nothing more",
          "[dialogs][dialog][cases]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.settings.privacy_url = "https://financiera.example/privacidad";
    const std::string first = chat.Say("hola");
    // First contact links the notice and still says nothing about a debt.
    CHECK(Contains(first, "Aviso de privacidad: https://financiera.example/privacidad"));
    CHECK_FALSE(Contains(first, "$"));
    const std::string notice = chat.Say("dónde está su aviso de privacidad?");
    CHECK(Contains(notice, "https://financiera.example/privacidad"));
    CHECK(chat.commands.empty());
    chat.Say("borren mis datos");
    CHECK(chat.Find<OptedOut>() != nullptr);
    CHECK(chat.Find<CaseOpened>() == nullptr);

    // Without a notice configured, first contact says nothing of one.
    Chat plain(Maria({Account(18, "A-1001", 1234567, 12)}));
    CHECK_FALSE(Contains(plain.Say("hola"), "privacidad"));
}

TEST_CASE("Dialog: asked again while a case is open, the bot names it instead of opening another",
          "[dialogs][dialog][cases]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Verify();
    chat.view.open_cases.push_back(
        {"complaint", "not_mine", "Q-2026-000007", *ParseIsoDate("2027-01-06")});
    const std::string reply = chat.Say("les digo que no reconozco esa deuda");
    CHECK(chat.Find<CaseOpened>() == nullptr);
    REQUIRE(chat.Find<Escalated>() != nullptr);
    CHECK(Contains(reply, "Tu folio Q-2026-000007 sigue abierto"));
    // A privacy request is another matter: it opens its own case.
    chat.Say("quiero saber qué datos míos tienen");
    REQUIRE(chat.Find<CaseOpened>() != nullptr);
    CHECK(chat.Find<CaseOpened>()->kind == "privacy");
}

TEST_CASE("Dialog: a dispute said before the check keeps its words through the stored state",
          "[dialogs][dialog][cases]") {
    Chat chat(Maria({Account(18, "A-1001", 1234567, 12)}));
    chat.Say("no reconozco esa deuda, yo nunca firmé nada");
    // The ledger stores the state as JSON between messages.
    chat.view.state = DialogStateFromJson(ToJson(chat.view.state));
    chat.Say("15/03/1985");
    REQUIRE(chat.Find<CaseOpened>() != nullptr);
    CHECK(chat.Find<CaseOpened>()->category == "not_mine");
    CHECK(chat.Find<CaseOpened>()->description == "no reconozco esa deuda, yo nunca firmé nada");
}

}  // namespace
}  // namespace cobrador::dialogs
