#include "channels/signature.hpp"

#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace cobrador::channels {

namespace {

std::string Hex(const unsigned char* data, unsigned int size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(static_cast<std::size_t>(size) * 2);
    for (unsigned int i = 0; i < size; ++i) {
        out += kDigits[data[i] >> 4];
        out += kDigits[data[i] & 0x0f];
    }
    return out;
}

std::string Hmac(const EVP_MD* md, std::string_view key, std::string_view message, bool base64) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    HMAC(md,
         key.data(),
         static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()),
         message.size(),
         mac.data(),
         &size);
    if (!base64) {
        return Hex(mac.data(), size);
    }
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> text{};
    const int length = EVP_EncodeBlock(text.data(), mac.data(), static_cast<int>(size));
    return std::string(reinterpret_cast<const char*>(text.data()),
                       static_cast<std::size_t>(length));
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
    return Hmac(EVP_sha256(), key, message, false);
}

std::string HmacSha1Base64(std::string_view key, std::string_view message) {
    return Hmac(EVP_sha1(), key, message, true);
}

std::string Sha256Hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
    return Hex(digest.data(), size);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool VerifySha256Header(std::string_view key, std::string_view body, std::string_view header) {
    constexpr std::string_view kPrefix = "sha256=";
    if (key.empty() || header.substr(0, kPrefix.size()) != kPrefix) {
        return false;
    }
    return ConstantTimeEquals(header.substr(kPrefix.size()), HmacSha256Hex(key, body));
}

std::string NewToken() {
    // 32 bytes from OpenSSL's CSPRNG (seeded by the kernel), hex.
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        return {};
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token = "cbr_";
    for (const unsigned char b : bytes) {
        token += kHex[b >> 4];
        token += kHex[b & 0x0f];
    }
    return token;
}

}  // namespace cobrador::channels
