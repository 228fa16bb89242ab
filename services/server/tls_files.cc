#include "services/server/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace pstrack {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio ReadOnlyBio(absl::string_view pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

// The first certificate of `pem`, and how many there are.
std::unique_ptr<X509, X509Free> FirstCertificate(absl::string_view pem, int* count) {
  Bio bio = ReadOnlyBio(pem);
  std::unique_ptr<X509, X509Free> first;
  *count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (*count == 0) {
      first.reset(cert);
    } else {
      X509_free(cert);
    }
    ++*count;
  }
  ERR_clear_error();  // the loop ends on "no start line"
  return first;
}

}  // namespace

absl::Status CheckCertificates(absl::string_view pem, absl::string_view path, absl::string_view what) {
  int count = 0;
  if (!FirstCertificate(pem, &count) || count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "' holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyPair(absl::string_view cert_pem, absl::string_view cert_path, absl::string_view key_pem,
                          absl::string_view key_path) {
  int count = 0;
  std::unique_ptr<X509, X509Free> cert = FirstCertificate(cert_pem, &count);
  if (!cert) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS certificate '", cert_path, "' holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)"));
  }
  Bio bio = ReadOnlyBio(key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat("TLS private key '", key_path,
                                                   "' holds no unencrypted PEM private key (expected -----BEGIN "
                                                   "PRIVATE KEY----- or a key without a passphrase)"));
  }
  const int matches = X509_check_private_key(cert.get(), key.get());
  ERR_clear_error();
  if (matches != 1) {
    return absl::InvalidArgumentError(absl::StrCat("TLS private key '", key_path,
                                                   "' does not belong to the first certificate of '", cert_path,
                                                   "' (the certificate's public key is another)"));
  }
  return absl::OkStatus();
}

}  // namespace pstrack
