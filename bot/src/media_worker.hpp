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

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

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

private:
    boost::asio::awaitable<bool> Pass();
    boost::asio::awaitable<void> Fetch(const store::MediaJob& job);
    // The bytes of `job` from its provider: a FetchedMedia when that is settled (stored, or why
    // it never will be), nullopt with `error` when it is worth trying again.
    boost::asio::awaitable<std::optional<store::FetchedMedia>> Download(const store::MediaJob& job,
                                                                        std::string& error);

    Services& s_;
    PollingLoop loop_;
    HttpClient client_;
};

}  // namespace cobrador::bot
