#include "storage/active_users.hpp"

#include "storage/key_codec.hpp"

namespace engram::storage {

std::string active_user_key(std::string_view user) {
  return key_builder{}.str("active").str(user).bytes();
}

std::string active_user_prefix() {
  return key_builder{}.str("active").bytes();
}

std::optional<std::string> user_of_active_key(std::string_view key) {
  key_reader r{key};
  auto tag = r.str();
  auto user = r.str();
  if (!tag || *tag != "active" || !user || !r.done())
    return std::nullopt;
  return user;
}

} // namespace engram::storage
