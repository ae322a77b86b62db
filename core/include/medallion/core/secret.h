// SecretBytes: key material in sodium-allocated, locked memory, wiped on destruction.
//
// Not copyable (Clone() is explicit), no stream operator, and the bytes are reachable only
// through Reveal(), so every use of a secret can be found with `grep Reveal`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "medallion/core/bytes.h"

namespace medallion {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);  // zero-filled
  // Copies `data` into secret memory. The caller wipes its own copy.
  static SecretBytes CopyFrom(ByteView data);
  ~SecretBytes();

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  SecretBytes Clone() const { return CopyFrom(Reveal()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  std::span<const uint8_t> Reveal() const { return {data_, size_}; }
  std::span<uint8_t> RevealMutable() { return {data_, size_}; }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Wipes a buffer the compiler cannot optimise the wipe away from (sodium_memzero).
void SecureWipe(void* data, size_t size);

// Wipes a fixed-size buffer of key material (a std::array, a std::vector) when it goes out of
// scope, on every return path. Holds a reference: `buffer` must outlive the guard.
template <typename Buffer>
class ScopedWipe {
 public:
  explicit ScopedWipe(Buffer& buffer) : buffer_(buffer) {}
  ~ScopedWipe() { SecureWipe(buffer_.data(), buffer_.size() * sizeof(*buffer_.data())); }
  ScopedWipe(const ScopedWipe&) = delete;
  ScopedWipe& operator=(const ScopedWipe&) = delete;

 private:
  Buffer& buffer_;
};

// A std::string that wipes its whole buffer (capacity, not only size) on destruction
// (passphrases, mnemonics). Moving wipes the moved-from buffer too: a short string lives inside
// the std::string object (small-string optimisation), so a move copies it and would otherwise
// leave the bytes behind. Appending through RevealMutable() may reallocate and leave an unwiped
// copy in freed memory: reserve() the final size first.
class SecretString {
 public:
  SecretString() = default;
  // Takes `s`'s buffer and wipes what is left in `s`.
  explicit SecretString(std::string&& s) noexcept : s_(std::move(s)) { WipeString(s); }
  ~SecretString() { WipeString(s_); }
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& o) noexcept : s_(std::move(o.s_)) { WipeString(o.s_); }
  SecretString& operator=(SecretString&& o) noexcept {
    if (this != &o) {
      WipeString(s_);
      s_ = std::move(o.s_);
      WipeString(o.s_);
    }
    return *this;
  }
  const std::string& Reveal() const { return s_; }
  std::string& RevealMutable() { return s_; }
  bool empty() const { return s_.empty(); }

  // Wipes every byte of `s`'s buffer, up to its capacity, and empties it (keeps the buffer).
  static void WipeString(std::string& s) noexcept;

 private:
  std::string s_;
};

}  // namespace medallion
