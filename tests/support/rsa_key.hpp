#pragma once
// An RSA key pair made for a test (like the one Conekta's POST /webhook_keys makes), its public
// key in PEM, and base64 RSA-SHA256 signatures (PKCS#1 v1.5) made with its private key.

#include <cstddef>
#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace cobrador::testing {

struct RsaKey {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_RSA_gen(2048), EVP_PKEY_free};

    std::string PublicPem() const {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
        PEM_write_bio_PUBKEY(bio.get(), key.get());
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(size));
    }

    std::string Sign(const std::string& body) const {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get());
        std::size_t size = 0;
        EVP_DigestSign(ctx.get(),
                       nullptr,
                       &size,
                       reinterpret_cast<const unsigned char*>(body.data()),
                       body.size());
        std::string signature(size, '\0');
        EVP_DigestSign(ctx.get(),
                       reinterpret_cast<unsigned char*>(signature.data()),
                       &size,
                       reinterpret_cast<const unsigned char*>(body.data()),
                       body.size());
        signature.resize(size);
        std::string out(4 * ((size + 2) / 3), '\0');
        const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(signature.data()),
                                      static_cast<int>(size));
        out.resize(static_cast<std::size_t>(n));
        return out;
    }
};

}  // namespace cobrador::testing
