#pragma once
// The files debtors send (receipts, voice notes; docs/media.md), fetched from the provider off
// the webhook's path and kept in the ledger, where every replica can serve them to collectors.
//
// WhatsApp: the Graph API is asked for the media id's short-lived URL, which is then fetched
// with the access token. Twilio: the MediaUrl is fetched with the account's credentials (a
// redirect to Twilio's storage is followed once, without them). A file over
// COBRADOR_MEDIA_MAX_BYTES is recorded as too large without being read; bytes that are not what
// the message said (an HTML page served as image/jpeg, a hash that does not match) are
// refused; a media id the provider no longer knows is recorded as expired. A fetch that fails
// otherwise is tried again later (5 s, doubling, at most an hour apart) and given up after about
// a day, logged and counted either way, never lost silently.
//
// A stored image or document is then read as a receipt (receipt_reader.hpp: OCR or a PDF's
// text layer, in a child process with limits) and what it says is kept for the person who
// checks it. Nothing is ever paid on a reading alone: with COBRADOR_CEP_BASE set, a SPEI
// receipt into one of the creditor's accounts is looked up with Banxico's CEP
// (receipt_check.hpp), trying the plausible readings of its clave de rastreo, and only the
// transfer the CEP confirms is applied as a payment (once per transfer, whoever reported it),
// with a thank-you. Whatever cannot be confirmed goes to a person, and the debtor is told.

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "http_client.hpp"
#include "polling_loop.hpp"
#include "services.hpp"

namespace cobrador::bot {

class MediaWorker {
public:
    MediaWorker(Services& services, boost::asio::io_context& ioc);

    void Start();
    void Wake();  // a message with files was handled: look now (thread-safe)
    void Stop();  // thread-safe
    ~MediaWorker();

private:
    boost::asio::awaitable<bool> Pass();
    boost::asio::awaitable<void> Fetch(const store::MediaJob& job);
    // Reads a stored receipt (OCR or a PDF's text, in a child process on the reader thread)
    // and keeps what it says for the person who checks it.
    boost::asio::awaitable<void> Read(const store::UnreadReceipt& receipt);
    // Looks a read receipt up with Banxico's CEP and settles it: a payment, or a person.
    boost::asio::awaitable<void> Confirm(const store::ReceiptCheckJob& job);
    // A receipt that will never be read (its file could not be fetched or kept) goes to a
    // person when receipts are confirmed automatically (the turn did not hand it over).
    boost::asio::awaitable<void> Unfetched(const store::MediaJob& job);
    // The bytes of `job` from its provider: a FetchedMedia when that is settled (stored, or why
    // it never will be), nullopt with `error` when it is worth trying again.
    boost::asio::awaitable<std::optional<store::FetchedMedia>> Download(const store::MediaJob& job,
                                                                        std::string& error);

    Services& s_;
    PollingLoop loop_;
    HttpClient client_;
    boost::asio::thread_pool reader_{1};  // one receipt read at a time, off the I/O threads
    std::string binary_;                  // this program, to run `read-receipt` as a child
    bool unrecorded_ = false;             // a reading this pass could not be kept
};

}  // namespace cobrador::bot
